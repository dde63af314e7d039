/**
 * A short, safe rendering of a value that came off the wire, for error messages.
 * Never recurses (JSON.stringify of a deeply nested value overflows the stack) and never
 * echoes more than a few dozen characters of hostile input.
 */
export function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'string') return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (Buffer.isBuffer(value)) return `${value.length} bytes`;
  return `a ${typeof value === 'object' ? 'object' : typeof value}`;
}
