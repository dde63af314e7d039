import { resolveBrokerUrl } from '../aws/broker-url.js';
import type { RuntimeConfig } from '../config/runtime.js';
import { Filepeer } from '../peer.js';
import { tlsOptionsFromEnv } from '../broker/tls.js';
import type { Logger } from '../log.js';

/** Connect a function's peer: broker URL from the environment or Secrets Manager, topology from config. */
export async function connectFromConfig(config: RuntimeConfig, logger?: Logger): Promise<Filepeer> {
  return Filepeer.connect({
    url: await resolveBrokerUrl(),
    exchange: config.exchange,
    routingPrefix: config.routingPrefix,
    tls: tlsOptionsFromEnv(),
    logger,
  });
}
