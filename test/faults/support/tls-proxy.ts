import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * The broker on this machine listens on plain 127.0.0.1:5672 only and is shared with other suites,
 * so it cannot be given a TLS listener. Instead the tests put a TLS-terminating proxy in front of
 * it, with a certificate from a CA made up at test time: the client really negotiates TLS, really
 * validates the chain against the CA bundle it is given, and then speaks AMQP to the real broker.
 * Nothing here is committed to git: keys live in a temp directory removed by `remove()`.
 */

/** Fail with a useful message instead of an ENOENT from deep inside a `before`. */
export async function requireOpenssl(): Promise<string> {
  try {
    const { stdout } = await run('openssl', ['version']);
    return stdout.trim();
  } catch (cause) {
    throw new Error('the transport-security tests need the openssl CLI on PATH (apt-get install openssl)', { cause });
  }
}

export interface IssuedCertificate {
  certFile: string;
  keyFile: string;
  cert: Buffer;
  key: Buffer;
}

/** A throwaway certificate authority in a temp directory. */
export interface TestCa {
  dir: string;
  /** The CA certificate (PEM): the bundle a client is told to trust. */
  caFile: string;
  ca: Buffer;
  /** A certificate signed by this CA for `subjectAltNames` (`DNS:x`, `IP:y`): a server's, or a client's for mutual TLS. */
  issue(name: string, subjectAltNames: readonly string[], usage?: 'server' | 'client'): Promise<IssuedCertificate>;
  remove(): Promise<void>;
}

/**
 * Make a CA with the openssl CLI. Its own config files are written next to the keys so the
 * system's openssl.cnf (which differs between distributions) plays no part. EC P-256 keys: as
 * good as RSA for the purpose and generated in milliseconds.
 */
export async function createTestCa(label: string): Promise<TestCa> {
  await requireOpenssl();
  const dir = await mkdtemp(join(tmpdir(), 'filepeer-pki-'));
  const caFile = join(dir, 'ca.pem');
  const caKey = join(dir, 'ca.key');
  const caConfig = join(dir, 'ca.cnf');
  await writeFile(
    caConfig,
    [
      '[req]',
      'distinguished_name = dn',
      'prompt = no',
      'x509_extensions = v3_ca',
      '[dn]',
      // A unique subject: two test CAs must never be mistaken for one another by a verifier.
      `CN = filepeer test CA ${label} ${randomBytes(4).toString('hex')}`,
      '[v3_ca]',
      'basicConstraints = critical,CA:TRUE',
      'keyUsage = critical,keyCertSign,cRLSign',
      'subjectKeyIdentifier = hash',
      '',
    ].join('\n'),
  );
  try {
    await openssl(dir, ['req', '-x509', '-config', caConfig, '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', caKey, '-out', caFile, '-days', '2', '-sha256']);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const ca = await readFile(caFile);
  let issued = 0;
  return {
    dir,
    caFile,
    ca,
    async issue(name, subjectAltNames, usage = 'server') {
      const base = join(dir, `server-${++issued}`);
      const csrConfig = `${base}.cnf`;
      const extFile = `${base}.ext`;
      await writeFile(csrConfig, ['[req]', 'distinguished_name = dn', 'prompt = no', '[dn]', `CN = ${name}`, ''].join('\n'));
      await writeFile(
        extFile,
        [
          'basicConstraints = critical,CA:FALSE',
          'keyUsage = critical,digitalSignature',
          `extendedKeyUsage = ${usage === 'server' ? 'serverAuth' : 'clientAuth'}`,
          `subjectAltName = ${subjectAltNames.join(',')}`,
          'subjectKeyIdentifier = hash',
          'authorityKeyIdentifier = keyid',
          '',
        ].join('\n'),
      );
      await openssl(dir, ['req', '-new', '-config', csrConfig, '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${base}.key`, '-out', `${base}.csr`]);
      await openssl(dir, ['x509', '-req', '-in', `${base}.csr`, '-CA', caFile, '-CAkey', caKey, '-set_serial', `0x${randomBytes(8).toString('hex')}`, '-days', '2', '-sha256', '-extfile', extFile, '-out', `${base}.pem`]);
      return { certFile: `${base}.pem`, keyFile: `${base}.key`, cert: await readFile(`${base}.pem`), key: await readFile(`${base}.key`) };
    },
    async remove() {
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function openssl(cwd: string, args: string[]): Promise<void> {
  try {
    await run('openssl', args, { cwd });
  } catch (cause) {
    const stderr = (cause as { stderr?: string }).stderr ?? '';
    throw new Error(`openssl ${args[0]} failed: ${stderr.trim()}`, { cause });
  }
}

export interface TlsProxy {
  /** The proxy's port on 127.0.0.1 (connect as `localhost` or `127.0.0.1`: both are in the certificate). */
  port: number;
  /** TLS handshakes completed, i.e. connections piped to the broker. */
  readonly handshakes: number;
  /** Handshakes that failed, with the reason the server saw (a client refusing our CA sends an alert). */
  readonly handshakeFailures: readonly string[];
  /** Connections piped to the broker and still open. */
  readonly open: number;
  close(): Promise<void>;
}

/**
 * A TLS server on 127.0.0.1 (port 0: the OS picks) that pipes each connection, once the handshake
 * is done, to the plain AMQP listener at `target` (default: the local broker). It sends only its leaf certificate, as most
 * brokers do, so a client can only verify it with the CA in hand.
 */
export async function startTlsProxy(
  identity: { cert: Buffer; key: Buffer },
  target: { host: string; port: number } = { host: '127.0.0.1', port: 5672 },
  options: { clientCa?: Buffer } = {},
): Promise<TlsProxy> {
  const sockets = new Set<net.Socket>();
  const failures: string[] = [];
  let handshakes = 0;
  let open = 0;
  // With `clientCa`, a client must present a certificate from that CA (a broker doing mutual TLS).
  const clientAuth: tls.TlsOptions = options.clientCa ? { ca: options.clientCa, requestCert: true, rejectUnauthorized: true } : {};
  const server = tls.createServer({ cert: identity.cert, key: identity.key, minVersion: 'TLSv1.2', ...clientAuth }, (client) => {
    handshakes++;
    open++;
    const upstream = net.connect(target.port, target.host);
    sockets.add(client);
    sockets.add(upstream);
    // Either side ending ends the other (pipe does that); either side failing or closing tears
    // both down, so a broker closing the connection reaches the client as a closed TLS stream.
    client.pipe(upstream);
    upstream.pipe(client);
    let closed = false;
    const teardown = (): void => {
      if (closed) return;
      closed = true;
      open--;
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', teardown);
    upstream.on('error', teardown);
    client.on('close', teardown);
    upstream.on('close', teardown);
  });
  server.on('tlsClientError', (err: Error) => failures.push(err.message));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the TLS proxy has no TCP address');
  return {
    port: address.port,
    get handshakes() {
      return handshakes;
    },
    get handshakeFailures() {
      return failures;
    },
    get open() {
      return open;
    },
    async close() {
      const closing = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closing;
    },
  };
}

/** A port on 127.0.0.1 that nothing listens on (bound, then released): an unreachable broker. */
export async function unusedPort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
  const address = probe.address() as net.AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return address.port;
}
