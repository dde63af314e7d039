import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { deadLetterQueueName, groupQueueName } from '../../shared/broker/topology.js';
import { EMBEDDED_S3_CREDENTIALS } from '../../shared/local/embedded-s3.js';
import { encodeChunk } from '../../shared/protocol/codec.js';
import { newToken } from '../../shared/protocol/token.js';
import { deleteGroup, injectPackets, queueExists, uniq, waitFor } from '../support/broker.js';
import { isOneLineError, runCli, startCli } from '../support/cli.js';
import { pseudoRandomBuffer, sha256Of } from '../support/data.js';
import { useWorld } from '../support/world.js';

const MiB = 1024 * 1024;
const UP = 'cli-up';
const DOWN = 'cli-down';
const RECORDER = join(import.meta.dirname, '../support/exec-recorder.mjs');

interface Delivered {
  event: string;
  token: string;
  group: string;
  domain: string;
  destination: string;
  size: number;
  sha256: string;
  meta: Record<string, unknown>;
  location: string;
  exec?: { ok: boolean; error?: string };
}

interface Sent {
  token: string;
  bytes: number;
  chunks: number;
  sha256: string;
  destination: string;
}

describe('the filepeer CLI against the real broker', () => {
  const world = useWorld([UP, DOWN]);

  it('send → receive: a file, stdin and an empty file arrive byte-identical; --exec runs once per file, with the path as one argument', async () => {
    const group = uniq('cli');
    const domain = uniq('cli-rt');
    const dir = join(world.root, 'rt');
    const log = join(world.root, 'exec.log');
    // Quotes, a semicolon and $( ): a shell would split this or run `touch`; spawn without a shell does neither.
    const awkward = `sub/it's a "file"; $(touch pwned).bin`;
    const receiver = startCli(['receive', '-d', domain, '-g', group, '--to', dir, '--once', '3', '--json', '--exec', `node ${RECORDER} ${log} {path} {token} {sha256} {domain}`]);
    try {
      await waitFor('the receiver to bind its queue', () => queueExists(world.peer.connection, groupQueueName(group, domain)), 20_000);
      const fileData = pseudoRandomBuffer(3 * MiB + 17, 11);
      const filePath = join(world.root, 'a.bin');
      await writeFile(filePath, fileData);
      const sent1 = await runCli(['send', filePath, '--domain', domain, '--dest', awkward, '--meta', 'k=v', 'n=2', '--chunk-size', '256KiB', '--json']);
      assert.equal(sent1.code, 0, sent1.stderr);
      const r1 = JSON.parse(sent1.stdout) as Sent;
      assert.deepEqual([r1.bytes, r1.chunks, r1.sha256, r1.destination], [fileData.length, 13, sha256Of(fileData), awkward]);

      // stdin, with the domain from a config file.
      const config = join(world.root, 'send.json');
      await writeFile(config, JSON.stringify({ domain }));
      const piped = pseudoRandomBuffer(MiB + 5, 12);
      const sent2 = await runCli(['send', '-', '--config', config, '--dest', 'piped/b.bin', '--json'], { input: piped });
      assert.equal(sent2.code, 0, sent2.stderr);
      assert.equal((JSON.parse(sent2.stdout) as Sent).sha256, sha256Of(piped));

      const empty = join(world.root, 'empty.bin');
      await writeFile(empty, Buffer.alloc(0));
      const sent3 = await runCli(['send', empty, '-d', domain]);
      assert.equal(sent3.code, 0, sent3.stderr);
      assert.match(sent3.stdout, /^token {3}[0-9a-f]{32}$/m, 'the text output names the token');
      assert.match(sent3.stdout, /^sha256 {2}e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855$/m);

      const done = await receiver.exited;
      assert.equal(done.code, 0, `--once 3 ends the receiver with 0 after three files\n${done.stderr}`);
      const lines = receiver.jsonLines<Delivered>();
      assert.equal(lines.length, 3, 'one stdout line per delivered file');
      const byDest = new Map(lines.map((l) => [l.destination, l]));
      assert.deepEqual([...byDest.keys()].sort(), [awkward, 'empty.bin', 'piped/b.bin'].sort());
      assert.deepEqual(byDest.get(awkward)!.meta, { k: 'v', n: '2' });
      assert.equal(sha256Of(await readFile(join(dir, awkward))), sha256Of(fileData));
      assert.equal(sha256Of(await readFile(join(dir, 'piped/b.bin'))), sha256Of(piped));
      assert.equal((await readFile(join(dir, 'empty.bin'))).length, 0);
      assert.ok(lines.every((l) => l.exec?.ok === true && l.group === group));

      const calls = (await readFile(log, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as string[]);
      assert.equal(calls.length, 3, 'the command ran once per file');
      for (const line of lines) {
        const call = calls.find((c) => c[1] === line.token);
        assert.deepEqual(call, [line.location, line.token, line.sha256, domain], 'placeholders are whole arguments');
      }
      assert.equal(calls.find((c) => c[1] === byDest.get(awkward)!.token)![0], join(dir, awkward));
      assert.ok(!existsSync(join(dir, 'pwned')) && !existsSync('pwned'), 'nothing in the file name was run');
    } finally {
      await receiver.stop();
      await deleteGroup(world.channel, group, domain);
    }
  });

  it('a failing --exec command is logged with its exit code; the receiver carries on and the files stay delivered', async () => {
    const group = uniq('cli');
    const domain = uniq('cli-fail');
    const dir = join(world.root, 'fail');
    const log = join(world.root, 'fail.log');
    const receiver = startCli(['receive', '-d', domain, '-g', group, '--to', dir, '--once', '2', '--json', '--exec', `node ${RECORDER} ${log} {path}`], {
      env: { FILEPEER_TEST_EXIT_CODE: '3', FILEPEER_LOG_LEVEL: 'error' },
    });
    try {
      await waitFor('the receiver to bind its queue', () => queueExists(world.peer.connection, groupQueueName(group, domain)), 20_000);
      for (const name of ['one.bin', 'two.bin']) {
        const sent = await runCli(['send', '-', '-d', domain, '--dest', name], { input: pseudoRandomBuffer(100_000, 3) });
        assert.equal(sent.code, 0, sent.stderr);
      }
      const done = await receiver.exited;
      assert.equal(done.code, 0, done.stderr);
      const lines = receiver.jsonLines<Delivered>();
      assert.deepEqual(lines.map((l) => l.destination).sort(), ['one.bin', 'two.bin']);
      for (const l of lines) {
        assert.deepEqual(l.exec, { ok: false, error: 'command node exited with code 3' });
        assert.ok(existsSync(join(dir, l.destination)), 'the file stays delivered');
        // The structured log line for the failure names the token, the domain and the group.
        const logged = done.stderr.split('\n').filter((s) => s.startsWith('{')).map((s) => JSON.parse(s) as Record<string, unknown>);
        assert.ok(logged.some((e) => e['msg'] === 'domain handler failed' && e['token'] === l.token && e['domain'] === domain && e['group'] === group && String(e['err']).includes('code 3')));
      }
      assert.equal((await readFile(log, 'utf8')).trim().split('\n').length, 2, 'once per file, not retried');
    } finally {
      await receiver.stop();
      await deleteGroup(world.channel, group, domain);
    }
  });

  it('s3://bucket/key → --to s3://bucket/prefix through the embedded S3 server', async () => {
    const group = uniq('cli');
    const domain = uniq('cli-s3');
    const env = {
      FILEPEER_S3_ENDPOINT: world.s3.endpoint,
      AWS_ACCESS_KEY_ID: EMBEDDED_S3_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: EMBEDDED_S3_CREDENTIALS.secretAccessKey,
      AWS_REGION: 'us-east-1',
    };
    const data = pseudoRandomBuffer(9 * MiB + 3, 21);
    await world.s3.client.send(new PutObjectCommand({ Bucket: UP, Key: 'in/x.bin', Body: data }));
    const receiver = startCli(['receive', '-d', domain, '-g', group, '--to', `s3://${DOWN}/got`, '--once', '1', '--json'], { env });
    try {
      await waitFor('the receiver to bind its queue', () => queueExists(world.peer.connection, groupQueueName(group, domain)), 20_000);
      const sent = await runCli(['send', `s3://${UP}/in/x.bin`, '-d', domain, '--dest', 'copy/x.bin', '--json'], { env });
      assert.equal(sent.code, 0, sent.stderr);
      assert.equal((JSON.parse(sent.stdout) as Sent).sha256, sha256Of(data));
      const done = await receiver.exited;
      assert.equal(done.code, 0, done.stderr);
      const [line] = receiver.jsonLines<Delivered>();
      assert.equal(line!.location, `s3://${DOWN}/got/copy/x.bin`);
      assert.deepEqual(line!.meta['source'] && (line!.meta['source'] as { bucket: string; key: string }).key, 'in/x.bin');
      const obj = await world.s3.client.send(new GetObjectCommand({ Bucket: DOWN, Key: 'got/copy/x.bin' }));
      assert.equal(sha256Of(Buffer.from(await obj.Body!.transformToByteArray())), sha256Of(data));
    } finally {
      await receiver.stop();
      await deleteGroup(world.channel, group, domain);
    }
  });

  it("status shows a group's queue, its consumer, its transfer in flight and its dead letters by reason; dlq list shows the poisoned packet; SIGTERM drains", async () => {
    const group = uniq('cli');
    const domain = uniq('cli-status');
    const dir = join(world.root, 'status');
    const receiver = startCli(['receive', '-d', domain, '-g', group, '--to', dir]);
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const token = newToken();
    // A sender that stops half-way: 10 MiB of a 20 MiB file, then nothing until the test lets it fail.
    async function* stalled(): AsyncGenerator<Buffer> {
      for (let i = 0; i < 10; i++) yield Buffer.alloc(MiB, i);
      await gate;
      throw new Error('sender gave up');
    }
    let broadcast: Promise<unknown> | undefined;
    try {
      await waitFor('the receiver to bind its queue', () => queueExists(world.peer.connection, groupQueueName(group, domain)), 20_000);
      broadcast = world.peer.broadcastData('half.bin', stalled(), { domain, destination: 'half/half.bin', size: 20 * MiB, token }).catch((err: unknown) => err);
      // The directory sink records the transfer at its first fsync (8 MiB).
      await waitFor('the transfer state', () => existsSync(join(dir, '.filepeer/state', group, `${token}.json`)), 20_000);
      const poisoned = newToken();
      await injectPackets(domain, [encodeChunk(poisoned, 1, Buffer.from('stray'))]);
      await waitFor('the dead letter', async () => (await world.channel.checkQueue(deadLetterQueueName(group))).messageCount === 1, 20_000);

      const status = await runCli(['status', '-g', group, '-d', domain, '--to', dir, '--json']);
      assert.equal(status.code, 0, status.stderr);
      const report = JSON.parse(status.stdout) as {
        groups: Array<{
          group: string;
          queues: Array<{ queue: string; exists: boolean; consumers: number }>;
          deadLetters: { messages: number; reasons: Record<string, number> };
          inFlight: { transfers: Array<{ token: string; destination: string; durableBytes: number; size: number }> };
        }>;
      };
      const g = report.groups[0]!;
      assert.equal(g.group, group);
      assert.deepEqual(g.queues.map((q) => [q.queue, q.exists, q.consumers]), [[groupQueueName(group, domain), true, 1]]);
      assert.deepEqual(g.deadLetters, { ...g.deadLetters, messages: 1, reasons: { 'unknown-transfer': 1 } });
      const inFlight = g.inFlight.transfers.find((t) => t.token === token);
      assert.ok(inFlight, 'the open transfer is listed');
      assert.equal(inFlight.destination, 'half/half.bin');
      assert.equal(inFlight.size, 20 * MiB);
      assert.ok(inFlight.durableBytes >= 8 * MiB && inFlight.durableBytes <= 10 * MiB, `durable ${inFlight.durableBytes}`);

      const text = await runCli(['status', '-g', group, '-d', domain, '--to', dir]);
      assert.equal(text.code, 0, text.stderr);
      assert.match(text.stdout, new RegExp(`queue ${groupQueueName(group, domain).replace(/\./g, '\\.')}: \\d+ messages, 1 consumer`));
      assert.match(text.stdout, new RegExp(`${token} ${domain} half/half.bin: [\\d.]+ MiB of 20\\.0 MiB durable`));
      assert.match(text.stdout, /dead letters filepeer-dead-letter\.\S+: 1 \(unknown-transfer 1\)/);

      // Listing takes nothing away: the same dead letter, twice.
      for (let i = 0; i < 2; i++) {
        const listed = await runCli(['dlq', 'list', '-g', group, '--json']);
        assert.equal(listed.code, 0, listed.stderr);
        const listing = JSON.parse(listed.stdout) as { total: number; letters: Array<{ reason: string; detail: string; token: string; type: string; queue: string }> };
        assert.equal(listing.total, 1);
        assert.deepEqual(listing.letters.map((l) => [l.reason, l.token, l.type, l.queue]), [['unknown-transfer', poisoned, 'file.chunk', groupQueueName(group, domain)]]);
        assert.match(listing.letters[0]!.detail, /unknown transfer/);
      }
      const human = await runCli(['dlq', 'list', '-g', group]);
      assert.match(human.stdout, new RegExp(`^unknown-transfer  file\\.chunk ${poisoned}:1`, 'm'));

      const stopped = await receiver.stop('SIGTERM');
      assert.equal(stopped.code, 0, `a clean drain exits 0\n${stopped.stderr}`);
      assert.ok(existsSync(join(dir, '.filepeer/state', group, `${token}.json`)), 'the open transfer is kept to be resumed');
    } finally {
      release();
      await broadcast;
      await receiver.stop();
      await deleteGroup(world.channel, group, domain);
    }
  });

  it('wrong flags, bad configuration and an unreachable broker: one line, no stack trace, exit 2 or 1', async () => {
    const badConfig = join(world.root, 'bad.json');
    await writeFile(badConfig, JSON.stringify({ domian: 'typo' }));
    const notJson = join(world.root, 'not.json');
    await writeFile(notJson, '{ domain: ');
    const usage: Array<[string[], RegExp, Record<string, string>?]> = [
      [['send', 'x.bin'], /needs --domain/],
      [['send', 'x.bin', '-d', 'a', '--bogus'], /unknown option '--bogus'/],
      [['send', 'x.bin', '-d', 'a', '--chunk-size', '1XB'], /"1XB" is not a size/],
      [['send', 'x.bin', '-d', 'a', '--chunk-size', '5MiB'], /at most|1 byte to 4MiB/],
      [['send', 'x.bin', '-d', 'rep*'], /wildcards are for subscribers only/],
      [['send', '-', '-d', 'a'], /needs --dest/],
      [['sned', 'x.bin'], /unknown command 'sned'.*send/],
      [['receive', '-g', 'g', '-d', 'a'], /needs --to/],
      [['receive', '-g', 'g', '-d', 'a', '--to', '/tmp/x', '--once', 'many'], /--once: "many"/],
      [['receive', '-g', 'g', '-d', 'a', '--to', '/tmp/x', '--exec', "cmd '{path}"], /unterminated '/],
      [['receive', '-g', 'g', '-d', 'a', '--to', '/tmp/x', '--exec', 'cmd {file}'], /unknown placeholder \{file\}/],
      [['receive', '-g', 'a.b', '-d', 'a', '--to', '/tmp/x'], /group "a\.b"/],
      [['status'], /status needs --group/],
      [['dlq', 'purge', '-g', 'g'], /add --yes/],
      [['dlq', 'list', '-g', 'g', '--token', 'xyz'], /not a transfer token/],
      [['send', 'x.bin', '-d', 'a', '--config', badConfig], /config file .*bad\.json: \(top level\): Unrecognized key.*domian/],
      [['send', 'x.bin', '-d', 'a', '--config', notJson], /is not JSON/],
      [['send', 'x.bin', '-d', 'a'], /log level .*"loud"/, { FILEPEER_LOG_LEVEL: 'loud' }],
      [['send', 'x.bin', '-d', 'a'], /broker URL must start with amqp/, { FILEPEER_AMQP_URL: 'http://localhost' }],
    ];
    const unreachable = 'amqp://guest:secret@127.0.0.1:1';
    const runtime: Array<[string[], RegExp]> = [
      [['send', join(world.root, 'missing.bin'), '-d', 'a', '--url', unreachable], /cannot reach the broker at amqp:\/\/guest:\*\*\*@127\.0\.0\.1:1 .*ECONNREFUSED/],
      [['receive', '-g', 'g', '-d', 'a', '--to', join(world.root, 'r')], /cannot reach the broker/],
      [['status', '-g', 'g', '-d', 'a', '--url', unreachable], /cannot reach the broker/],
      [['dlq', 'list', '-g', 'g', '--url', unreachable], /cannot reach the broker/],
      [['send', join(world.root, 'missing.bin'), '-d', 'a'], /file not found/],
      [['dlq', 'list', '-g', uniq('never')], /has no dead-letter queue/],
    ];
    const results = await Promise.all([
      ...usage.map(([args, , env]) => runCli(args, { env })),
      ...runtime.map(([args], i) => runCli(args, i === 1 ? { env: { FILEPEER_AMQP_URL: unreachable } } : {})),
    ]);
    [...usage, ...runtime].forEach(([args, message], i) => {
      const r = results[i]!;
      const expected = i < usage.length ? 2 : 1;
      assert.equal(r.code, expected, `filepeer ${args.join(' ')}: exit ${r.code}, stderr ${r.stderr}`);
      assert.ok(isOneLineError(r.stderr), `filepeer ${args.join(' ')}: one line, no stack:\n${r.stderr}`);
      assert.match(r.stderr, message, `filepeer ${args.join(' ')}`);
      assert.equal(r.stdout, '', `filepeer ${args.join(' ')} prints nothing on stdout`);
      assert.ok(!r.stderr.includes('secret'), 'the password is never printed');
    });
    // The stack is one switch away, for bug reports.
    const debug = await runCli(['status', '-g', 'g', '-d', 'a', '--url', unreachable], { env: { FILEPEER_DEBUG: '1' } });
    assert.equal(debug.code, 1);
    assert.match(debug.stderr, /^filepeer: cannot reach the broker/);
    assert.match(debug.stderr, /\n\s+at /);
    const help = await runCli(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /send \[options\] <source>/);
    assert.ok((await readdir(world.root)).every((f) => f !== 'pwned'));
  });
});
