import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Channel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import {
  assertGroup,
  deadLetterExchangeOf,
  deadLetterQueueName,
  declareGroupQueue,
  domainOfRoutingKey,
  groupQueueName,
  routingKeyOf,
  type Topology,
} from '../../shared/broker/topology.js';
import { DeadLetterer } from '../../shared/consumer/dead-letter.js';
import { ConfigError, OversizeError } from '../../shared/errors.js';
import { encodeChunk } from '../../shared/protocol/codec.js';
import { DEFAULT_EXCHANGE, DEFAULT_ROUTING_PREFIX, Header } from '../../shared/protocol/constants.js';
import { TOKEN, asMessage } from './helpers.js';

const topology: Topology = { exchange: DEFAULT_EXCHANGE, routingPrefix: DEFAULT_ROUTING_PREFIX };

/** Records every broker call instead of making it. */
function recordingChannel(): { channel: Channel & ConfirmChannel; calls: unknown[][] } {
  const calls: unknown[][] = [];
  const record = (name: string) => async (...args: unknown[]) => {
    calls.push([name, ...args]);
    return {};
  };
  const channel = {
    assertExchange: record('assertExchange'),
    assertQueue: record('assertQueue'),
    bindQueue: record('bindQueue'),
    publish: (...args: unknown[]) => {
      calls.push(['publish', ...args.slice(0, -1)]);
      (args.at(-1) as (err: unknown) => void)(null);
      return true;
    },
  };
  return { channel: channel as unknown as Channel & ConfirmChannel, calls };
}

describe('topology names', () => {
  it('the defaults are Nanite\'s exchange and the nanite.filepeer routing prefix', () => {
    assert.equal(DEFAULT_EXCHANGE, 'file broadcast');
    assert.equal(DEFAULT_ROUTING_PREFIX, 'nanite.filepeer');
  });

  it('routingKeyOf puts the domain after the prefix and a dot', () => {
    assert.equal(routingKeyOf(topology, 'finance.eu'), 'nanite.filepeer.finance.eu');
  });

  it('domainOfRoutingKey gives back the domain, or null for a key outside the prefix', () => {
    assert.equal(domainOfRoutingKey(topology, 'nanite.filepeer.finance.eu'), 'finance.eu');
    assert.equal(domainOfRoutingKey(topology, 'nanite.filepeerx.a'), null);
    assert.equal(domainOfRoutingKey(topology, 'nanite.filepeer'), null);
    assert.equal(domainOfRoutingKey(topology, 'other.a'), null);
  });

  it('names the group queue filepeer.<group>.<pattern> and the dead-letter names after exchange and group', () => {
    assert.equal(groupQueueName('archive', 'finance.#'), 'filepeer.archive.finance.#');
    assert.equal(deadLetterExchangeOf(topology), 'file broadcast.dead-letter');
    assert.equal(deadLetterQueueName('archive'), 'filepeer-dead-letter.archive');
  });

  it('assertGroup accepts 1-100 characters of [A-Za-z0-9_-] and rejects anything else with ConfigError', () => {
    for (const group of ['a', 'archive-eu_1', 'x'.repeat(100)]) assert.equal(assertGroup(group), group);
    for (const group of ['', 'a.b', 'a b', 'a*', 'x'.repeat(101), 'ü']) assert.throws(() => assertGroup(group), ConfigError);
  });
});

describe('declareGroupQueue', () => {
  it('declares the durable topic exchange, a direct dead-letter exchange and queue, and a single-active-consumer group queue bound to the pattern', async () => {
    const { channel, calls } = recordingChannel();
    const names = await declareGroupQueue(channel, topology, 'archive', 'finance.*');
    assert.deepEqual(names, { queue: 'filepeer.archive.finance.*', deadLetterQueue: 'filepeer-dead-letter.archive' });
    assert.deepEqual(calls, [
      ['assertExchange', 'file broadcast', 'topic', { durable: true }],
      ['assertExchange', 'file broadcast.dead-letter', 'direct', { durable: true }],
      ['assertQueue', 'filepeer-dead-letter.archive', { durable: true }],
      ['bindQueue', 'filepeer-dead-letter.archive', 'file broadcast.dead-letter', 'archive'],
      ['assertQueue', 'filepeer.archive.finance.*', {
        durable: true,
        arguments: {
          'x-single-active-consumer': true,
          'x-dead-letter-exchange': 'file broadcast.dead-letter',
          'x-dead-letter-routing-key': 'archive',
        },
      }],
      ['bindQueue', 'filepeer.archive.finance.*', 'file broadcast', 'nanite.filepeer.finance.*'],
    ]);
  });
});

describe('DeadLetterer', () => {
  function consumed(): ConsumeMessage {
    const message = asMessage(encodeChunk(TOKEN, 3, Buffer.from('bytes')));
    return {
      ...message,
      fields: { deliveryTag: 1, redelivered: false, exchange: 'file broadcast', routingKey: 'nanite.filepeer.global', consumerTag: 'c' },
    };
  }

  it('republishes the packet to the dead-letter exchange under the group\'s key with the reason and detail headers', async () => {
    const { channel, calls } = recordingChannel();
    const msg = consumed();
    const before = Date.now();
    await new DeadLetterer(channel, 'file broadcast.dead-letter', 'archive', 'filepeer.archive.global').send(msg, new OversizeError('too big'));
    assert.equal(calls.length, 1);
    const [name, exchange, routingKey, content, options] = calls[0] as [string, string, string, Buffer, Record<string, unknown>];
    assert.equal(name, 'publish');
    assert.equal(exchange, 'file broadcast.dead-letter');
    assert.equal(routingKey, 'archive');
    assert.equal(content, msg.content);
    assert.equal(options['persistent'], true);
    assert.equal(options['type'], 'file.chunk');
    assert.equal(options['messageId'], `${TOKEN}:3`);
    assert.equal(options['contentType'], 'application/octet-stream');
    assert.equal(options['appId'], 'filepeer');
    const headers = options['headers'] as Record<string, unknown>;
    assert.equal(headers[Header.Version], 1, 'the original headers are kept');
    assert.equal(headers[Header.Token], TOKEN);
    assert.equal(headers[Header.Seq], 3);
    assert.equal(headers['x-filepeer-dead-reason'], 'oversize');
    assert.equal(headers['x-filepeer-dead-detail'], 'too big');
    assert.equal(headers['x-filepeer-dead-group'], 'archive');
    assert.equal(headers['x-filepeer-dead-queue'], 'filepeer.archive.global');
    assert.equal(headers['x-filepeer-dead-routing-key'], 'nanite.filepeer.global');
    const at = Date.parse(headers['x-filepeer-dead-at'] as string);
    assert.ok(at >= before - 1000 && at <= Date.now() + 1000);
    assert.equal(new Date(at).toISOString(), headers['x-filepeer-dead-at']);
  });

  it('writes internal-error for a platform error and cuts the detail to 1024 characters', async () => {
    const { channel, calls } = recordingChannel();
    await new DeadLetterer(channel, 'dlx', 'g', 'q').send(consumed(), new TypeError('x'.repeat(5000)));
    const headers = (calls[0]![4] as { headers: Record<string, unknown> }).headers;
    assert.equal(headers['x-filepeer-dead-reason'], 'internal-error');
    assert.equal((headers['x-filepeer-dead-detail'] as string).length, 1024);
  });
});
