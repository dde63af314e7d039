import * as amqp from 'amqplib';
import type { TlsOptions } from './tls.js';
import { connectArgs } from './url.js';

/**
 * Whether the broker accepts `basic.qos` with global=true (a channel-wide prefetch that can be
 * changed under a running consumer). RabbitMQ deprecated it in 4.0 and refuses it by default
 * from 4.3 (Amazon MQ for RabbitMQ 4.3 too). Probed on a throwaway connection, because whether
 * the refusal closes the channel or the whole connection has varied.
 */
export async function brokerAllowsGlobalPrefetch(url: string, tls?: TlsOptions): Promise<boolean> {
  let connection: amqp.ChannelModel | undefined;
  try {
    const args = connectArgs(url);
    connection = await amqp.connect(args.url, { noDelay: true, ...tls, ...(args.credentials && { credentials: args.credentials }) });
    connection.on('error', () => undefined);
    const channel = await connection.createChannel();
    channel.on('error', () => undefined);
    await channel.prefetch(1, true);
    return true;
  } catch {
    return false;
  } finally {
    await connection?.close().catch(() => undefined);
  }
}
