/**
 * An example domain handler. In the cloud it is a Lambda function invoked asynchronously by the
 * receiver once per group and verified file; locally the same export is called in-process. It gets
 * the contract in shared/handlers/types.ts and here just reports what it was given.
 */
import type { DomainHandlerEvent } from '../../shared/handlers/types.js';

export interface ExampleResult {
  handled: string;
  domain: string;
  group: string;
  bytes: number;
  sha256: string;
  from: string | null;
}

export async function handler(event: DomainHandlerEvent): Promise<ExampleResult> {
  const handled = event.bucket && event.key ? `s3://${event.bucket}/${event.key}` : event.path ?? event.destination;
  const result: ExampleResult = {
    handled,
    domain: event.domain,
    group: event.group,
    bytes: event.size,
    sha256: event.sha256,
    from: event.source ? `s3://${event.source.bucket}/${event.source.key}` : null,
  };
  // One JSON line: CloudWatch Logs in Lambda, stderr locally.
  console.error(JSON.stringify({ msg: 'file handled', ...result }));
  return result;
}
