import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeS3Key, encodeS3Key, parseS3Event } from '../../shared/aws/s3-event.js';
import { objectToken, routeObject } from '../../shared/aws/s3-object.js';
import { topicMatches } from '../../shared/protocol/topic.js';
import { parseHandlerTargets } from '../../shared/handlers/router.js';
import { runtimeConfigFromEnv, requireReceiver } from '../../shared/config/runtime.js';
import { ConfigError, InvalidDestinationError, InvalidDomainError, MalformedPacketError } from '../../shared/errors.js';

const record = (key: string, extra: Record<string, unknown> = {}) => ({
  eventSource: 'aws:s3',
  eventName: 'ObjectCreated:Put',
  s3: { bucket: { name: 'up' }, object: { key, size: 3, eTag: 'abc', sequencer: '01', ...extra } },
});

describe('S3 events', () => {
  it('decodes keys the AWS way: + is a space, %XX an escape', () => {
    assert.equal(decodeS3Key('incoming/global/a+b%2Bc%25.txt'), 'incoming/global/a b+c%.txt');
    assert.equal(decodeS3Key('caf%C3%A9/x%2By'), 'café/x+y');
  });

  it('encodes keys as AWS does, the inverse of decoding', () => {
    for (const key of ['incoming/global/a b+c%.txt', 'café/x y/ü+%20', 'plain/key.bin']) {
      assert.equal(decodeS3Key(encodeS3Key(key)), key);
    }
    assert.equal(encodeS3Key('incoming/global/a b+c%.txt'), 'incoming/global/a+b%2Bc%25.txt');
  });

  it('parses every ObjectCreated record and ignores other events', () => {
    const objects = parseS3Event({ Records: [record('a+b'), { ...record('gone'), eventName: 'ObjectRemoved:Delete' }, record('c%2Fd')] });
    assert.deepEqual(objects.map((o) => o.key), ['a b', 'c/d']);
    assert.equal(objects[0]!.bucket, 'up');
    assert.equal(objects[0]!.eTag, 'abc');
  });

  it('refuses what is not an S3 notification, or a key that is not URL-encoded', () => {
    assert.throws(() => parseS3Event({ Records: [{ eventSource: 'aws:sqs' }] }), MalformedPacketError);
    assert.throws(() => parseS3Event({}), MalformedPacketError);
    assert.throws(() => parseS3Event({ Records: [record('bad%zz')] }), MalformedPacketError);
  });
});

describe('routing an uploaded object', () => {
  const object = (key: string) => ({ bucket: 'up', key, versionId: undefined, eTag: 'e' });

  it('takes the domain from incoming/<domain>/ and the destination from the rest', () => {
    const r = routeObject(object('incoming/reports.eu/2026/q3.pdf'), {});
    assert.equal(r.domain, 'reports.eu');
    assert.equal(r.destination, '2026/q3.pdf');
  });

  it('falls back to the global domain and the whole key', () => {
    const r = routeObject(object('photos/cat.jpg'), {});
    assert.deepEqual([r.domain, r.destination], ['global', 'photos/cat.jpg']);
  });

  it('lets user metadata override domain and destination, and passes the rest on as meta with the source', () => {
    const r = routeObject(object('incoming/x/y.bin'), { 'filepeer-domain': 'images', 'filepeer-destination': 'pets/y.bin', owner: 'ops' });
    assert.deepEqual([r.domain, r.destination], ['images', 'pets/y.bin']);
    assert.deepEqual(r.meta, { owner: 'ops', source: { bucket: 'up', key: 'incoming/x/y.bin', versionId: null, eTag: 'e' } });
  });

  it('refuses a wildcard domain or an escaping destination from metadata', () => {
    assert.throws(() => routeObject(object('a'), { 'filepeer-domain': 'a.#' }), InvalidDomainError);
    assert.throws(() => routeObject(object('a'), { 'filepeer-destination': '../etc/passwd' }), InvalidDestinationError);
  });

  it('derives one token per object version: the same event twice, the same token; another upload, another', () => {
    const a = { bucket: 'up', key: 'k', versionId: undefined, eTag: 'e1', sequencer: '01' };
    assert.equal(objectToken(a), objectToken({ ...a }));
    assert.notEqual(objectToken(a), objectToken({ ...a, sequencer: '02' }));
    assert.notEqual(objectToken(a), objectToken({ ...a, eTag: 'e2' }));
    assert.match(objectToken(a), /^[0-9a-f]{32}$/);
  });
});

describe('domain handler configuration', () => {
  it('matches domains against topic patterns as the broker does', () => {
    assert.ok(topicMatches('#', 'a.b.c'));
    assert.ok(topicMatches('reports.#', 'reports'));
    assert.ok(topicMatches('reports.*', 'reports.eu'));
    assert.ok(!topicMatches('reports.*', 'reports.eu.x'));
    assert.ok(!topicMatches('reports.*', 'reports'));
    assert.ok(topicMatches('*.eu.#', 'reports.eu.q3.final'));
    assert.ok(!topicMatches('images', 'reports'));
  });

  it('parses handler targets and refuses typos with a clear error', () => {
    assert.deepEqual(parseHandlerTargets('[{"pattern":"#","lambda":"fn"}]'), [{ pattern: '#', lambda: 'fn' }]);
    assert.throws(() => parseHandlerTargets('[{"pattern":"#","lamda":"fn"}]'), ConfigError);
    assert.throws(() => parseHandlerTargets('not json'), ConfigError);
    assert.throws(() => parseHandlerTargets('[{"pattern":"a..b","lambda":"fn"}]'), InvalidDomainError);
  });

  it('reads function configuration from the environment, failing fast on bad values', () => {
    const config = runtimeConfigFromEnv({ FILEPEER_GROUP: 'archive', FILEPEER_DOMAINS: 'a, b.#', FILEPEER_DEST_DIR: '/tmp/x' });
    assert.deepEqual(config.domains, ['a', 'b.#']);
    assert.equal(requireReceiver(config).group, 'archive');
    assert.throws(() => runtimeConfigFromEnv({ FILEPEER_CHUNK_SIZE: 'big' }), /FILEPEER_CHUNK_SIZE/);
    assert.throws(() => runtimeConfigFromEnv({ FILEPEER_GROUP: 'bad group' }), ConfigError);
    assert.throws(() => requireReceiver(runtimeConfigFromEnv({ FILEPEER_GROUP: 'g' })), /FILEPEER_DEST_BUCKET/);
    assert.equal(runtimeConfigFromEnv({}).idleTimeoutMs, undefined, 'unset: the library default');
    assert.equal(runtimeConfigFromEnv({ FILEPEER_IDLE_TIMEOUT_MS: '4000' }).idleTimeoutMs, 4000);
    assert.throws(() => runtimeConfigFromEnv({ FILEPEER_IDLE_TIMEOUT_MS: '0' }), /FILEPEER_IDLE_TIMEOUT_MS must be positive/);
  });
});
