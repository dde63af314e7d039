import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { amqpUrlFromEnv } from '../config/env.js';

const secretSchema = z.object({ username: z.string().min(1), password: z.string().min(1) });

let cached: { arn: string; url: string } | undefined;

/**
 * The broker URL a function connects to: FILEPEER_AMQP_URL (or AMQP_URL) when set (local runs,
 * tests); otherwise, in the cloud, BROKER_ENDPOINT (the Amazon MQ `amqps://host:5671` endpoint)
 * with the credentials of the Secrets Manager secret BROKER_SECRET_ARN ({"username","password"}).
 * The secret is read once per container; it never reaches a log line.
 */
export async function resolveBrokerUrl(env: NodeJS.ProcessEnv = process.env, client?: SecretsManagerClient): Promise<string> {
  const arn = env['BROKER_SECRET_ARN'];
  if (env['FILEPEER_AMQP_URL'] || env['AMQP_URL'] || !arn) return amqpUrlFromEnv(env);
  if (cached?.arn === arn) return cached.url;
  const endpoint = env['BROKER_ENDPOINT'];
  if (!endpoint) throw new ConfigError('BROKER_SECRET_ARN is set but BROKER_ENDPOINT (amqps://host:5671) is not');
  const out = await (client ?? new SecretsManagerClient({})).send(new GetSecretValueCommand({ SecretId: arn }));
  const parsed = secretSchema.safeParse(parseSecretJson(out.SecretString ?? '{}'));
  if (!parsed.success) throw new ConfigError(`secret ${arn} must be JSON with "username" and "password"`);
  const url = new URL(endpoint);
  url.username = encodeURIComponent(parsed.data.username);
  url.password = encodeURIComponent(parsed.data.password);
  cached = { arn, url: url.toString() };
  return cached.url;
}

/**
 * JSON.parse's SyntaxError quotes the text it choked on ("p@ss..." is not valid JSON), and a
 * secret stored as the bare password would put it in the error, the worker's stderr and the
 * Lambda's log. Not JSON is reported as "not the right shape", with no cause attached.
 */
function parseSecretJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
