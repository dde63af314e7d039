import * as amqp from 'amqplib';
import type { ChannelModel } from 'amqplib';
import { BrokerError, messageOf } from '../errors.js';
import { redactUrl } from '../config/env.js';
import { Defaults } from '../config/defaults.js';
import type { Logger } from '../log.js';

export type Connection = ChannelModel;

/** Open a connection, turning amqplib's socket errors into one BrokerError that says where and how to fix it. */
export async function connectBroker(
  url: string,
  options: { heartbeatSeconds?: number; logger: Logger },
): Promise<Connection> {
  let connection: Connection;
  try {
    connection = await amqp.connect(withHeartbeat(url, options.heartbeatSeconds ?? Defaults.heartbeatSeconds));
  } catch (cause) {
    const detail = messageOf(cause);
    throw new BrokerError(
      `cannot reach the broker at ${redactUrl(url)} (${detail}); is RabbitMQ running? (start it with: rabbitmq-server -detached)`,
      { cause },
    );
  }
  // Without an 'error' listener an unexpected close would crash the process.
  connection.on('error', (err: Error) => options.logger.error({ err: err.message }, 'broker connection error'));
  connection.on('blocked', (reason: string) => options.logger.warn({ reason }, 'broker blocked the connection'));
  connection.on('unblocked', () => options.logger.info('broker unblocked the connection'));
  return connection;
}

/** amqplib reads the heartbeat from the URL; keep one the caller put there. */
function withHeartbeat(url: string, seconds: number): string {
  const parsed = new URL(url);
  if (!parsed.searchParams.has('heartbeat')) parsed.searchParams.set('heartbeat', String(seconds));
  return parsed.toString();
}
