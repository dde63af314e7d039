/**
 * An example domain handler. In the cloud it is a Lambda function invoked asynchronously by the
 * receiver once per group and verified file; locally the same export is called in-process. It gets
 * the contract in shared/handlers/types.ts and here just reports what it was given.
 */
import type { DomainHandlerEvent } from '../../shared/handlers/types.js';

export interface ExampleResult {
  handled: string;
  bytes: number;
  from: string | null;
}

export async function handler(event: DomainHandlerEvent): Promise<ExampleResult> {
  const handled = event.bucket && event.key ? `s3://${event.bucket}/${event.key}` : event.path ?? event.destination;
  const result: ExampleResult = {
    handled,
    bytes: event.size,
    from: event.source ? `s3://${event.source.bucket}/${event.source.key}` : null,
  };
  // In Lambda, one JSON line to CloudWatch Logs; in-process callers print the returned value.
  if (process.env['AWS_LAMBDA_FUNCTION_NAME']) console.log(JSON.stringify({ msg: 'file handled', domain: event.domain, group: event.group, sha256: event.sha256, ...result }));
  return result;
}
