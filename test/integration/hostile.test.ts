import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  DirectorySink,
  FileNotFoundError,
  InvalidDestinationError,
  InvalidDomainError,
  UnroutableError,
  MAX_CHUNK_SIZE,
  type ReceivedFile,
  type Subscription,
} from '../../shared/index.js';
import { encodeChunk, type EncodedPacket } from '../../shared/protocol/codec.js';
import { Header } from '../../shared/protocol/constants.js';
import { deleteGroup, drainDeadLetters, injectPackets, uniq, waitFor, type DeadLetter } from '../support/broker.js';
import { useWorld } from '../support/world.js';
import { pseudoRandomBuffer, sha256Of } from '../support/data.js';
import { handMade } from '../support/packets.js';

const CHUNK = 1024;

/** Every file under `dir`, relative, including hidden temp files. */
async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string, rel: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      if (e.isDirectory()) await walk(join(d, e.name), `${rel}${e.name}/`);
      else out.push(`${rel}${e.name}`);
    }
  };
  await walk(dir, '');
  return out.sort();
}

/**
 * What a receiver left under `dir` besides the sentinel and the markers of delivered files
 * (state documents in phase 'done'): temp files, partial state, files where none should be.
 */
async function leftovers(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const f of await listFiles(dir)) {
    if (f === 'root/sentinel.txt') continue;
    if (f.startsWith('root/.filepeer/state/')) {
      const state = JSON.parse(await readFile(join(dir, f), 'utf8')) as { phase: string };
      if (state.phase === 'done') continue;
    }
    out.push(f);
  }
  return out;
}

describe('hostile and broken input', () => {
  const world = useWorld();

  /**
   * Subscribe a directory receiver, inject `packets` with a raw publisher, then broadcast a good
   * sentinel file: once the sentinel is delivered every packet before it has been processed.
   */
  async function scenario(packets: (domain: string) => EncodedPacket[]): Promise<{
    delivered: ReceivedFile[];
    deadLetters: DeadLetter[];
    files: string[];
    sub: Pick<Subscription, 'stats'>;
  }> {
    const domain = uniq('hostile');
    const group = uniq('g');
    const root = join(world.root, group, 'root');
    const delivered: ReceivedFile[] = [];
    const sub = await world.peer.subscribeToFiles(domain, { group, sink: new DirectorySink({ root }) }, (f) => void delivered.push(f));
    try {
      await injectPackets(domain, packets(domain));
      await world.peer.broadcastData('sentinel.txt', [Buffer.from('sentinel')], { domain, destination: 'sentinel.txt' });
      await waitFor('the sentinel', () => delivered.some((f) => f.destination === 'sentinel.txt'));
      // Closing waits for the delivery in hand (the sentinel's done-marker) to finish writing.
      await sub.close();
      return {
        delivered: delivered.filter((f) => f.destination !== 'sentinel.txt'),
        deadLetters: await drainDeadLetters(world.channel, group),
        files: await leftovers(join(world.root, group)),
        sub,
      };
    } finally {
      await sub.close();
      await deleteGroup(world.channel, group, domain);
    }
  }

  it('fails a transfer with a gap, dead-letters the chunk after the hole and leaves nothing on disk', async () => {
    let token = '';
    const r = await scenario((domain) => {
      const t = handMade(pseudoRandomBuffer(3 * CHUNK, 1), { domain, chunkSize: CHUNK });
      token = t.token;
      return [t.start, t.chunks[0]!, t.chunks[2]!, t.end];
    });
    assert.deepEqual(r.delivered, []);
    assert.deepEqual(r.deadLetters.map((d) => [d.reason, d.messageId]), [['chunk-gap', `${token}:3`]]);
    assert.deepEqual(r.files, []);
  });

  it('absorbs duplicated packets and delivers the file once', async () => {
    const data = pseudoRandomBuffer(2 * CHUNK + 5, 2);
    const r = await scenario((domain) => {
      const t = handMade(data, { domain, chunkSize: CHUNK });
      const [c1, c2, c3] = t.chunks as [EncodedPacket, EncodedPacket, EncodedPacket];
      return [t.start, c1, c1, t.start, c2, c2, c3, t.end, t.end, c3];
    });
    assert.equal(r.delivered.length, 1);
    assert.equal(r.delivered[0]!.sha256, sha256Of(data));
    assert.deepEqual(r.deadLetters, []);
    assert.equal(r.sub.stats.duplicatesDropped, 5);
  });

  it('refuses a file whose digest does not match and never makes it visible', async () => {
    const r = await scenario((domain) => {
      const t = handMade(pseudoRandomBuffer(2 * CHUNK, 3), { domain, chunkSize: CHUNK, destination: 'bad/digest.bin', end: { sha256: '0'.repeat(64) } });
      return [t.start, ...t.chunks, t.end];
    });
    assert.deepEqual(r.delivered, []);
    assert.deepEqual(r.deadLetters.map((d) => d.reason), ['digest-mismatch']);
    assert.match(r.deadLetters[0]!.detail, /digests do not match/);
    assert.deepEqual(r.files, [], 'no file and no temp file left');
  });

  it('refuses a corrupted chunk (same size, other bytes) through the digest', async () => {
    const r = await scenario((domain) => {
      const t = handMade(pseudoRandomBuffer(2 * CHUNK, 4), { domain, chunkSize: CHUNK });
      const forged = encodeChunk(t.token, 2, Buffer.alloc(CHUNK, 0x41));
      return [t.start, t.chunks[0]!, forged, t.end];
    });
    assert.deepEqual(r.delivered, []);
    assert.deepEqual(r.deadLetters.map((d) => d.reason), ['digest-mismatch']);
  });

  for (const destination of ['../escape.txt', 'a/../../escape.txt', '/tmp/filepeer-escape.txt', 'a\u0000b', 'a\\..\\b']) {
    it(`dead-letters a transfer to ${JSON.stringify(destination)} and writes nothing outside the root`, async () => {
      const r = await scenario((domain) => {
        const t = handMade(pseudoRandomBuffer(2 * CHUNK, 5), { domain, chunkSize: CHUNK, destination });
        return [t.start, ...t.chunks, t.end];
      });
      assert.deepEqual(r.delivered, []);
      // The start is refused with the reason; the rest of that transfer is dropped, not delivered.
      assert.deepEqual(r.deadLetters.map((d) => [d.reason, d.type]), [['invalid-destination', 'file.start']]);
      assert.deepEqual(r.files, []);
      assert.equal(existsSync('/tmp/filepeer-escape.txt'), false);
    });
  }

  it('dead-letters a malformed packet while a good transfer in flight still completes', async () => {
    const data = pseudoRandomBuffer(3 * CHUNK, 6);
    const garbage: EncodedPacket[] = [
      { content: Buffer.from('not a packet at all'), options: { persistent: true } },
      { content: Buffer.from('{"chunks": "many"'), options: { type: 'file.end', headers: { [Header.Version]: 1, [Header.Token]: 'x', [Header.Seq]: 1 } } },
      { content: Buffer.from([0xff, 0xfe]), options: { type: 'file.start', headers: { [Header.Version]: 1, [Header.Token]: 'f'.repeat(32), [Header.Seq]: 0 } } },
    ];
    const r = await scenario((domain) => {
      const t = handMade(data, { domain, chunkSize: CHUNK, destination: 'good.bin' });
      const [c1, c2, c3] = t.chunks as [EncodedPacket, EncodedPacket, EncodedPacket];
      return [t.start, c1, garbage[0]!, c2, garbage[1]!, garbage[2]!, c3, t.end];
    });
    assert.equal(r.delivered.length, 1);
    assert.equal(r.delivered[0]!.sha256, sha256Of(data));
    assert.deepEqual(r.deadLetters.map((d) => d.reason), ['malformed-packet', 'malformed-packet', 'malformed-packet']);
    assert.deepEqual(r.files, ['root/good.bin']);
  });

  it('dead-letters the first packet of a transfer it never saw start, and drops the rest', async () => {
    let token = '';
    const r = await scenario((domain) => {
      const t = handMade(pseudoRandomBuffer(3 * CHUNK, 7), { domain, chunkSize: CHUNK });
      token = t.token;
      return [t.chunks[1]!, t.chunks[2]!, t.end];
    });
    assert.deepEqual(r.deadLetters.map((d) => [d.reason, d.messageId]), [['unknown-transfer', `${token}:2`]]);
    assert.deepEqual(r.delivered, []);
  });

  it('takes a start for a token that failed here as a fresh attempt', async () => {
    const data = pseudoRandomBuffer(2 * CHUNK, 10);
    const r = await scenario((domain) => {
      const t = handMade(data, { domain, chunkSize: CHUNK, destination: 'retried.bin' });
      // First attempt loses chunk 1 (gap); the sender retries the whole file with the same token.
      return [t.start, t.chunks[1]!, t.start, ...t.chunks, t.end];
    });
    assert.deepEqual(r.deadLetters.map((d) => d.reason), ['chunk-gap']);
    assert.equal(r.delivered.length, 1);
    assert.equal(r.delivered[0]!.sha256, sha256Of(data));
  });

  it('dead-letters a chunk larger than its transfer chunk size, or than the protocol allows', async () => {
    const r = await scenario((domain) => {
      const t = handMade(pseudoRandomBuffer(2 * CHUNK, 8), { domain, chunkSize: CHUNK });
      const big = handMade(Buffer.alloc(0), { domain, chunkSize: MAX_CHUNK_SIZE });
      return [
        t.start,
        encodeChunk(t.token, 1, Buffer.alloc(CHUNK + 1)),
        big.start,
        encodeChunk(big.token, 1, Buffer.alloc(MAX_CHUNK_SIZE + 1)),
      ];
    });
    assert.deepEqual(r.deadLetters.map((d) => d.reason), ['oversize', 'oversize']);
    assert.deepEqual(r.files, []);
  });

  it('refuses a destination that leads out of the root through a symbolic link', async () => {
    const root = join(world.root, 'symlinked-root');
    const outside = join(world.root, 'outside');
    await mkdir(root, { recursive: true });
    await mkdir(outside, { recursive: true });
    await symlink(outside, join(root, 'link'));
    const sink = new DirectorySink({ root });
    const start = handMade(Buffer.from('x'), { domain: 'd', chunkSize: CHUNK }).token;
    await assert.rejects(
      sink.open({ token: start, group: 'g', start: { filename: 'x', destination: 'link/x.txt', domain: 'd', size: 1, contentType: 'text/plain', chunkSize: CHUNK, startedAt: '' } }),
      InvalidDestinationError,
    );
    assert.deepEqual(await listFiles(outside), []);
  });

  it('rejects a missing file with FileNotFoundError, as Nanite answered "file not found"', async () => {
    await assert.rejects(world.peer.broadcastFile(join(world.root, 'no-such-file.bin'), { domain: 'x' }), (err: unknown) => {
      assert.ok(err instanceof FileNotFoundError);
      assert.match(err.message, /file not found/);
      return true;
    });
    await assert.rejects(world.peer.broadcastFile(world.root, { domain: 'x' }), FileNotFoundError);
  });

  it('refuses wildcard domains and escaping destinations on the sending side', async () => {
    const file = join(world.root, 'plain.txt');
    await writeFile(file, 'plain');
    await assert.rejects(world.peer.broadcastFile(file, { domain: 'a.*' }), InvalidDomainError);
    await assert.rejects(world.peer.broadcastFile(file, { domain: '#' }), InvalidDomainError);
    await assert.rejects(world.peer.broadcastFile(file, { domain: 'ok', destination: '../x' }), InvalidDestinationError);
  });

  it('reports a broadcast nobody is subscribed to as UnroutableError', async () => {
    const file = join(world.root, 'lonely.txt');
    await writeFile(file, 'nobody listens');
    await assert.rejects(world.peer.broadcastFile(file, { domain: uniq('nobody') }), UnroutableError);
  });
});
