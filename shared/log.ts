import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * The library's logger: JSON lines on stderr (stdout belongs to the program's own output),
 * level from FILEPEER_LOG_LEVEL (default info).
 */
export function createLogger(bindings: Record<string, unknown> = {}): Logger {
  const level = process.env['FILEPEER_LOG_LEVEL'] ?? 'info';
  return pino({ level, base: { app: 'filepeer', ...bindings } }, pino.destination({ fd: 2, sync: false }));
}

let shared: Logger | undefined;
export function defaultLogger(): Logger {
  shared ??= createLogger();
  return shared;
}
