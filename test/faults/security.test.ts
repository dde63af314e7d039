/**
 * Issue 4, point 6 — transport security: amqps:// with a CA bundle, credentials from the environment
 * or from Secrets Manager, and no secret in any log line.
 *
 * The broker on this machine is plain AMQP on 127.0.0.1:5672 and shared with other suites, so it is
 * not reconfigured: a TLS-terminating proxy with a CA made up at test time sits in front of it
 * (support/tls-proxy.ts). Clients negotiate TLS with the proxy, validate its certificate against
 * the bundle they were given, and speak AMQP through it to the real broker. Credentials from
 * Secrets Manager belong to a RabbitMQ user created for this suite, so they are what authenticates.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { inspect } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { pino, type Logger } from 'pino';
import { BrokerError, Filepeer, MemorySink, type ReceivedFile } from '../../shared/index.js';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { resolveBrokerUrl } from '../../shared/aws/broker-url.js';
import { tlsOptionsFromEnv, type TlsOptions } from '../../shared/broker/tls.js';
import { deadLetterQueueName, groupQueueName } from '../../shared/broker/topology.js';
import { queueExists, testLogger, uniq, waitFor } from '../support/broker.js';
import { pseudoRandomBuffer, sha256Of } from '../support/data.js';
import { recordTally } from './ledger.js';
import { closeConnectionsOf, connectionsOf, createBrokerUser, type BrokerUser } from './support/broker-user.js';
import { CapturedWorker, isolatedEnv } from './support/captured-worker.js';
import { startSecretsManagerStub, type SecretsManagerStub } from './support/secrets-manager-stub.js';
import { createTestCa, requireOpenssl, startTlsProxy, unusedPort, type TestCa, type TlsProxy } from './support/tls-proxy.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const AREA = 'security' as const;

/** What node says when a chain does not verify: the words a refusal must carry to the operator. */
const CERT_PROBLEM = /certificate/i;
const CERT_CODES = new Set(['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_SIGNATURE_FAILURE']);

/**
 * A password with the characters that break naive URL handling (`@ : / %`) around a random core.
 * The core is alphanumeric and appears in no other text, so finding it anywhere means the password,
 * or part of it, leaked, whatever encoding or truncation it went through. It starts with a letter
 * so that a password pasted unencoded into a URL can never be read as a port number.
 */
interface Secret {
  password: string;
  core: string;
}
function makeSecret(): Secret {
  const core = `K${randomBytes(8).toString('hex')}`;
  return { password: `p@ss:${core}/rd%`, core };
}

/**
 * The forms of `secret` found in `text`: whole (raw, URL-encoded), its random core, or any 8
 * characters of either whole form, because messages truncate what they quote (V8's JSON.parse
 * error shows the first 10 characters of its input) and a leaked half of a password is a leak.
 */
function leaksOf(text: string, secret: Secret): string[] {
  const found = new Set<string>();
  const wholes: Record<string, string> = { raw: secret.password, 'URL-encoded': encodeURIComponent(secret.password) };
  for (const [name, form] of Object.entries(wholes)) {
    if (text.includes(form)) found.add(name);
    for (let i = 0; i + 8 <= form.length; i++) {
      const piece = form.slice(i, i + 8);
      if (text.includes(piece)) found.add(`${name} fragment ${JSON.stringify(piece)}`);
    }
  }
  if (text.includes(secret.core)) found.add('random core');
  return [...found];
}

/** A pino logger at trace level writing into a string, as an application embedding filepeer would log. */
function bufferLogger(): { logger: Logger; text(): string } {
  let text = '';
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString('utf8');
      done();
    },
  });
  return { logger: pino({ level: 'trace' }, sink), text: () => text };
}

/** A fake but well-formed Secrets Manager ARN (AWS appends six random characters to the name). */
function secretArn(name: string): string {
  return `arn:aws:secretsmanager:eu-west-1:123456789012:secret:filepeer-test/${name}-${randomBytes(3).toString('hex')}`;
}

const FAKE_ACCESS_KEY = 'AKIAFILEPEERTEST0001';

describe('transport security: amqps:// through a TLS proxy to the real broker', () => {
  let ca: TestCa;
  /** A second, unrelated CA: "a bundle, but the wrong one". */
  let otherCa: TestCa;
  let proxy: TlsProxy;
  let sm: SecretsManagerStub;
  /** The suite's own RabbitMQ user; its password has URL-special characters. */
  let user: BrokerUser;
  let userSecret: Secret;
  /** guest over amqps with the CA: sends files to the workers, checks and deletes their queues. */
  let sender: Filepeer;
  let root: string;
  const cleanups: Array<() => Promise<void>> = [];

  before(async () => {
    await requireOpenssl();
    root = await mkdtemp(join(tmpdir(), 'filepeer-security-'));
    ca = await createTestCa('main');
    otherCa = await createTestCa('other');
    proxy = await startTlsProxy(await ca.issue('localhost', ['DNS:localhost', 'IP:127.0.0.1']));
    sm = await startSecretsManagerStub();
    userSecret = makeSecret();
    user = await createBrokerUser(userSecret.password);
    sender = await Filepeer.connect({ url: guestUrl(), tls: { ca: ca.ca }, logger: testLogger });
  });

  after(async () => {
    // Each step on its own: one failing must not leave a user, a server or a directory behind.
    const steps: Array<(() => Promise<void>) | undefined> = [
      ...cleanups.reverse(),
      () => sender?.close(),
      () => user?.remove(),
      () => sm?.close(),
      () => proxy?.close(),
      () => ca?.remove(),
      () => otherCa?.remove(),
      () => (root ? rm(root, { recursive: true, force: true }) : Promise.resolve()),
    ];
    for (const step of steps) await step?.().catch((err: unknown) => console.error('security suite cleanup:', err));
  });

  function guestUrl(port = proxy.port): string {
    return `amqps://guest:guest@localhost:${port}`;
  }

  /** amqps URL for the suite's user, the password percent-encoded as a URL requires. */
  function userUrl(password: string, port = proxy.port): string {
    return `amqps://${user.name}:${encodeURIComponent(password)}@localhost:${port}`;
  }

  /** How a logged URL for the suite's user must look: the password replaced, the rest intact. */
  function redacted(port = proxy.port): string {
    return `amqps://${user.name}:***@localhost:${port}`;
  }

  /** A receiver group and domain of the test's own, a destination directory, and its queues' removal. */
  function receiver(tag: string): { group: string; domain: string; dir: string; env: Record<string, string> } {
    const group = uniq(`sec-${tag}`);
    const domain = uniq(tag);
    const dir = join(root, group);
    cleanups.push(async () => {
      const channel = await sender.connection.createChannel();
      channel.on('error', () => undefined);
      await channel.deleteQueue(groupQueueName(group, domain)).catch(() => undefined);
      await channel.deleteQueue(deadLetterQueueName(group)).catch(() => undefined);
      await channel.close().catch(() => undefined);
    });
    return { group, domain, dir, env: { FILEPEER_GROUP: group, FILEPEER_DOMAINS: domain, FILEPEER_DEST_DIR: dir } };
  }

  /** The env of a worker that takes its credentials from the Secrets Manager stub. */
  function secretsManagerEnv(arn: string, endpoint = `amqps://localhost:${proxy.port}`): Record<string, string> {
    return {
      BROKER_ENDPOINT: endpoint,
      BROKER_SECRET_ARN: arn,
      // The SDK's own per-service endpoint variable: nothing in filepeer knows about the stub.
      AWS_ENDPOINT_URL_SECRETS_MANAGER: sm.endpoint,
      AWS_ACCESS_KEY_ID: FAKE_ACCESS_KEY,
      AWS_SECRET_ACCESS_KEY: 'fake-secret-access-key',
      AWS_REGION: 'eu-west-1',
    };
  }

  /** The worker's "connected to the broker" log line: which broker (URL redacted) and which CA. */
  function connectedLine(worker: CapturedWorker): { broker: unknown; ca: unknown } | undefined {
    const line = worker.logLines().find((l) => l['msg'] === 'connected to the broker');
    return line && { broker: line['broker'], ca: line['ca'] };
  }

  /** Wait until the worker bound its queue (a broadcast nobody is bound to is refused). */
  async function workerBound(worker: CapturedWorker, group: string, domain: string): Promise<void> {
    await waitFor(`worker ${group} to bind its queue`, async () => {
      worker.assertRunning('binding its queue');
      // A channel cut by a colleague's fault test (they close all connections) is "not yet", not a failure.
      return queueExists(sender.connection, groupQueueName(group, domain)).catch(() => false);
    }, 60_000);
  }

  /** Broadcast `data` to `domain` and wait for the worker's progress line for it; the delivered file's SHA-256. */
  async function sendToWorker(worker: CapturedWorker, domain: string, dir: string, destination: string, data: Buffer): Promise<string | undefined> {
    await sender.broadcastData('payload.bin', [data], { domain, destination, chunkSize: 256 * KiB });
    await waitFor(`the worker to report ${destination}`, () => {
      worker.assertRunning(`delivering ${destination}`);
      return worker.stdout.includes(`"delivered":${JSON.stringify(destination)}`);
    }, 60_000);
    return readFile(join(dir, destination)).then(sha256Of, () => undefined);
  }

  /** Connect and return the refusal, or fail if the connection was accepted. */
  async function refusal(url: string, tls: TlsOptions | undefined, logger: Logger = testLogger): Promise<unknown> {
    try {
      const peer = await Filepeer.connect({ url, tls, logger, reconnect: { maxRetries: 0 } });
      await peer.close();
    } catch (err) {
      return err;
    }
    assert.fail(`the connection to ${url.replace(/:[^:@/]*@/, ':***@')} was accepted`);
  }

  it('a peer on amqps:// with the CA bundle broadcasts a file and receives it on the same connection, byte-identical', async () => {
    const handshakesBefore = proxy.handshakes;
    const peer = await Filepeer.connect({ url: guestUrl(), tls: { ca: ca.ca }, logger: testLogger });
    const domain = uniq('tls');
    const group = uniq('sec-mem');
    const files: Array<ReceivedFile<{ kind: 'memory'; data: Buffer }>> = [];
    try {
      const sub = await peer.subscribeToFiles(domain, { group, sink: new MemorySink() }, (f) => {
        files.push(f);
      });
      const data = pseudoRandomBuffer(3 * MiB + 5, 61);
      const sent = await peer.broadcastData('tls.bin', [data], { domain, destination: 'tls/tls.bin', chunkSize: 256 * KiB });
      const file = await waitFor('the file to come back over TLS', () => files[0], 60_000);
      const verified = sha256Of(file.location.data) === sha256Of(data) ? 1 : 0;
      await recordTally({ scenario: 'amqps:// with a CA bundle: broadcast and receive on one TLS connection (memory sink)', area: AREA, filesSent: 1, filesVerified: verified, filesLost: 1 - verified });
      assert.equal(sent.sha256, sha256Of(data));
      assert.ok(file.location.data.equals(data), 'byte-identical');
      assert.equal(files.length, 1);
      // The URL's port is the proxy's, which speaks nothing but TLS: the connection (and the
      // capability probe's) were TLS handshakes validated against the CA.
      assert.ok(proxy.handshakes > handshakesBefore, 'the peer connected through the TLS proxy');
      await sub.close();
    } finally {
      const channel = await peer.connection.createChannel();
      await channel.deleteQueue(groupQueueName(group, domain));
      await channel.deleteQueue(deadLetterQueueName(group));
      await peer.close();
    }
  });

  it('the worker, configured only by its environment (FILEPEER_AMQP_URL=amqps://…, FILEPEER_AMQP_CA_FILE), receives a file over TLS', async () => {
    const r = receiver('env');
    const handshakesBefore = proxy.handshakes;
    const worker = new CapturedWorker(isolatedEnv(root, { ...r.env, FILEPEER_AMQP_URL: guestUrl(), FILEPEER_AMQP_CA_FILE: ca.caFile }));
    try {
      await workerBound(worker, r.group, r.domain);
      const data = pseudoRandomBuffer(2 * MiB + 3, 62);
      const got = await sendToWorker(worker, r.domain, r.dir, 'env/w.bin', data);
      await recordTally({ scenario: 'worker configured by env: amqps:// URL and CA file', area: AREA, filesSent: 1, filesVerified: got === sha256Of(data) ? 1 : 0, filesLost: got === sha256Of(data) ? 0 : 1 });
      assert.equal(got, sha256Of(data));
      assert.ok(proxy.handshakes > handshakesBefore, 'the worker connected through the TLS proxy');
      assert.deepEqual(connectedLine(worker), { broker: `amqps://guest:***@localhost:${proxy.port}`, ca: 'FILEPEER_AMQP_CA_FILE' });
      assert.equal((await worker.stop('SIGTERM')).code, 0, worker.stderr);
    } finally {
      await worker.dispose();
    }
  });

  it('without the CA bundle (node\'s default store) or with the wrong one, the connection is refused: a BrokerError naming the certificate problem; the worker exits 1 with one line on stderr', async () => {
    const failuresBefore = proxy.handshakeFailures.length;
    const noCa = await refusal(guestUrl(), undefined);
    const wrongCa = await refusal(guestUrl(), { ca: otherCa.ca });
    const worker = new CapturedWorker(isolatedEnv(root, { ...receiver('noca').env, FILEPEER_AMQP_URL: guestUrl() }));
    const exit = await worker.exited;
    const stderrLines = worker.stderr.split('\n').filter((l) => l.trim() !== '');

    const isCertRefusal = (err: unknown): boolean => err instanceof BrokerError && CERT_PROBLEM.test(err.message);
    const refused = [isCertRefusal(noCa), isCertRefusal(wrongCa), exit.code === 1 && stderrLines.length === 1 && CERT_PROBLEM.test(stderrLines[0] ?? '')].filter(Boolean).length;
    await recordTally({ scenario: 'amqps:// without the CA bundle / with the wrong CA: refused', area: AREA, badInputsTried: 3, badInputsRefused: refused });

    for (const err of [noCa, wrongCa]) {
      assert.ok(err instanceof BrokerError, `a BrokerError, got ${inspect(err)}`);
      assert.match(err.message, CERT_PROBLEM);
      assert.ok(err.message.includes(`amqps://guest:***@localhost:${proxy.port}`), `the message names the broker, password redacted: ${err.message}`);
      const code = (err.cause as NodeJS.ErrnoException | undefined)?.code;
      assert.ok(code !== undefined && CERT_CODES.has(code), `the cause is node's verification error, got ${String(code)}`);
    }
    assert.equal(exit.code, 1);
    assert.equal(stderrLines.length, 1, `one line on stderr, got:\n${worker.stderr}`);
    assert.match(stderrLines[0]!, /^worker: cannot reach the broker at amqps:\/\/guest:\*\*\*@localhost:\d+/);
    assert.match(stderrLines[0]!, CERT_PROBLEM);
    assert.equal(worker.stdout, '');
    // The refusal happened in the TLS handshake (the proxy saw the client's alert), not later.
    await waitFor('the proxy to see the refused handshakes', () => proxy.handshakeFailures.length >= failuresBefore + 3, 10_000);
  });

  it('FILEPEER_AMQP_SERVERNAME: a certificate for another name is refused, and accepted when that name is configured', async () => {
    const other = await startTlsProxy(await ca.issue('broker.filepeer.test', ['DNS:broker.filepeer.test']));
    try {
      const url = `amqps://guest:guest@127.0.0.1:${other.port}`;
      const mismatch = await refusal(url, tlsOptionsFromEnv({ FILEPEER_AMQP_CA_FILE: ca.caFile }));
      let accepted = false;
      const peer = await Filepeer.connect({ url, tls: tlsOptionsFromEnv({ FILEPEER_AMQP_CA_FILE: ca.caFile, FILEPEER_AMQP_SERVERNAME: 'broker.filepeer.test' }), logger: testLogger });
      try {
        const channel = await peer.connection.createChannel();
        await channel.checkExchange('amq.topic');
        await channel.close();
        accepted = true;
      } finally {
        await peer.close();
      }
      const refused = mismatch instanceof BrokerError && /altnames|does not match/i.test(mismatch.message) ? 1 : 0;
      await recordTally({ scenario: 'amqps:// certificate for another host name: refused unless FILEPEER_AMQP_SERVERNAME names it', area: AREA, badInputsTried: 1, badInputsRefused: refused });
      assert.ok(mismatch instanceof BrokerError, inspect(mismatch));
      assert.match(mismatch.message, /altnames|does not match/i);
      assert.ok(accepted);
    } finally {
      await other.close();
    }
  });

  it('FILEPEER_AMQP_CERT_FILE/KEY_FILE: a broker that requires a client certificate accepts the worker that presents one', async () => {
    const server = await ca.issue('localhost', ['DNS:localhost', 'IP:127.0.0.1']);
    const client = await ca.issue('filepeer-worker', ['DNS:filepeer-worker'], 'client');
    const mtls = await startTlsProxy(server, undefined, { clientCa: ca.ca });
    const r = receiver('mtls');
    const env = { ...r.env, FILEPEER_AMQP_URL: guestUrl(mtls.port), FILEPEER_AMQP_CA_FILE: ca.caFile };
    const without = new CapturedWorker(isolatedEnv(root, env));
    const worker = new CapturedWorker(isolatedEnv(root, { ...env, FILEPEER_AMQP_CERT_FILE: client.certFile, FILEPEER_AMQP_KEY_FILE: client.keyFile }));
    try {
      const refusedExit = await without.exited;
      await workerBound(worker, r.group, r.domain);
      const data = pseudoRandomBuffer(512 * KiB + 1, 63);
      const got = await sendToWorker(worker, r.domain, r.dir, 'mtls/w.bin', data);
      await recordTally({
        scenario: 'amqps:// with a client certificate (mutual TLS) from FILEPEER_AMQP_CERT_FILE/KEY_FILE',
        area: AREA,
        filesSent: 1,
        filesVerified: got === sha256Of(data) ? 1 : 0,
        filesLost: got === sha256Of(data) ? 0 : 1,
        badInputsTried: 1,
        badInputsRefused: refusedExit.code === 1 ? 1 : 0,
      });
      assert.equal(refusedExit.code, 1, `the worker without a client certificate is refused: ${without.stderr}`);
      // OpenSSL's reason ends in a newline of its own: still one line on stderr.
      assert.equal(without.stderr.trimEnd().split('\n').length, 1, without.stderr);
      assert.match(without.stderr, /^worker: cannot reach the broker at amqps:\/\/guest:\*\*\*@localhost:\d+ \(.*certificate required/);
      assert.equal(got, sha256Of(data));
      assert.equal((await worker.stop('SIGTERM')).code, 0, worker.stderr);
    } finally {
      await without.dispose();
      await worker.dispose();
      await mtls.close();
    }
  });

  it('credentials from Secrets Manager: the worker reads the secret named by BROKER_SECRET_ARN and authenticates with it', async () => {
    const arn = secretArn('broker');
    sm.put(arn, JSON.stringify({ username: user.name, password: user.password }));
    const asked = sm.requests.length;
    const r = receiver('sm');
    const worker = new CapturedWorker(isolatedEnv(root, { ...r.env, ...secretsManagerEnv(arn), FILEPEER_AMQP_CA_FILE: ca.caFile }));
    try {
      await workerBound(worker, r.group, r.domain);
      // The broker knows the connection by the secret's user name: nothing else has it.
      const connections = await connectionsOf(user.name);
      const data = pseudoRandomBuffer(1 * MiB + 7, 64);
      const got = await sendToWorker(worker, r.domain, r.dir, 'sm/w.bin', data);
      const exit = await worker.stop('SIGTERM');
      await recordTally({ scenario: 'worker with credentials from Secrets Manager (BROKER_ENDPOINT + BROKER_SECRET_ARN) over amqps://', area: AREA, filesSent: 1, filesVerified: got === sha256Of(data) ? 1 : 0, filesLost: got === sha256Of(data) ? 0 : 1 });
      assert.equal(got, sha256Of(data));
      assert.ok(connections.length >= 1, 'the worker is connected as the secret\'s user');
      assert.equal(exit.code, 0, worker.stderr);
      const requests = sm.requests.slice(asked);
      assert.deepEqual(requests.map((q) => [q.target, q.secretId]), [['secretsmanager.GetSecretValue', arn]], 'one GetSecretValue, for exactly that ARN');
      // Signed with the credentials in the environment, for the region in the environment.
      assert.match(requests[0]!.authorization ?? '', new RegExp(`^AWS4-HMAC-SHA256 Credential=${FAKE_ACCESS_KEY}/\\d{8}/eu-west-1/secretsmanager/aws4_request`));
      assert.deepEqual(leaksOf(worker.output, userSecret), []);
      // The URL built from the secret is logged, and only with its password replaced.
      assert.deepEqual(connectedLine(worker), { broker: redacted(), ca: 'FILEPEER_AMQP_CA_FILE' });
    } finally {
      await worker.dispose();
    }
  });

  describe('secrets never reach a log line or an error message', () => {
    /** Run one worker scenario at FILEPEER_LOG_LEVEL=trace to its end; its whole output. */
    async function failingWorker(env: Record<string, string>): Promise<{ code: number | null; output: string; stderr: string }> {
      const worker = new CapturedWorker(isolatedEnv(root, { ...receiver('fail').env, FILEPEER_LOG_LEVEL: 'trace', ...env }));
      try {
        const exit = await worker.exited;
        return { code: exit.code, output: worker.output, stderr: worker.stderr };
      } finally {
        await worker.dispose();
      }
    }

    it('worker at trace level: delivers, survives the broker closing its connection, delivers again; no password in its output', async () => {
      const arn = secretArn('trace');
      sm.put(arn, JSON.stringify({ username: user.name, password: user.password }));
      const r = receiver('trace');
      const worker = new CapturedWorker(isolatedEnv(root, { ...r.env, ...secretsManagerEnv(arn), FILEPEER_AMQP_CA_FILE: ca.caFile, FILEPEER_LOG_LEVEL: 'trace' }));
      try {
        await workerBound(worker, r.group, r.domain);
        const first = pseudoRandomBuffer(700 * KiB, 65);
        const got1 = await sendToWorker(worker, r.domain, r.dir, 'trace/1.bin', first);
        // Close only this suite's connections (the worker's), from the broker's side.
        const closed = await closeConnectionsOf(user.name, 'filepeer security test: closed by the broker');
        await waitFor('the worker to log the lost connection and its restoration', () => {
          worker.assertRunning('reconnecting');
          const msgs = worker.logLines().map((l) => l['msg']);
          return msgs.includes('broker connection lost, reconnecting') && msgs.includes('broker connection restored');
        }, 60_000);
        const second = pseudoRandomBuffer(300 * KiB, 66);
        const got2 = await sendToWorker(worker, r.domain, r.dir, 'trace/2.bin', second);
        const exit = await worker.stop('SIGTERM');
        const leaks = leaksOf(worker.output, userSecret);
        const verified = (got1 === sha256Of(first) ? 1 : 0) + (got2 === sha256Of(second) ? 1 : 0);
        await recordTally({ scenario: 'no secret in logs: worker at trace, delivery, broker-closed connection, reconnection', area: AREA, filesSent: 2, filesVerified: verified, filesLost: 2 - verified, badInputsTried: 1, badInputsRefused: leaks.length === 0 ? 1 : 0 });
        assert.deepEqual(leaks, [], `the password appeared in the worker's output:\n${worker.output}`);
        assert.ok(closed >= 1, 'the broker closed the worker\'s connection');
        assert.equal(verified, 2);
        assert.equal(exit.code, 0, worker.stderr);
        // Something was logged to search: debug and trace lines of a whole run, and the broker's URL, redacted.
        assert.ok(worker.logLines().length >= 5, `the worker logged at trace level:\n${worker.stderr}`);
        assert.deepEqual(connectedLine(worker), { broker: redacted(), ca: 'FILEPEER_AMQP_CA_FILE' });
      } finally {
        await worker.dispose();
      }
    });

    /** One refused start of the worker: exit code, a message naming the cause, and no password anywhere. */
    interface RefusedStart {
      scenario: string;
      /** The password the worker was given (found at run time: the suite's user exists only after `before`). */
      secret: () => Secret;
      env: () => Promise<Record<string, string>>;
      code: number;
      /** What the one error line must say. */
      says: RegExp;
      /** Where the message quotes the broker URL, it must be there with its password replaced. */
      redactedUrl?: (env: Record<string, string>) => string;
    }
    /** A secret in the stub holding `password` for the suite's user; the worker env that reads it. */
    const fromSecretsManager = (label: string, secretString: () => string, extra: Record<string, string> = {}, endpoint?: string): Record<string, string> => {
      const arn = secretArn(label);
      sm.put(arn, secretString());
      return { ...secretsManagerEnv(arn, endpoint), FILEPEER_AMQP_CA_FILE: ca.caFile, ...extra };
    };
    const asJson = (password: string) => () => JSON.stringify({ username: user.name, password });
    const wrong = makeSecret();
    const refusedStarts: RefusedStart[] = [
      {
        scenario: 'wrong password from Secrets Manager (authentication refused)',
        secret: () => wrong,
        env: async () => fromSecretsManager('wrong', asJson(wrong.password)),
        code: 1,
        says: /ACCESS[-_]REFUSED/,
        redactedUrl: () => redacted(),
      },
      {
        scenario: 'unreachable broker port',
        secret: () => userSecret,
        env: async () => fromSecretsManager('unreachable', asJson(user.password), {}, `amqps://localhost:${await unusedPort()}`),
        code: 1,
        says: /ECONNREFUSED/,
        redactedUrl: (env) => redacted(Number(new URL(env['BROKER_ENDPOINT']!).port)),
      },
      {
        scenario: 'bad CA bundle (another CA)',
        secret: () => userSecret,
        env: async () => fromSecretsManager('badca', asJson(user.password), { FILEPEER_AMQP_CA_FILE: otherCa.caFile }),
        code: 1,
        says: CERT_PROBLEM,
        redactedUrl: () => redacted(),
      },
      {
        // An easy mistake in the console: the secret value is the password itself.
        scenario: 'secret stored as the bare password instead of JSON',
        secret: () => userSecret,
        env: async () => fromSecretsManager('plain', () => user.password),
        code: 2,
        says: /must be JSON with "username" and "password"/,
      },
      {
        scenario: 'FILEPEER_AMQP_URL with the password pasted in unencoded',
        secret: () => userSecret,
        env: async () => ({ FILEPEER_AMQP_URL: `amqps://${user.name}:${user.password}@localhost:${proxy.port}`, FILEPEER_AMQP_CA_FILE: ca.caFile }),
        code: 2,
        says: /broker URL is not a URL/,
        redactedUrl: () => redacted(),
      },
      {
        scenario: 'FILEPEER_AMQP_URL with a wrong, correctly encoded password',
        secret: () => wrong,
        env: async () => ({ FILEPEER_AMQP_URL: userUrl(wrong.password), FILEPEER_AMQP_CA_FILE: ca.caFile }),
        code: 1,
        says: /ACCESS[-_]REFUSED/,
        redactedUrl: () => redacted(),
      },
    ];

    for (const s of refusedStarts) {
      it(`worker at trace level, ${s.scenario}: exits ${s.code}, says why, never prints the password`, async () => {
        const env = await s.env();
        const run = await failingWorker(env);
        const leaks = leaksOf(run.output, s.secret());
        const errorLine = run.stderr.split('\n').find((l) => l.startsWith('worker: ')) ?? '';
        const ok = leaks.length === 0 && run.code === s.code && s.says.test(errorLine) && (!s.redactedUrl || errorLine.includes(s.redactedUrl(env)));
        await recordTally({ scenario: `no secret in logs: worker refused, ${s.scenario}`, area: AREA, badInputsTried: 1, badInputsRefused: ok ? 1 : 0 });
        assert.deepEqual(leaks, [], `the password appeared in the worker's output:\n${run.output}`);
        assert.equal(run.code, s.code, run.output);
        assert.match(errorLine, s.says);
        if (s.redactedUrl) assert.ok(errorLine.includes(s.redactedUrl(env)), `the error names the broker URL, redacted (${s.redactedUrl(env)}): ${errorLine}`);
      });
    }

    it('in-process peer logging to pino at trace: delivery, a broker-closed connection and four refused connections; no password in the log or in the errors', async () => {
      const { logger, text } = bufferLogger();
      /** What an application would print of the errors it got: its own log line and console.error's rendering. */
      let printed = '';
      const url = userUrl(user.password);
      const peer = await Filepeer.connect({ url, tls: { ca: ca.ca }, logger, reconnect: { initialDelayMs: 100, maxDelayMs: 1_000 } });
      let restored = 0;
      peer.connection.on('restored', () => restored++);
      const domain = uniq('inproc');
      const group = uniq('sec-inproc');
      const files: Array<ReceivedFile<{ kind: 'memory'; data: Buffer }>> = [];
      let verified = 0;
      let closed = 0;
      try {
        const sub = await peer.subscribeToFiles(domain, { group, sink: new MemorySink() }, (f) => {
          files.push(f);
        });
        const first = pseudoRandomBuffer(600 * KiB, 67);
        await peer.broadcastData('a.bin', [first], { domain, destination: 'a.bin', chunkSize: 128 * KiB });
        await waitFor('the first file', () => files[0], 60_000);
        if (files[0]!.location.data.equals(first)) verified++;
        closed = await closeConnectionsOf(user.name, 'filepeer security test: closed by the broker');
        await waitFor('the peer to reconnect', () => restored > 0, 60_000);
        const second = pseudoRandomBuffer(200 * KiB, 68);
        await peer.broadcastData('b.bin', [second], { domain, destination: 'b.bin', chunkSize: 128 * KiB });
        await waitFor('the second file', () => files.find((f) => f.destination === 'b.bin'), 60_000);
        if (files.find((f) => f.destination === 'b.bin')!.location.data.equals(second)) verified++;
        await sub.close();
      } finally {
        const channel = await peer.connection.createChannel();
        await channel.deleteQueue(groupQueueName(group, domain)).catch(() => undefined);
        await channel.deleteQueue(deadLetterQueueName(group)).catch(() => undefined);
        await peer.close();
      }

      const unreachable = await unusedPort();
      const attempts: Array<{ what: string; url: string; tls: TlsOptions | undefined; redactedUrl: string; says: RegExp }> = [
        { what: 'wrong password', url: userUrl(`${user.password}-wrong`), tls: { ca: ca.ca }, redactedUrl: redacted(), says: /ACCESS[-_]REFUSED/ },
        { what: 'unreachable port', url: userUrl(user.password, unreachable), tls: { ca: ca.ca }, redactedUrl: redacted(unreachable), says: /ECONNREFUSED/ },
        { what: 'bad CA', url: url, tls: { ca: otherCa.ca }, redactedUrl: redacted(), says: CERT_PROBLEM },
        { what: 'no CA', url: url, tls: undefined, redactedUrl: redacted(), says: CERT_PROBLEM },
      ];
      let refusedClean = 0;
      const problems: string[] = [];
      for (const a of attempts) {
        const err = await refusal(a.url, a.tls, logger);
        // The ways an application would render it: pino's error serializer (stack, cause chain)
        // and console.error's (util.inspect, with the cause and its own properties).
        logger.error({ err }, `connect failed: ${a.what}`);
        const rendered = `${String(err)}\n${inspect(err, { depth: 6 })}`;
        printed += rendered;
        const message = err instanceof Error ? err.message : '';
        const good = err instanceof BrokerError && a.says.test(message) && message.includes(a.redactedUrl) && leaksOf(rendered, userSecret).length === 0;
        if (good) refusedClean++;
        else problems.push(`${a.what}: ${rendered}`);
      }
      const leaks = leaksOf(`${text()}\n${printed}`, userSecret);
      await recordTally({
        scenario: 'no secret in logs: in-process peer at trace, delivery, broker-closed connection, 4 refused connections',
        area: AREA,
        filesSent: 2,
        filesVerified: verified,
        filesLost: 2 - verified,
        badInputsTried: attempts.length + 1,
        badInputsRefused: refusedClean + (leaks.length === 0 ? 1 : 0),
      });
      assert.deepEqual(leaks, [], `the password appeared in the log or an error:\n${text()}\n${printed}`);
      assert.deepEqual(problems, [], 'every refusal is a BrokerError naming its cause and the redacted URL');
      assert.equal(verified, 2);
      assert.ok(closed >= 1, 'the broker closed the peer\'s connection');
      assert.match(text(), /broker connection lost, reconnecting/);
      assert.ok(text().split('\n').length > 10, 'there was a log to search');
    });
  });

  it(
    'a non-ASCII (UTF-8) password from Secrets Manager authenticates',
    async () => {
      const password = `pä$$wörd-${randomBytes(4).toString('hex')}`;
      const utf8User = await createBrokerUser(password, 'filepeer-sec-utf8');
      try {
        const arn = secretArn('utf8');
        sm.put(arn, JSON.stringify({ username: utf8User.name, password }));
        // The functions' own path: the URL built from the secret, as the worker and Lambdas build it.
        const client = new SecretsManagerClient({ endpoint: sm.endpoint, region: 'eu-west-1', credentials: { accessKeyId: FAKE_ACCESS_KEY, secretAccessKey: 'fake' } });
        const url = await resolveBrokerUrl({ BROKER_ENDPOINT: `amqps://localhost:${proxy.port}`, BROKER_SECRET_ARN: arn }, client);
        const peer = await Filepeer.connect({ url, tls: { ca: ca.ca }, logger: testLogger, reconnect: { maxRetries: 0 } });
        await peer.close();
      } finally {
        await utf8User.remove();
      }
    },
  );
});
