// Preload for `npm run bench -- --nodelay` (a supporting experiment, not the product): turns
// Nagle's algorithm off on every socket the child opens, as `noDelay: true` in amqp.connect's
// socket options would (shared/broker/connect.ts does not set it; amqplib's default is false).
// It shows what that one-line change would give; see docs/BENCHMARKS.md.
import { Socket } from 'node:net';

const setNoDelay = Socket.prototype.setNoDelay;
Socket.prototype.setNoDelay = function noDelayAlways() {
  return setNoDelay.call(this, true);
};
