import { pino, type Logger } from 'pino';

/** A pino logger whose lines a test can read back, parsed. */
export function captureLogs(level = 'info'): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  // pino writes one complete JSON line per call to a destination with a synchronous write().
  const logger = pino({ level }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { logger, lines };
}
