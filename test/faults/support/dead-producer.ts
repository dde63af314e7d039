/**
 * A producer process for the abandoned-transfer test: it broadcasts a large pseudo-random stream,
 * announced with its full size, at a limited pace, printing `{"sent":bytes}` after each block the
 * broadcast has taken, until the test SIGKILLs it mid-way. The pace keeps the kill point close to
 * the byte count the test chose (a producer at full speed would be far past it by the time the
 * signal lands). It is never meant to finish; if it does, it says so and the test fails.
 *
 * Settings (all required): FAULT_DOMAIN, FAULT_TOKEN, FAULT_DESTINATION, FAULT_BYTES (announced
 * and, if left alone, sent), FAULT_CHUNK_SIZE, FAULT_PACE_MS (pause after each 1 MiB block).
 */
import { pino } from 'pino';
import { Filepeer } from '../../../shared/index.js';
import { pseudoRandomBlocks } from '../../support/data.js';

function setting(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

const bytes = Number(setting('FAULT_BYTES'));
const paceMs = Number(setting('FAULT_PACE_MS'));

async function* paced(): AsyncGenerator<Buffer> {
  let sent = 0;
  for (const block of pseudoRandomBlocks(bytes, 99)) {
    yield block;
    // Resumed only once the broadcast took the block and asks for the next: it is on its way.
    sent += block.length;
    console.log(JSON.stringify({ sent }));
    await new Promise((r) => setTimeout(r, paceMs));
  }
}

const peer = await Filepeer.connect({ logger: pino({ level: 'warn' }, pino.destination(2)) });
const result = await peer.broadcastData('abandoned.bin', paced(), {
  domain: setting('FAULT_DOMAIN'),
  token: setting('FAULT_TOKEN'),
  destination: setting('FAULT_DESTINATION'),
  size: bytes,
  chunkSize: Number(setting('FAULT_CHUNK_SIZE')),
});
console.log(JSON.stringify({ finished: result.token }));
await peer.close();
