import type { EmbeddedS3 } from '../../../shared/local/embedded-s3.js';

/** The part of s3rver's event records these tests read. */
interface S3rverEvent {
  Records: Array<{ eventName: string; s3: { object: { key: string } } }>;
}

/**
 * Call `onCreated(key)` each time the embedded s3rver has finished storing an object (a PUT, a
 * completed multipart upload) whose key passes `match`. Returns a function that stops listening.
 */
export function onObjectCreated(s3: EmbeddedS3, match: (key: string) => boolean, onCreated: (key: string) => void): () => void {
  const listener = (event: S3rverEvent): void => {
    for (const r of event.Records) if (r.eventName.startsWith('ObjectCreated:') && match(r.s3.object.key)) onCreated(r.s3.object.key);
  };
  s3.server.on('event', listener);
  return () => {
    s3.server.off('event', listener);
  };
}
