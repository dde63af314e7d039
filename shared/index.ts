/** filepeer's public API. Internals are imported from their modules by the functions and tests. */
export { Filepeer, type FilepeerOptions } from './peer.js';
export type { BroadcastOptions, BroadcastResult } from './producer/broadcast.js';
export type { ByteSource } from './producer/chunker.js';
export { Subscription } from './consumer/subscription.js';
export type { FileCallback, ReceivedFile, SubscribeOptions, SubscriptionStats } from './consumer/types.js';
export { MemorySink } from './sinks/memory.js';
export { DirectorySink, type DirectorySinkOptions } from './sinks/directory.js';
// The S3 sink loads the AWS SDK when it first talks to S3: importing this module does not.
export { S3Sink, type S3SinkOptions } from './sinks/s3.js';
export type { S3ClientOptions } from './sinks/s3-client-config.js';
export { loadS3Client } from './sinks/s3-load.js';
export type { Location, Sink, SinkTarget, SinkWriter } from './sinks/types.js';
export type { FileEnd, FileStart, Meta, JsonValue, Packet } from './protocol/types.js';
export * from './protocol/constants.js';
export * from './errors.js';
export { Defaults } from './config/defaults.js';
