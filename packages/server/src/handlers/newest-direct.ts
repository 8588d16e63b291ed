// Per user, an id no direct message to or from them exceeds: a device login whose delivery starts
// at or past it has nothing to fetch, and skips the offline query (the common reconnect).
// In memory only: set exactly when DMs are appended (ids only grow), seeded from a full offline
// query otherwise, forgotten on restart.

/** Message ids are decimal strings of up to 20 digits. */
export function idValue(id: string): bigint {
  return BigInt(id);
}

export class NewestDirect {
  private readonly ceiling = new Map<string, bigint>();

  /** A DM with `id` was stored: it is the newest of both its users (ids are assigned in order). */
  appended(from: string, to: string, id: string): void {
    const value = idValue(id);
    this.ceiling.set(from, value);
    this.ceiling.set(to, value);
  }

  /** A query found no DM of `user` above `id`. Never lowers what appends recorded. */
  seed(user: string, id: string): void {
    const value = idValue(id);
    const known = this.ceiling.get(user);
    if (known === undefined || value > known) this.ceiling.set(user, value);
  }

  /** True when no DM of `user` can have an id above `start` (unknown users: false, query them). */
  nothingAfter(user: string, start: string): boolean {
    const known = this.ceiling.get(user);
    return known !== undefined && idValue(start) >= known;
  }
}
