import { appendFile, mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

/**
 * What one fault scenario did, counted by the test itself from what it observed (files it sent,
 * files it found delivered and verified, handler calls it saw), recorded *before* the test asserts,
 * so a failing scenario shows its losses in the report instead of vanishing from it.
 */
export interface ScenarioTally {
  /** One line of docs/RELIABILITY.md's table, e.g. "SIGKILL receiver mid 500 MiB, directory sink". */
  scenario: string;
  /** issue 4's headings: crash, broker, duplicates, abandoned, bad-input, security. */
  area: 'crash' | 'broker' | 'duplicates' | 'abandoned' | 'bad-input' | 'security';
  filesSent: number;
  /** Delivered and checked byte for byte (SHA-256 of the delivered copy against the source). */
  filesVerified: number;
  /** Sent, not delivered verified: must be 0. */
  filesLost: number;
  /** Handler (or callback) calls beyond one per file and group: must be 0. */
  duplicateHandlerCalls: number;
  badInputsTried: number;
  /** Refused with a typed error or dead-lettered with a reason, the consumer still serving. */
  badInputsRefused: number;
}

/** Where tallies go: FILEPEER_FAULTS_LEDGER, else test-results/faults.jsonl (git-ignored). */
export function ledgerPath(): string {
  return resolve(process.env['FILEPEER_FAULTS_LEDGER'] ?? 'test-results/faults.jsonl');
}

export async function recordTally(tally: Partial<ScenarioTally> & Pick<ScenarioTally, 'scenario' | 'area'>): Promise<void> {
  const full: ScenarioTally = {
    filesSent: 0,
    filesVerified: 0,
    filesLost: 0,
    duplicateHandlerCalls: 0,
    badInputsTried: 0,
    badInputsRefused: 0,
    ...tally,
  };
  const path = ledgerPath();
  await mkdir(dirname(path), { recursive: true });
  await appendFile(path, `${JSON.stringify({ ...full, at: new Date().toISOString() })}\n`);
}
