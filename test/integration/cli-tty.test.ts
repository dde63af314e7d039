import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import type { Channel } from 'amqplib';
import { Defaults } from '../../shared/config/defaults.js';
import { routingKeyOf } from '../../shared/broker/topology.js';
import { PacketKind } from '../../shared/protocol/constants.js';
import { BROKER_URL, rawBroker, sleep, uniq } from '../support/broker.js';
import { CLI, runCli } from '../support/cli.js';

const run = promisify(execFile);
const GiB = 1024 ** 3;

/**
 * A receiver that costs the broker nothing: an exclusive, non-durable queue bound to the domain and
 * consumed without acks. The test is about the sender's terminal, not about a sink; it only hashes
 * the chunk bodies to check that what the CLI printed is what went out.
 */
async function discardingReceiver(channel: Channel, domain: string): Promise<{ bytes(): number; sha256(): string }> {
  await channel.assertExchange(Defaults.exchange, 'topic', { durable: true });
  const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true, durable: false });
  await channel.bindQueue(queue, Defaults.exchange, routingKeyOf(Defaults, domain));
  const hash = createHash('sha256');
  let bytes = 0;
  await channel.consume(
    queue,
    (msg) => {
      if (msg?.properties.type !== PacketKind.Chunk) return;
      hash.update(msg.content);
      bytes += msg.content.length;
    },
    { noAck: true },
  );
  return { bytes: () => bytes, sha256: () => hash.copy().digest('hex') };
}

const ESC = '\u001b';

describe('the progress bar', () => {
  let broker: Awaited<ReturnType<typeof rawBroker>>;
  let dir: string;
  before(async () => {
    broker = await rawBroker();
    dir = await mkdtemp(join(tmpdir(), 'filepeer-tty-'));
  });
  after(async () => {
    await broker.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('moves on a terminal (tmux) during a 1 GiB send, with bytes, rate and ETA', async () => {
    const domain = uniq('cli-tty');
    const sink = await discardingReceiver(broker.channel, domain);
    // Sparse: 1 GiB of zeros that takes no disk space.
    const big = join(dir, 'big.bin');
    const handle = await open(big, 'w');
    await handle.truncate(GiB);
    await handle.close();

    const socket = `filepeer-test-${randomBytes(4).toString('hex')}`;
    const tmux = (...args: string[]) => run('tmux', ['-L', socket, ...args]);
    await tmux('new-session', '-d', '-s', 'cli', '-x', '150', '-y', '12');
    try {
      const command = `FILEPEER_AMQP_URL='${BROKER_URL}' node '${CLI}' send '${big}' --domain ${domain}; echo "EXIT=$?"`;
      await tmux('send-keys', '-t', 'cli', command, 'Enter');
      const seen: number[] = [];
      const frames: string[] = [];
      let pane = '';
      const deadline = Date.now() + 180_000;
      // The typed command line is on the pane too: the exit status is a line of its own.
      const finished = (): boolean => /^EXIT=\d+$/m.test(pane);
      while (!finished() && Date.now() < deadline) {
        pane = (await tmux('capture-pane', '-p', '-t', 'cli')).stdout;
        frames.push(pane.split('\n').filter((l) => l.startsWith('[')).join(''));
        const bar = /\[[#-]{30}\]\s+(\d+)% ([\d.]+) (?:B|KiB|MiB|GiB) \/ 1\.0 GiB [\d.]+ (?:B|KiB|MiB|GiB)\/s ETA (?:\d+s|\d+m\d\ds|\d+h\d\dm|--)/.exec(pane);
        if (bar && !finished()) {
          const pct = Number(bar[1]);
          if (seen[seen.length - 1] !== pct) seen.push(pct);
        }
        await sleep(100);
      }
      assert.match(pane, /^EXIT=0$/m, pane);
      assert.ok(seen.length >= 3, `the bar was seen at ${seen.length} different points: ${seen.join(', ')}; bar lines captured:\n${[...new Set(frames)].join('\n')}`);
      assert.deepEqual([...seen].sort((a, b) => a - b), seen, `the bar only moves forward: ${seen.join(', ')}`);
      assert.ok(seen[0]! < 100, 'it was seen before the end');
      // The final state stays on screen, followed by the result.
      assert.match(pane, /100% 1\.0 GiB \/ 1\.0 GiB/);
      const sha = /^sha256 {2}([0-9a-f]{64})$/m.exec(pane)?.[1];
      assert.match(pane, /^bytes {3}1073741824 \(1\.0 GiB, 1024 chunks/m);
      await sleep(200);
      assert.equal(sink.bytes(), GiB, 'every byte went out');
      assert.equal(sha, sink.sha256(), 'the printed SHA-256 is that of the bytes sent');
    } finally {
      await tmux('kill-server').catch(() => undefined);
      await rm(big, { force: true });
    }
  });

  it('prints no escape codes and no carriage returns when stderr is not a terminal', async () => {
    const domain = uniq('cli-notty');
    await discardingReceiver(broker.channel, domain);
    const file = join(dir, 'mid.bin');
    const handle = await open(file, 'w');
    await handle.truncate(64 * 1024 * 1024);
    await handle.close();
    const r = await runCli(['send', file, '--domain', domain]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '', 'nothing on stderr at all');
    assert.ok(!r.stdout.includes(ESC) && !r.stdout.includes('\r'), JSON.stringify(r.stdout));
    assert.deepEqual(r.stdout.trim().split('\n').map((l) => l.split(/\s+/)[0]), ['sent', 'token', 'bytes', 'sha256']);
  });
});
