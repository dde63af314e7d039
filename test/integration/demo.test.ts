import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';

const run = (env: NodeJS.ProcessEnv) =>
  promisify(execFile)(process.execPath, ['--import', 'tsx', 'functions/demo.ts'], { env: { ...process.env, FILEPEER_LOG_LEVEL: 'warn', ...env }, timeout: 120_000 });

describe('npm run demo', () => {
  it('uploads samples, broadcasts them through RabbitMQ to two groups and verifies every delivery', async () => {
    const { stdout } = await run({});
    assert.match(stdout, /6 deliveries \(3 files × 2 groups\) in [\d.]+ s, all verified/);
    assert.equal(stdout.match(/^VERIFIED /gm)?.length, 6);
    assert.match(stdout, /handler returned \{"handled":"s3:\/\/filepeer-received\/demo-archive\/a b\+c%\.txt"/);
  });

  it('says how to start RabbitMQ and exits 1 when the broker cannot be reached', async () => {
    await assert.rejects(run({ AMQP_URL: 'amqp://guest:guest@127.0.0.1:1', FILEPEER_AMQP_URL: '' }), (err: { code?: number; stderr?: string }) => {
      assert.equal(err.code, 1);
      assert.match(err.stderr ?? '', /cannot reach the broker .* rabbitmq-server -detached/);
      assert.doesNotMatch(err.stderr ?? '', /\n\s+at /, 'no stack trace');
      return true;
    });
  });
});
