// Server message ids: decimal strings that grow with every stored message (server order).

/** Compares two ids as numbers of any length. */
export function compareIds(a: string, b: string): number {
  const x = a.replace(/^0+(?=\d)/, '');
  const y = b.replace(/^0+(?=\d)/, '');
  if (x.length !== y.length) return x.length < y.length ? -1 : 1;
  return x < y ? -1 : x > y ? 1 : 0;
}

/** The most recent `capacity` ids already shown: a message arriving twice (live and caught up) shows once. */
export class SeenIds {
  private readonly ids = new Set<string>();

  constructor(private readonly capacity = 20_000) {}

  has(id: string): boolean {
    return this.ids.has(id);
  }

  /** Adds `id`; false when it was already there (a duplicate). */
  add(id: string): boolean {
    if (this.ids.has(id)) return false;
    this.ids.add(id);
    if (this.ids.size > this.capacity) {
      const oldest = this.ids.values().next().value;
      if (oldest !== undefined) this.ids.delete(oldest);
    }
    return true;
  }

  toArray(): string[] {
    return [...this.ids];
  }
}
