/**
 * A domain handler for fault tests, loaded by the worker as a FILEPEER_HANDLERS module. It appends
 * one JSON line per call to the file named by FILEPEER_FAULTS_CALL_LOG. A file rather than memory,
 * because the workers that call it are killed and replaced: only something outside the process
 * can count calls across processes.
 */
import { appendFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { DomainHandlerEvent } from '../../../shared/handlers/types.js';

export const CALL_LOG_ENV = 'FILEPEER_FAULTS_CALL_LOG';

/** What one call leaves in the log. */
export interface LoggedCall {
  pid: number;
  token: string;
  group: string;
  domain: string;
  size: number;
  sha256: string;
}

export function handler(event: DomainHandlerEvent): { logged: string } {
  const path = process.env[CALL_LOG_ENV];
  if (!path) throw new Error(`${CALL_LOG_ENV} is not set`);
  const call: LoggedCall = { pid: process.pid, token: event.token, group: event.group, domain: event.domain, size: event.size, sha256: event.sha256 };
  // Synchronous: the line is in the file before the worker goes on to write its done-marker, so a
  // kill right after cannot hide a call.
  appendFileSync(path, `${JSON.stringify(call)}\n`);
  return { logged: path };
}

/** The calls logged so far (none when the file does not exist yet). */
export async function readCalls(path: string): Promise<LoggedCall[]> {
  const text = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return '';
    throw err;
  });
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as LoggedCall);
}
