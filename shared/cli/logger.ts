import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { createLogger, type Logger } from '../log.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const levelSchema = z.enum(LOG_LEVELS);

/** A log level from a flag, the environment or the config file; `what` names where it came from. */
export function parseLogLevel(value: string, what: string): LogLevel {
  const parsed = levelSchema.safeParse(value);
  if (!parsed.success) throw new ConfigError(`${what}: ${JSON.stringify(value)} is not a log level (${LOG_LEVELS.join(', ')})`);
  return parsed.data;
}

/**
 * The CLI's logger: the library's JSON lines on stderr, at `level`, with `bindings` (group, domain,
 * token) on every line. stdout stays the command's own output, for people and scripts.
 */
export function cliLogger(level: LogLevel, bindings: Record<string, unknown>): Logger {
  const logger = createLogger(bindings);
  logger.level = level;
  return logger;
}

/** Let the asynchronous log destination write out what it holds before the process exits. */
export function flushLogger(logger: Logger): Promise<void> {
  return new Promise((resolve) => logger.flush(() => resolve()));
}
