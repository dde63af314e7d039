import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';

type Json = Record<string, unknown>;
interface Resource {
  Type: string;
  Properties: Json;
  DependsOn?: unknown;
}
interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

/** `sls package` (osls 4, offline with fake credentials) into a temp dir, and the template it wrote. */
async function packageStack(dir: string): Promise<{ resources: Record<string, Resource>; artifacts: string[] }> {
  await promisify(execFile)('./node_modules/.bin/sls', ['package', '--stage', 'test', '--package', dir], {
    env: { ...process.env, AWS_ACCESS_KEY_ID: 'offline', AWS_SECRET_ACCESS_KEY: 'offline', AWS_REGION: 'eu-west-1' },
    timeout: 180_000,
  });
  const template = JSON.parse(await readFile(join(dir, 'cloudformation-template-update-stack.json'), 'utf8')) as { Resources: Record<string, Resource> };
  return { resources: template.Resources, artifacts: await readdir(dir) };
}

const actionsOf = (s: Statement): string[] => (Array.isArray(s.Action) ? s.Action : [s.Action]);
const asText = (v: unknown): string => JSON.stringify(v);

describe('serverless.yml, packaged offline', () => {
  let dir: string;
  let resources: Record<string, Resource>;
  let artifacts: string[];
  const ofType = (type: string): Array<[string, Resource]> => Object.entries(resources).filter(([, r]) => r.Type === type);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'filepeer-sls-'));
    ({ resources, artifacts } = await packageStack(dir));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('bundles the three functions with esbuild for nodejs22.x', () => {
    assert.deepEqual(artifacts.filter((a) => a.endsWith('.zip')).sort(), ['broadcast.zip', 'handler-example.zip', 'receive.zip']);
    const fns = ofType('AWS::Lambda::Function');
    assert.deepEqual(fns.map(([id]) => id).sort(), ['BroadcastLambdaFunction', 'HandlerDashexampleLambdaFunction', 'ReceiveLambdaFunction']);
    for (const [, fn] of fns) assert.equal(fn.Properties['Runtime'], 'nodejs22.x');
  });

  it('triggers broadcast on every ObjectCreated event of the upload bucket', () => {
    const uploads = resources['S3BucketUploads']!;
    assert.equal(uploads.Type, 'AWS::S3::Bucket');
    const config = (uploads.Properties['NotificationConfiguration'] as { LambdaConfigurations: Json[] }).LambdaConfigurations;
    assert.equal(config.length, 1);
    assert.equal(config[0]!['Event'], 's3:ObjectCreated:*');
    assert.deepEqual(config[0]!['Function'], { 'Fn::GetAtt': ['BroadcastLambdaFunction', 'Arn'] });
    const permission = resources['BroadcastLambdaPermissionUploadsS3']!;
    assert.equal(permission.Properties['Principal'], 's3.amazonaws.com');
  });

  it('runs receive on a schedule', () => {
    const rules = ofType('AWS::Events::Rule');
    assert.equal(rules.length, 1);
    const rule = rules[0]![1];
    assert.equal(rule.Properties['ScheduleExpression'], 'rate(1 minute)');
    assert.match(asText(rule.Properties['Targets']), /ReceiveLambdaFunction/);
  });

  it('aborts incomplete multipart uploads in the destination bucket', () => {
    const rules = (resources['DestinationBucket']!.Properties['LifecycleConfiguration'] as { Rules: Json[] }).Rules;
    const abort = rules.find((r) => r['AbortIncompleteMultipartUpload']);
    assert.ok(abort, 'a rule with AbortIncompleteMultipartUpload');
    assert.equal(abort['Status'], 'Enabled');
    assert.deepEqual(abort['AbortIncompleteMultipartUpload'], { DaysAfterInitiation: 1 });
  });

  it('declares a RabbitMQ broker whose credentials live in Secrets Manager', () => {
    const [[, broker]] = ofType('AWS::AmazonMQ::Broker') as [[string, Resource]];
    assert.equal(broker.Properties['EngineType'], 'RABBITMQ');
    const users = asText(broker.Properties['Users']);
    assert.match(users, /resolve:secretsmanager:\$\{BrokerSecret\}:SecretString:password/);
    assert.doesNotMatch(users, /"Password":"[^{]/, 'no literal password');
    const [[, secret]] = ofType('AWS::SecretsManager::Secret') as [[string, Resource]];
    assert.ok(secret.Properties['GenerateSecretString']);
    for (const [, fn] of ofType('AWS::Lambda::Function')) {
      assert.doesNotMatch(asText(fn.Properties['Environment']), /password/i, 'no credentials in function environments');
    }
  });

  it('defines an ECS task for the worker', () => {
    const [[, task]] = ofType('AWS::ECS::TaskDefinition') as [[string, Resource]];
    assert.deepEqual(task.Properties['RequiresCompatibilities'], ['FARGATE']);
    assert.match(asText(task.Properties['ContainerDefinitions']), /FILEPEER_GROUP/);
    assert.ok(task.Properties['TaskRoleArn']);
  });

  /** Every IAM statement in the stack: the functions' role and the worker's. */
  function statements(): Statement[] {
    const out: Statement[] = [];
    for (const [, role] of ofType('AWS::IAM::Role')) {
      for (const policy of (role.Properties['Policies'] as Array<{ PolicyDocument: { Statement: Statement[] } }> | undefined) ?? []) {
        out.push(...policy.PolicyDocument.Statement);
      }
    }
    return out;
  }

  it('grants s3 and lambda actions on named resources only, never "*"', () => {
    const scoped = statements().filter((s) => actionsOf(s).some((a) => /^(s3|lambda):/.test(a)));
    assert.ok(scoped.length >= 4);
    for (const s of scoped) {
      const resources = Array.isArray(s.Resource) ? s.Resource : [s.Resource];
      for (const r of resources) {
        assert.notEqual(r, '*', `${actionsOf(s).join(',')} on *`);
        assert.doesNotMatch(asText(r), /^"arn:[^"]*:(s3:::|function:)\*/, `${actionsOf(s).join(',')} on a wildcard bucket or function`);
      }
      for (const a of actionsOf(s)) assert.doesNotMatch(a, /\*/, `wildcard action ${a}`);
    }
  });

  it('reads only the upload bucket, writes only the destination, invokes only the handler', () => {
    for (const s of statements()) {
      const actions = actionsOf(s);
      const target = asText(s.Resource);
      if (actions.some((a) => ['s3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'].includes(a))) {
        assert.match(target, /DestinationBucket\.Arn/, `writes go to the destination bucket only (${target})`);
      }
      if (actions.includes('s3:GetObject') && !/DestinationBucket/.test(target)) {
        assert.match(target, /filepeer-uploads-test-/, `reads outside the destination are of the upload bucket (${target})`);
        assert.deepEqual(actions, ['s3:GetObject'], 'the upload bucket is read-only');
      }
      if (actions.includes('lambda:InvokeFunction')) {
        assert.match(target, /function:filepeer-test-handler-example"/);
      }
    }
  });
});
