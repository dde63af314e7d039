/** A domain handler for tests: records every call in a list the test can read. */
import type { DomainHandlerEvent } from '../../shared/handlers/types.js';

const calls: DomainHandlerEvent[] = [];

export function recordedCalls(): DomainHandlerEvent[] {
  return calls;
}

export async function handler(event: DomainHandlerEvent): Promise<{ recorded: number }> {
  calls.push(event);
  return { recorded: calls.length };
}
