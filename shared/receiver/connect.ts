import { resolveBrokerUrl } from '../aws/broker-url.js';
import type { RuntimeConfig } from '../config/runtime.js';
import { Filepeer } from '../peer.js';
import { tlsOptionsFromEnv } from '../broker/tls.js';
import { redactUrl } from '../config/env.js';
import type { Logger } from '../log.js';

/** Connect a function's peer: broker URL from the environment or Secrets Manager, topology from config. */
export async function connectFromConfig(config: RuntimeConfig, logger?: Logger): Promise<Filepeer> {
  const url = await resolveBrokerUrl();
  const tls = tlsOptionsFromEnv();
  const peer = await Filepeer.connect({
    url,
    exchange: config.exchange,
    routingPrefix: config.routingPrefix,
    tls,
    logger,
  });
  // Which broker, and trusted how, is the first question when a deploy cannot connect or connects
  // to the wrong place; the URL may carry the secret's password, so only its redacted form.
  peer.logger.info({ broker: redactUrl(url), ca: tls?.ca ? 'FILEPEER_AMQP_CA_FILE' : 'default store', clientCertificate: tls?.cert !== undefined }, 'connected to the broker');
  return peer;
}
