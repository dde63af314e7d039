import type S3rver from 's3rver';
import { encodeS3Key } from '../aws/s3-event.js';

interface S3rverRecord {
  eventName: string;
  s3: { bucket: { name: string }; object: { key: string } };
}

/**
 * Turn the embedded s3rver's event records for one bucket into what AWS would deliver to a Lambda:
 * s3rver puts the raw key in the record, AWS a URL-encoded one (`a+b%2Bc.txt` for `a b+c.txt`), so
 * the key is encoded here and decoded by the handler, exactly as in the cloud. Returns a function
 * that stops listening.
 */
export function forwardS3Events(server: S3rver, bucket: string, deliver: (event: { Records: unknown[] }) => void): () => void {
  const listener = (event: { Records: S3rverRecord[] }): void => {
    const records = event.Records.filter((r) => r.s3.bucket.name === bucket && r.eventName.startsWith('ObjectCreated:'));
    if (records.length === 0) return;
    deliver({
      Records: records.map((r) => ({ ...r, s3: { ...r.s3, object: { ...r.s3.object, key: encodeS3Key(r.s3.object.key) } } })),
    });
  };
  server.on('event', listener);
  return () => server.off('event', listener);
}
