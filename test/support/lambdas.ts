import { after, before } from 'node:test';
import type { ReceiverReport } from '../../shared/receiver/run.js';
import { BROKER_URL } from './broker.js';
import type { World } from './world.js';

type Handler = (event: unknown, context?: unknown) => Promise<unknown>;

/** The part of a Lambda context the receive handler reads. */
export interface TimeBudget {
  getRemainingTimeInMillis(): number;
}

/** A Lambda context whose remaining time runs out `ms` from now. */
export function budget(ms: number): TimeBudget {
  const end = Date.now() + ms;
  return { getRemainingTimeInMillis: () => end - Date.now() };
}

export interface Lambdas {
  /** The broadcast function's handler, given an S3 event. */
  broadcast(event: unknown): Promise<unknown>;
  /**
   * One receive run for `group` on `domains`, into `<group>/` of the destination bucket (the handler
   * reads its group from the environment, as in Lambda). Each run connects and subscribes afresh, as
   * a new Lambda invocation would: only what the sink persisted carries over from the run before.
   */
  receiveRun(group: string, domains: string, time: number | TimeBudget): Promise<ReceiverReport>;
}

/**
 * The broadcast and receive Lambda handlers, loaded in this process with the environment Lambda would
 * give them: the real broker, the world's s3rver, `received` as the destination bucket and
 * `handlersModule` as every domain's handler. They read it when loaded, so they are imported in
 * `before`, once it is set; the broadcast handler's cached connection is closed `after`.
 */
export function useLambdas(world: World, options: { received: string; handlersModule: string; idleExitMs?: number }): Lambdas {
  let broadcast: Handler | undefined;
  let receive: Handler | undefined;
  let closeBroadcast: () => Promise<void> = async () => undefined;
  before(async () => {
    Object.assign(process.env, {
      FILEPEER_AMQP_URL: BROKER_URL,
      FILEPEER_S3_ENDPOINT: world.s3.endpoint,
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      AWS_REGION: 'us-east-1',
      FILEPEER_DEST_BUCKET: options.received,
      FILEPEER_HANDLERS: JSON.stringify([{ pattern: '#', module: options.handlersModule }]),
      FILEPEER_RECEIVE_MARGIN_MS: '100',
      FILEPEER_RECEIVE_IDLE_EXIT_MS: String(options.idleExitMs ?? 1500),
      FILEPEER_LOG_LEVEL: process.env['FILEPEER_LOG_LEVEL'] ?? 'silent',
    });
    const broadcastModule = await import('../../functions/broadcast/handler.js');
    broadcast = broadcastModule.handler as Handler;
    closeBroadcast = broadcastModule.closeConnection;
    receive = (await import('../../functions/receive/handler.js')).handler as Handler;
  });
  after(() => closeBroadcast());
  const loaded = (h: Handler | undefined): Handler => {
    if (!h) throw new Error('the Lambda handlers are loaded in before(): call them from a test');
    return h;
  };
  return {
    broadcast: (event) => loaded(broadcast)(event),
    receiveRun(group, domains, time) {
      // Read synchronously when the run starts, so runs for several groups may be started together.
      process.env['FILEPEER_GROUP'] = group;
      process.env['FILEPEER_DOMAINS'] = domains;
      process.env['FILEPEER_DEST_PREFIX'] = `${group}/`;
      return loaded(receive)({ source: 'aws.events' }, typeof time === 'number' ? budget(time) : time) as Promise<ReceiverReport>;
    },
  };
}
