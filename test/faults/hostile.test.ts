/**
 * Issue 4, point 5, end to end: every kind of bad input on the list, against the real broker and two
 * receiver groups (a directory sink and an S3 sink on s3rver), while a good transfer is open in both.
 * Each bad input must be dead-lettered with its reason (receiving side) or refused with a typed error
 * before anything is published (sending side); after each, both consumers must still serve (a probe
 * file goes through), and at the end the good transfer completes byte-identical.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import {
  ConfigError,
  FilepeerError,
  InvalidDestinationError,
  InvalidDomainError,
  MalformedPacketError,
  MAX_CHUNK_SIZE,
  MAX_META_BYTES,
  OversizeError,
  type Meta,
} from '../../shared/index.js';
import { drainDeadLetters, injectPackets, uniq, waitFor, type DeadLetter } from '../support/broker.js';
import { pseudoRandomBuffer, sha256Of } from '../support/data.js';
import { handMade, type HandMade } from '../support/packets.js';
import { useWorld } from '../support/world.js';
import { ABSOLUTE_TARGET, HOSTILE_CASES, type HostileCase } from './hostile-cases.js';
import { recordTally } from './ledger.js';
import { listFiles, listKeys } from './support/read-back.js';
import { directoryAndS3Receivers, probe as probeAll, removeReceivers, type Receiver } from './support/receivers.js';

const BUCKET = 'hostile';
const CHUNK = 64 * 1024;
const GOOD_CHUNKS = 24;
const GOOD_DESTINATION = 'good/in-flight.bin';

type ErrorClass = new (...args: never[]) => FilepeerError;

/** How many of `expected` a group's dead letters match, position by position. */
function refusalsMatched(dead: readonly DeadLetter[], c: HostileCase): number {
  return c.expect.filter(([reason, type], i) => {
    const d = dead[i];
    return d !== undefined && d.type === type && d.reason === reason;
  }).length;
}

/** A dead letter as a test message shows it. */
const shown = (d: DeadLetter): [string, string | undefined] => [d.byBroker ? `${d.reason} (by the broker, x-death)` : d.reason, d.type];

describe('faults, bad input: hostile packets and calls while a good transfer is in flight', () => {
  const world = useWorld([BUCKET]);
  const domain = uniq('hostile');
  // <domain>.# also catches a broadcast to <domain>.* or <domain>.#, should a sender ever let one out.
  const pattern = `${domain}.#`;
  const receivers: Receiver[] = [];
  const probes: string[] = [];
  let good: HandMade;

  before(async () => {
    good = handMade(pseudoRandomBuffer(GOOD_CHUNKS * CHUNK - 1000, 41), { domain, chunkSize: CHUNK, destination: GOOD_DESTINATION });
    receivers.push(...(await directoryAndS3Receivers(world, BUCKET, pattern)));
    // The good transfer opens in both receivers and stays open through every case below.
    await injectPackets(domain, [good.start, ...good.chunks.slice(0, GOOD_CHUNKS / 2)]);
    await waitFor('both receivers to open the good transfer', () => receivers.every((r) => r.sub.stats.inFlight === 1));
  });

  after(() => removeReceivers(receivers, pattern));

  /** A probe through both receivers (see probeAll), its destination remembered as expected. */
  function probe(): Promise<boolean> {
    const destination = `probes/probe-${probes.length + 1}.txt`;
    probes.push(destination);
    return probeAll(world.peer, receivers, domain, destination);
  }

  /** Deliveries that are neither a probe nor the good file: must stay empty. */
  const strays = (r: Receiver): string[] => r.delivered.filter((f) => f.token !== good.token && !probes.includes(f.destination)).map((f) => f.destination);

  for (const c of HOSTILE_CASES) {
    it(`receiving side, ${c.item}: ${c.name}`, async () => {
      for (const batch of c.batches(domain)) await injectPackets(batch.routingDomain, batch.packets);
      const served = await probe();
      const dead = new Map<Receiver, DeadLetter[]>();
      for (const r of receivers) dead.set(r, await drainDeadLetters(world.channel, r.group));
      // One bad input per expected dead letter, per receiver group; refused = dead-lettered as expected by a consumer that still serves.
      await recordTally({
        scenario: `hostile packets, ${c.item}: ${c.name} (directory and S3 receivers, a good transfer in flight)`,
        area: 'bad-input',
        badInputsTried: c.expect.length * receivers.length,
        badInputsRefused: served ? receivers.reduce((n, r) => n + refusalsMatched(dead.get(r)!, c), 0) : 0,
      });
      assert.ok(served, 'both consumers still serve: the probe sent after the bad input was delivered by each');
      for (const r of receivers) {
        const got = dead.get(r)!;
        assert.equal(refusalsMatched(got, c), c.expect.length, `${r.name}: expected ${JSON.stringify(c.expect)}, dead-lettered ${JSON.stringify(got.map(shown))}`);
        assert.equal(got.length, c.expect.length, `${r.name}: nothing else dead-lettered: ${JSON.stringify(got.map((d) => [...shown(d), d.messageId, d.detail]))}`);
        assert.deepEqual(strays(r), [], `${r.name}: nothing of the bad input was delivered`);
        assert.equal(r.sub.stats.inFlight, 1, `${r.name}: the good transfer is still open, and nothing of the case is`);
      }
    });
  }

  it('sending side: wildcard domains, escaping destinations and names, bad meta, sizes and tokens are typed errors and nothing is published', async () => {
    const one = [Buffer.from('x')];
    const send = (filename: string, options: Parameters<typeof world.peer.broadcastData>[2]) => () => world.peer.broadcastData(filename, one, options);
    const overhead = Buffer.byteLength(JSON.stringify({ p: '' }));
    const circular: Record<string, unknown> = {};
    circular['self'] = circular;
    const asMeta = (v: unknown): Meta => v as Meta;
    const cases: Array<[string, () => Promise<unknown>, ErrorClass]> = [
      ...['#', '*', `${domain}.*`, `${domain}.#`, `${domain}.a*`, `*.${domain}`].map(
        (d): [string, () => Promise<unknown>, ErrorClass] => [`domain ${d}`, send('x.bin', { domain: d }), InvalidDomainError],
      ),
      ...[ABSOLUTE_TARGET, '//host/share/x.bin', 'C:/x.bin', '../x.bin', 'a/../../x.bin', 'a\\..\\x.bin', 'bad-\ud800.bin'].map(
        (destination): [string, () => Promise<unknown>, ErrorClass] => [`destination ${JSON.stringify(destination)}`, send('x.bin', { domain, destination }), InvalidDestinationError],
      ),
      ...['../x.bin', 'a/b.bin', '\udc00.bin', '..'].map(
        (filename): [string, () => Promise<unknown>, ErrorClass] => [`filename ${JSON.stringify(filename)}`, send(filename, { domain }), InvalidDestinationError],
      ),
      ['meta one byte over 16 KiB', send('x.bin', { domain, meta: { p: 'x'.repeat(MAX_META_BYTES - overhead + 1) } }), OversizeError],
      ['meta over 16 KiB in UTF-8 bytes', send('x.bin', { domain, meta: { p: 'é'.repeat(MAX_META_BYTES / 2) } }), OversizeError],
      ['meta an array', send('x.bin', { domain, meta: asMeta([1]) }), MalformedPacketError],
      ['meta a Date (a JSON string on the wire)', send('x.bin', { domain, meta: asMeta(new Date()) }), MalformedPacketError],
      ['meta whose toJSON gives an array', send('x.bin', { domain, meta: asMeta({ toJSON: () => [1] }) }), MalformedPacketError],
      ['meta circular', send('x.bin', { domain, meta: asMeta(circular) }), MalformedPacketError],
      ['meta with a BigInt', send('x.bin', { domain, meta: asMeta({ n: 1n }) }), MalformedPacketError],
      ['a contentType of 70,000 characters (the start body would pass 64 KiB)', send('x.bin', { domain, contentType: 'x'.repeat(70_000) }), ConfigError],
      ['a contentType that is not a string (a plain JavaScript caller)', send('x.bin', { domain, contentType: 42 as unknown as string }), ConfigError],
      ['chunkSize 0', send('x.bin', { domain, chunkSize: 0 }), ConfigError],
      ['chunkSize 1.5', send('x.bin', { domain, chunkSize: 1.5 }), ConfigError],
      ['chunkSize over 4 MiB', send('x.bin', { domain, chunkSize: MAX_CHUNK_SIZE + 1 }), ConfigError],
      ['size -1', send('x.bin', { domain, size: -1 }), ConfigError],
      ['size 0.5', send('x.bin', { domain, size: 0.5 }), ConfigError],
      ['token not 32 lower-case hex', send('x.bin', { domain, token: 'ABC' }), MalformedPacketError],
    ];
    const wrong: string[] = [];
    for (const [name, call, expected] of cases) {
      const outcome = await call().then(
        () => 'accepted',
        (err: unknown) => (err instanceof expected && err.constructor === expected ? undefined : `${err instanceof Error ? err.constructor.name : String(err)}`),
      );
      if (outcome) wrong.push(`${name}: ${outcome}, expected ${expected.name}`);
    }
    // A call that let anything out would show here: a delivery, or a dead letter at <domain>.#.
    const served = await probe();
    const dead = await Promise.all(receivers.map((r) => drainDeadLetters(world.channel, r.group)));
    const leaked = dead.flat().length + receivers.reduce((n, r) => n + strays(r).length, 0);
    await recordTally({
      scenario: 'hostile broadcastData calls: wildcard domains, absolute and ../ destinations, bad names, oversized or non-object meta, bad chunkSize/size/token',
      area: 'bad-input',
      badInputsTried: cases.length,
      badInputsRefused: served && leaked === 0 ? cases.length - wrong.length : 0,
    });
    assert.deepEqual(wrong, []);
    assert.ok(served, 'both consumers still serve');
    assert.deepEqual(dead.flat().map(shown), [], 'nothing reached a receiver');
    for (const r of receivers) assert.deepEqual(strays(r), [], `${r.name}: nothing delivered`);
  });

  it('the good transfer, open through every case above, completes byte-identical at both receivers, and nothing else is left', async () => {
    await injectPackets(domain, [...good.chunks.slice(GOOD_CHUNKS / 2), good.end]);
    const arrived = await waitFor('both receivers to deliver the good file', () => receivers.every((r) => r.delivered.some((f) => f.token === good.token)), 30_000).then(
      () => true,
      () => false,
    );
    const expected = sha256Of(good.data);
    const copies = await Promise.all(receivers.map((r) => r.readBack(GOOD_DESTINATION)));
    const verified = copies.filter((d) => d?.sha256 === expected && d.size === good.data.length).length;
    const callbacks = receivers.map((r) => r.delivered.filter((f) => f.token === good.token).length);
    await recordTally({
      scenario: 'good transfer in flight through every hostile case, directory and S3 receivers',
      area: 'bad-input',
      filesSent: receivers.length,
      filesVerified: verified,
      filesLost: receivers.length - verified,
      duplicateHandlerCalls: callbacks.reduce((n, c) => n + Math.max(0, c - 1), 0),
    });
    assert.ok(arrived, 'both receivers delivered the good file');
    assert.equal(verified, receivers.length, `copies read back: ${JSON.stringify(copies)}`);
    assert.deepEqual(callbacks, [1, 1], 'one callback per group');
    for (const r of receivers) {
      assert.deepEqual(await r.leftovers([GOOD_DESTINATION, ...probes]), [], `${r.name}: no temp file, unfinished state or stray file`);
      assert.deepEqual(await drainDeadLetters(world.channel, r.group), []);
    }
    // Nothing written outside the receivers' roots and prefixes.
    assert.equal(existsSync(ABSOLUTE_TARGET), false);
    const outsideRoots = (await listFiles(world.root)).filter((f) => !receivers.some((r) => f.startsWith(`${r.group}/`)));
    assert.deepEqual(outsideRoots, []);
    const outsidePrefixes = (await listKeys(world.s3.client, BUCKET, '')).filter((k) => !receivers.some((r) => k.startsWith(`${r.group}/`)));
    assert.deepEqual(outsidePrefixes, []);
  });
});
