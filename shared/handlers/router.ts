import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { ConfigError, HandlerError, messageOf } from '../errors.js';
import type { ReceivedFile } from '../consumer/types.js';
import { topicMatches } from '../protocol/topic.js';
import { assertDomainPattern } from '../protocol/validate.js';
import type { DomainHandler, DomainHandlerEvent, HandlerTarget } from './types.js';

const targetsSchema = z.array(
  z.union([
    z.object({ pattern: z.string(), lambda: z.string().min(1) }).strict(),
    z.object({ pattern: z.string(), module: z.string().min(1), export: z.string().optional() }).strict(),
  ]),
);

/** Parse FILEPEER_HANDLERS-style JSON: `[{"pattern":"reports.#","lambda":"fn"}, {"pattern":"#","module":"./h.ts"}]`. */
export function parseHandlerTargets(json: string | undefined): HandlerTarget[] {
  if (!json) return [];
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (cause) {
    throw new ConfigError('handler configuration is not JSON', { cause });
  }
  const parsed = targetsSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(`handler configuration: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  for (const t of parsed.data) assertDomainPattern(t.pattern);
  return parsed.data;
}

function isSource(value: unknown): value is { bucket: string; key: string } {
  const v = value as { bucket?: unknown; key?: unknown } | null | undefined;
  return typeof v === 'object' && v !== null && typeof v.bucket === 'string' && typeof v.key === 'string';
}

/** The handler contract built from a delivered file. */
export function handlerEventOf(file: ReceivedFile): DomainHandlerEvent {
  const { source, ...meta } = file.meta;
  const event: DomainHandlerEvent = {
    domain: file.domain,
    group: file.group,
    token: file.token,
    filename: file.filename,
    destination: file.destination,
    size: file.size,
    sha256: file.sha256,
    meta: file.meta,
  };
  if (file.location.kind === 's3') Object.assign(event, { bucket: file.location.bucket, key: file.location.key });
  if (file.location.kind === 'directory') event.path = file.location.path;
  // The S3-triggered broadcast puts the uploaded object in meta.source (shared/aws/s3-object.ts).
  if (isSource(source)) {
    event.source = { bucket: source.bucket, key: source.key };
    event.meta = meta;
  }
  return event;
}

/**
 * Runs a file's domain handler: invokes a Lambda function asynchronously (InvocationType Event:
 * Lambda queues it and retries on failure) or calls a module's exported function in-process.
 */
export class HandlerRouter {
  private readonly modules = new Map<string, Promise<DomainHandler>>();

  constructor(
    private readonly targets: readonly HandlerTarget[],
    private readonly lambda?: LambdaClient,
  ) {}

  /** The handler's result (in-process), the invocation status (Lambda), or undefined when no pattern matches. */
  async dispatch(event: DomainHandlerEvent): Promise<unknown> {
    const target = this.targets.find((t) => topicMatches(t.pattern, event.domain));
    if (!target) return undefined;
    try {
      if ('lambda' in target) {
        if (!this.lambda) throw new ConfigError(`handler ${target.lambda} is a Lambda function but no Lambda client was configured`);
        const out = await this.lambda.send(
          new InvokeCommand({ FunctionName: target.lambda, InvocationType: 'Event', Payload: Buffer.from(JSON.stringify(event)) }),
        );
        return { invoked: target.lambda, statusCode: out.StatusCode };
      }
      const fn = await this.load(target.module, target.export ?? 'handler');
      return await fn(event);
    } catch (cause) {
      const name = 'lambda' in target ? target.lambda : target.module;
      throw new HandlerError(`handler ${name} for ${event.domain} failed: ${messageOf(cause)}`, { cause });
    }
  }

  private load(path: string, exportName: string): Promise<DomainHandler> {
    const key = `${path}#${exportName}`;
    let loaded = this.modules.get(key);
    if (!loaded) {
      loaded = import(pathToFileURL(resolve(path)).href).then((mod: Record<string, unknown>) => {
        const fn = mod[exportName] ?? mod['default'];
        if (typeof fn !== 'function') throw new ConfigError(`${path} exports no function ${exportName}`);
        return fn as DomainHandler;
      });
      this.modules.set(key, loaded);
    }
    return loaded;
  }
}
