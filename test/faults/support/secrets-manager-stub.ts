import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the stub received, as the SDK sent it. */
export interface SecretsManagerRequest {
  /** The X-Amz-Target header: `secretsmanager.GetSecretValue` for the one call filepeer makes. */
  target: string | undefined;
  /** SecretId from the JSON body. */
  secretId: unknown;
  /** The SigV4 Authorization header: proves the SDK signed with the credentials in the environment. */
  authorization: string | undefined;
}

export interface SecretsManagerStub {
  /** For AWS_ENDPOINT_URL_SECRETS_MANAGER. */
  endpoint: string;
  readonly requests: readonly SecretsManagerRequest[];
  /** Store `secretString` under `arn` (replacing what was there). */
  put(arn: string, secretString: string): void;
  close(): Promise<void>;
}

/**
 * Just enough of AWS Secrets Manager for GetSecretValue, over the protocol the SDK speaks to it
 * (awsJson1_1: POST /, `X-Amz-Target: secretsmanager.<Operation>`, JSON in and out, errors as
 * `{"__type": ...}` with a 400). The functions find it through the SDK's own
 * AWS_ENDPOINT_URL_SECRETS_MANAGER variable, so the code under test is the code that runs in AWS.
 */
export async function startSecretsManagerStub(): Promise<SecretsManagerStub> {
  const secrets = new Map<string, string>();
  const requests: SecretsManagerRequest[] = [];
  const server = createServer((req, res) => void answer(req, res));

  async function answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const target = header(req, 'x-amz-target');
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
    } catch {
      return reply(res, 400, { __type: 'SerializationException', message: 'body is not JSON' });
    }
    requests.push({ target, secretId: body['SecretId'], authorization: header(req, 'authorization') });
    if (req.method !== 'POST' || target !== 'secretsmanager.GetSecretValue') {
      return reply(res, 400, { __type: 'UnknownOperationException', message: `the stub only answers GetSecretValue, got ${String(target)}` });
    }
    const arn = typeof body['SecretId'] === 'string' ? body['SecretId'] : '';
    const secret = secrets.get(arn);
    if (secret === undefined) {
      return reply(res, 400, { __type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." });
    }
    reply(res, 200, {
      ARN: arn,
      Name: nameOf(arn),
      VersionId: randomUUID(),
      SecretString: secret,
      VersionStages: ['AWSCURRENT'],
      CreatedDate: Math.floor(Date.now() / 1000),
    });
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    put(arn, secretString) {
      secrets.set(arn, secretString);
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function reply(res: ServerResponse, status: number, body: Record<string, unknown>): void {
  const text = JSON.stringify(body);
  const headers: Record<string, string | number> = { 'content-type': 'application/x-amz-json-1.1', 'content-length': Buffer.byteLength(text), 'x-amzn-requestid': randomUUID() };
  if (typeof body['__type'] === 'string') headers['x-amzn-errortype'] = body['__type'];
  res.writeHead(status, headers);
  res.end(text);
}

/** AWS names a secret's ARN `...:secret:<name>-<6 random characters>`. */
function nameOf(arn: string): string {
  const tail = arn.split(':secret:')[1] ?? arn;
  return tail.replace(/-[A-Za-z0-9]{6}$/, '');
}
