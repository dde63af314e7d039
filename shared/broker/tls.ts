import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';

/**
 * TLS settings for an amqps:// broker, handed to node's tls.connect by amqplib. Amazon MQ's
 * certificates chain to public roots, so the default (node's CA store) is usually right; a private
 * broker needs its CA bundle.
 */
export interface TlsOptions {
  /** PEM CA certificates to trust instead of node's default store. */
  ca?: Buffer | string | Array<Buffer | string>;
  /** Client certificate and key (PEM), for brokers that authenticate clients by certificate. */
  cert?: Buffer | string;
  key?: Buffer | string;
  /** Name to check the broker's certificate against, when it differs from the URL's host. */
  servername?: string;
}

/**
 * TLS settings from the environment: FILEPEER_AMQP_CA_FILE (a PEM bundle), FILEPEER_AMQP_CERT_FILE
 * and FILEPEER_AMQP_KEY_FILE (client certificate), FILEPEER_AMQP_SERVERNAME. Unset: undefined.
 */
export function tlsOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): TlsOptions | undefined {
  const out: TlsOptions = {};
  const ca = env['FILEPEER_AMQP_CA_FILE'];
  const cert = env['FILEPEER_AMQP_CERT_FILE'];
  const key = env['FILEPEER_AMQP_KEY_FILE'];
  if (ca) out.ca = readPem('FILEPEER_AMQP_CA_FILE', ca);
  if (cert) out.cert = readPem('FILEPEER_AMQP_CERT_FILE', cert);
  if (key) out.key = readPem('FILEPEER_AMQP_KEY_FILE', key);
  if ((cert === undefined) !== (key === undefined)) {
    throw new ConfigError('FILEPEER_AMQP_CERT_FILE and FILEPEER_AMQP_KEY_FILE go together: set both or neither');
  }
  if (env['FILEPEER_AMQP_SERVERNAME']) out.servername = env['FILEPEER_AMQP_SERVERNAME'];
  return Object.keys(out).length > 0 ? out : undefined;
}

function readPem(name: string, path: string): Buffer {
  let pem: Buffer;
  try {
    pem = readFileSync(path);
  } catch (cause) {
    throw new ConfigError(`${name}: cannot read ${path}`, { cause });
  }
  if (!pem.includes('-----BEGIN ')) throw new ConfigError(`${name}: ${path} is not a PEM file`);
  return pem;
}
