import { resolveBrokerUrl } from '../aws/broker-url.js';
import { tlsOptionsFromEnv } from '../broker/tls.js';
import type { Logger } from '../log.js';
import { Filepeer } from '../peer.js';
import type { CommonSettings } from './settings.js';

/**
 * The command's peer. The URL given by flag, environment or config file wins; otherwise the cloud's
 * BROKER_ENDPOINT + BROKER_SECRET_ARN, or the local default (resolveBrokerUrl). The first connection
 * is never retried (BrokerConnection.open): an unreachable broker is one error line at once.
 *
 * `oneShot` commands (status, dlq) do not wait for a lost connection to come back: they would rather
 * fail and be run again than hang with messages held unacknowledged.
 */
export async function connectCli(settings: CommonSettings, logger: Logger, options: { oneShot: boolean }): Promise<Filepeer> {
  return Filepeer.connect({
    url: settings.amqpUrl ?? (await resolveBrokerUrl()),
    exchange: settings.exchange,
    routingPrefix: settings.routingPrefix,
    tls: tlsOptionsFromEnv(),
    logger,
    ...(options.oneShot && { reconnect: { maxRetries: 0 } }),
  });
}
