/**
 * A bounded memory of recent tokens (insertion order, oldest forgotten first), used to tell a
 * late duplicate of a finished or failed transfer from a chunk nobody announced.
 */
export class RecentTokens<V> {
  private readonly entries = new Map<string, V>();

  constructor(private readonly capacity: number) {}

  set(token: string, value: V): void {
    this.entries.delete(token);
    this.entries.set(token, value);
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
  }

  get(token: string): V | undefined {
    return this.entries.get(token);
  }

  has(token: string): boolean {
    return this.entries.has(token);
  }
}
