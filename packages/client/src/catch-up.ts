// Pure bookkeeping for "no gap, no duplicate": which server message ids were already shown, and the
// newest id seen per conversation (the `after` cursor of the catch-up query after a reconnect).

/** Server message ids are decimal strings: compare them as numbers of any length. */
export function compareIds(a: string, b: string): number {
  const x = a.replace(/^0+(?=\d)/, '');
  const y = b.replace(/^0+(?=\d)/, '');
  if (x.length !== y.length) return x.length < y.length ? -1 : 1;
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Remembers the most recent `capacity` ids. */
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

/** Newest message id per conversation key ("#room" / "@user"). */
export class Cursors {
  private readonly last = new Map<string, string>();

  advance(conversation: string, id: string): void {
    const current = this.last.get(conversation);
    if (current === undefined || compareIds(id, current) > 0) this.last.set(conversation, id);
  }

  get(conversation: string): string | undefined {
    return this.last.get(conversation);
  }

  entries(): [string, string][] {
    return [...this.last];
  }
}

/** The messages of a catch-up batch not shown yet, oldest first, each id once. Marks them seen. */
export function takeUnseen<T extends { id: string }>(messages: readonly T[], seen: SeenIds): T[] {
  const sorted = [...messages].sort((a, b) => compareIds(a.id, b.id));
  return sorted.filter((m) => seen.add(m.id));
}

export function conversationKey(target: { room: string } | { user: string }): string {
  return 'room' in target ? `#${target.room}` : `@${target.user}`;
}
