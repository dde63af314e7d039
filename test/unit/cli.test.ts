import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CommandTemplate } from '../../shared/cli/command-template.js';
import { loadConfigFile } from '../../shared/cli/config-file.js';
import { ExitCode, errorText, exitCodeOf } from '../../shared/cli/exit.js';
import { formatBytes, formatDuration } from '../../shared/cli/format.js';
import { parseMeta } from '../../shared/cli/meta.js';
import { parseS3Url } from '../../shared/cli/s3-url.js';
import { receiveSettings, sendSettings, statusSettings } from '../../shared/cli/settings.js';
import { parseSize } from '../../shared/cli/size.js';
import { BrokerError, ConfigError, InvalidDomainError, ManagementApiError, SinkError } from '../../shared/errors.js';
import { describeDeadLetter, matchesFilter } from '../../shared/ops/dead-letter-info.js';
import { filepeerGroups, listQueues } from '../../shared/ops/management.js';
import { Header } from '../../shared/protocol/constants.js';
import { TOKEN, rawMessage } from './helpers.js';

const values = { path: '/srv/a b; rm -rf ~.bin', domain: 'reports', token: TOKEN, sha256: 'ab'.repeat(32), destination: 'a b.bin', group: 'g', size: '12' };

describe('sizes', () => {
  it('reads binary and decimal units the way coreutils does', () => {
    assert.equal(parseSize('1MiB', 'x'), 1024 * 1024);
    assert.equal(parseSize('1M', 'x'), 1024 * 1024);
    assert.equal(parseSize('1mb', 'x'), 1_000_000);
    assert.equal(parseSize('256KiB', 'x'), 262_144);
    assert.equal(parseSize('1.5GiB', 'x'), 1.5 * 1024 ** 3);
    assert.equal(parseSize('65536', 'x'), 65_536);
    assert.equal(parseSize(' 4 MiB ', 'x'), 4 * 1024 * 1024);
  });
  it('refuses what is not a size, naming the option', () => {
    for (const bad of ['', 'MiB', '1XB', '-1', '1e3', '0.5']) assert.throws(() => parseSize(bad, '--chunk-size'), (e: unknown) => e instanceof ConfigError && e.message.startsWith('--chunk-size'), bad);
  });
  it('formats for people', () => {
    assert.equal(formatBytes(512), '512 B');
    assert.equal(formatBytes(1536), '1.5 KiB');
    assert.equal(formatBytes(1024 ** 3), '1.0 GiB');
    assert.equal(formatDuration(5), '5s');
    assert.equal(formatDuration(125), '2m05s');
    assert.equal(formatDuration(3720), '1h02m');
    assert.equal(formatDuration(Number.NaN), '--');
  });
});

describe('s3:// URLs', () => {
  it('splits bucket and key; a prefix gets its trailing slash', () => {
    assert.deepEqual(parseS3Url('s3://my-bucket/in/a b.bin', 'object'), { bucket: 'my-bucket', key: 'in/a b.bin' });
    assert.deepEqual(parseS3Url('s3://my-bucket/received', 'prefix'), { bucket: 'my-bucket', key: 'received/' });
    assert.deepEqual(parseS3Url('s3://my-bucket', 'prefix'), { bucket: 'my-bucket', key: '' });
  });
  it('refuses a missing key, a bad bucket, another scheme', () => {
    for (const [url, as] of [['s3://my-bucket/', 'object'], ['s3://my-bucket', 'object'], ['s3://My_Bucket/k', 'object'], ['http://b/k', 'object']] as const) {
      assert.throws(() => parseS3Url(url, as), ConfigError, url);
    }
  });
});

describe('--meta', () => {
  it('key=value pairs; the value may hold =', () => assert.deepEqual(parseMeta(['a=1', 'b=x=y', 'c=']), { a: '1', b: 'x=y', c: '' }));
  it('refuses a pair without a key and a key given twice', () => {
    assert.throws(() => parseMeta(['novalue']), /not key=value/);
    assert.throws(() => parseMeta(['=v']), /not key=value/);
    assert.throws(() => parseMeta(['a=1', 'a=2']), /given twice/);
  });
});

describe('--exec command templates', () => {
  it('splits like a shell once, then substitutes values as whole words, never split again', () => {
    const t = CommandTemplate.parse(`convert {path} --out 'thumbs/{token}.png' "x \\"y\\"" a\\ b --size={size}`);
    assert.deepEqual(t.render(values), { program: 'convert', args: [values.path, '--out', `thumbs/${TOKEN}.png`, 'x "y"', 'a b', '--size=12'] });
  });
  it('a value with shell syntax stays one argument', () => {
    assert.deepEqual(CommandTemplate.parse('echo {path}').render({ ...values, path: '$(reboot); `id` | x' }).args, ['$(reboot); `id` | x']);
  });
  it('refuses an empty command, unknown placeholders and unterminated quotes at start', () => {
    assert.throws(() => CommandTemplate.parse('   '), /empty/);
    assert.throws(() => CommandTemplate.parse('cmd {file}'), /unknown placeholder \{file\}/);
    assert.throws(() => CommandTemplate.parse(`cmd 'open`), /unterminated '/);
    assert.throws(() => CommandTemplate.parse('cmd "open'), /unterminated "/);
    assert.throws(() => CommandTemplate.parse('cmd \\'), /lone \\/);
  });
});

describe('configuration: flags, then environment, then the config file', () => {
  it('a flag wins over the environment, which wins over the file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'filepeer-cfg-'));
    try {
      const file = join(dir, 'c.json');
      await writeFile(file, JSON.stringify({ group: 'from-file', domains: ['file.#'], to: '/file', chunkSize: '64KiB', amqpUrl: 'amqp://file:5672', logLevel: 'debug' }));
      const fromFile = await receiveSettings({ config: file }, {});
      assert.deepEqual([fromFile.group, fromFile.domains, fromFile.to, fromFile.amqpUrl, fromFile.logLevel], ['from-file', ['file.#'], '/file', 'amqp://file:5672', 'debug']);
      const env = { FILEPEER_GROUP: 'from-env', FILEPEER_DOMAINS: 'env.a, env.b', FILEPEER_DEST_DIR: '/env', FILEPEER_AMQP_URL: 'amqp://env:5672' };
      const fromEnv = await receiveSettings({ config: file }, env);
      assert.deepEqual([fromEnv.group, fromEnv.domains, fromEnv.to, fromEnv.amqpUrl], ['from-env', ['env.a', 'env.b'], '/env', 'amqp://env:5672']);
      const fromFlags = await receiveSettings({ config: file, group: 'flag', domain: ['f.a,f.b', 'f.c'], to: 's3://bucket/p', url: 'amqp://flag:5672' }, env);
      assert.deepEqual([fromFlags.group, fromFlags.domains, fromFlags.to, fromFlags.amqpUrl], ['flag', ['f.a', 'f.b', 'f.c'], 's3://bucket/p', 'amqp://flag:5672']);
      const send = await sendSettings('x.bin', { config: file, domain: 'd' }, {});
      assert.equal(send.chunkSize, 64 * 1024);
      assert.equal((await sendSettings('x.bin', { config: file, domain: 'd' }, { FILEPEER_CHUNK_SIZE: '2MiB' })).chunkSize, 2 * 1024 * 1024);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
  it('a config file is checked whole: unknown keys, wrong types and bad JSON are errors that name the file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'filepeer-cfg-'));
    try {
      const write = async (name: string, text: string): Promise<string> => {
        await writeFile(join(dir, name), text);
        return join(dir, name);
      };
      await assert.rejects(loadConfigFile(await write('a.json', '{"grup":"x"}')), /a\.json: \(top level\): Unrecognized key.*grup/);
      await assert.rejects(loadConfigFile(await write('b.json', '{"groups":{"g":{"to":5}}}')), /b\.json: groups\.g\.to:/);
      await assert.rejects(loadConfigFile(await write('c.json', '{')), /c\.json is not JSON/);
      await assert.rejects(loadConfigFile(join(dir, 'none.json')), /none\.json: not found/);
      assert.deepEqual(await loadConfigFile(undefined), {});
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
  it('status takes its groups from the flags, else the config file, and refuses to guess', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'filepeer-cfg-'));
    try {
      const file = join(dir, 'c.json');
      await writeFile(file, JSON.stringify({ groups: { archive: { domains: ['reports.#'], to: '/srv' }, mirror: {} } }));
      assert.deepEqual((await statusSettings({ config: file }, {})).groups, [
        { group: 'archive', domains: ['reports.#'], to: '/srv' },
        { group: 'mirror', domains: [], to: undefined },
      ]);
      assert.deepEqual((await statusSettings({ config: file, group: ['mirror'], domain: ['x'] }, {})).groups, [{ group: 'mirror', domains: ['x'], to: undefined }]);
      await assert.rejects(statusSettings({}, {}), /status needs --group/);
      assert.deepEqual((await statusSettings({ managementUrl: 'http://localhost:15672' }, {})).groups, []);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('exit codes and error lines', () => {
  it('usage and configuration errors are 2, everything else 1', () => {
    assert.equal(exitCodeOf(new ConfigError('x')), ExitCode.Usage);
    assert.equal(exitCodeOf(new InvalidDomainError('a..b', 'empty word')), ExitCode.Usage);
    assert.equal(exitCodeOf(new BrokerError('down')), ExitCode.Runtime);
    assert.equal(exitCodeOf(new SinkError('s3')), ExitCode.Runtime);
    assert.equal(exitCodeOf(new Error('bug')), ExitCode.Runtime);
  });
  it('one line, whatever the message; the stacks only in debug', () => {
    const err = new BrokerError('cannot reach\n  the broker\n', { cause: new Error('ECONNREFUSED') });
    assert.equal(errorText(err, false), 'filepeer: cannot reach the broker\n');
    const debug = errorText(err, true);
    assert.match(debug, /^filepeer: cannot reach the broker\nBrokerError: cannot reach/);
    assert.match(debug, /caused by: Error: ECONNREFUSED\n\s+at /);
  });
});

describe('dead letters as an operator sees them', () => {
  it('reads the reason, the origin and the packet from filepeer’s headers', () => {
    const info = describeDeadLetter(
      rawMessage(
        'file.chunk',
        {
          [Header.Token]: TOKEN,
          [Header.Seq]: 4,
          [Header.DeadReason]: 'chunk-gap',
          [Header.DeadDetail]: 'expected packet 3, got 4',
          [Header.DeadQueue]: 'filepeer.g.reports',
          [Header.DeadRoutingKey]: 'nanite.filepeer.reports',
          [Header.DeadAt]: '2026-01-01T00:00:00.000Z',
          'x-filepeer-replays': 2,
        },
        Buffer.alloc(10),
      ),
    );
    assert.deepEqual(info, {
      type: 'file.chunk',
      token: TOKEN,
      seq: 4,
      bytes: 10,
      replays: 2,
      reason: 'chunk-gap',
      detail: 'expected packet 3, got 4',
      queue: 'filepeer.g.reports',
      routingKey: 'nanite.filepeer.reports',
      at: '2026-01-01T00:00:00.000Z',
      byBroker: false,
    });
    assert.ok(matchesFilter(info, { token: TOKEN, reason: 'chunk-gap' }));
    assert.ok(!matchesFilter(info, { token: undefined, reason: 'sink' }));
  });
  it('reads the broker’s x-death record for a packet the broker dead-lettered (the fallback)', () => {
    const info = describeDeadLetter(
      rawMessage(
        'file.start',
        {
          [Header.Token]: TOKEN,
          [Header.Seq]: 0,
          'x-first-death-queue': 'filepeer.g.reports',
          'x-first-death-reason': 'rejected',
          'x-death': [{ queue: 'filepeer.g.reports', reason: 'rejected', 'routing-keys': ['nanite.filepeer.reports'], time: { '!': 'timestamp', value: 1_767_225_600 } }],
        },
        Buffer.alloc(3),
      ),
    );
    assert.equal(info.reason, 'broker:rejected');
    assert.equal(info.queue, 'filepeer.g.reports');
    assert.equal(info.routingKey, 'nanite.filepeer.reports');
    assert.equal(info.at, '2026-01-01T00:00:00.000Z');
    assert.equal(info.byBroker, true);
  });
});

describe('the management API’s queue list', () => {
  it('asks GET /api/queues/<vhost> with the broker URL’s credentials, and reads the answer', async () => {
    const asked: Array<{ url: string | undefined; auth: string | undefined }> = [];
    const server = createServer((req, res) => {
      asked.push({ url: req.url, auth: req.headers.authorization });
      if (req.headers.authorization !== `Basic ${Buffer.from('fp:p@ss').toString('base64')}`) {
        res.writeHead(401).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify([{ name: 'filepeer.g.a', messages: 4, messages_unacknowledged: 1, consumers: 2 }, { name: 'other' }]));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const queues = await listQueues(base, 'amqp://fp:p%40ss@broker:5672/prod');
      assert.deepEqual(queues, [
        { name: 'filepeer.g.a', messages: 4, unacked: 1, consumers: 2 },
        { name: 'other', messages: 0, unacked: 0, consumers: 0 },
      ]);
      assert.equal(asked[0]!.url, '/api/queues/prod?columns=name,messages,messages_unacknowledged,consumers');
      await assert.rejects(listQueues(`http://nobody:wrong@127.0.0.1:${(server.address() as AddressInfo).port}/`, undefined), (e: unknown) => e instanceof ManagementApiError && /answered 401/.test(e.message) && !e.message.includes('wrong'));
      assert.equal(asked[1]!.url, '/api/queues/%2F?columns=name,messages,messages_unacknowledged,consumers', 'the default vhost is /');
    } finally {
      server.close();
    }
  });

  it('finds filepeer groups, their patterns and dead-letter queues among all queues', () => {
    const q = (name: string, messages = 0) => ({ name, messages, unacked: 0, consumers: 0 });
    const groups = filepeerGroups([q('filepeer.archive.reports.#', 3), q('filepeer.archive.logs'), q('filepeer-dead-letter.archive', 2), q('filepeer.mirror.*'), q('orders'), q('filepeer-x')]);
    assert.deepEqual([...groups.keys()], ['archive', 'mirror']);
    assert.deepEqual([...groups.get('archive')!.queues.keys()], ['reports.#', 'logs']);
    assert.equal(groups.get('archive')!.deadLetters?.messages, 2);
    assert.equal(groups.get('mirror')!.deadLetters, undefined);
  });
});
