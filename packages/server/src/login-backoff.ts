// Exponential back-off after failed logins, keyed by address or account. Pure: the caller passes
// the clock, so tests drive time directly. Bounded memory: stale entries are forgotten.

export interface BackoffOptions {
  /** Failures allowed before any delay. */
  freeAttempts: number;
  /** Delay after the first failure past the free ones; doubles with each further failure. */
  baseMs: number;
  maxMs: number;
  /** A key with no failure for this long starts over. */
  forgetAfterMs: number;
  maxEntries: number;
}

interface Entry {
  failures: number;
  lastFailure: number;
  blockedUntil: number;
}

export class LoginBackoff {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly opts: BackoffOptions) {}

  /** Milliseconds the key must still wait; 0 when it may try now. */
  blockedFor(key: string, now: number): number {
    const e = this.live(key, now);
    return e ? Math.max(0, e.blockedUntil - now) : 0;
  }

  fail(key: string, now: number): void {
    const e = this.live(key, now) ?? { failures: 0, lastFailure: now, blockedUntil: 0 };
    e.failures++;
    e.lastFailure = now;
    const over = e.failures - this.opts.freeAttempts;
    if (over > 0) e.blockedUntil = now + Math.min(this.opts.maxMs, this.opts.baseMs * 2 ** Math.min(over - 1, 30));
    this.entries.delete(key); // re-insert: Map order doubles as least-recently-failed order
    this.entries.set(key, e);
    if (this.entries.size > this.opts.maxEntries) this.evict(now);
  }

  reset(key: string): void {
    this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }

  private live(key: string, now: number): Entry | undefined {
    const e = this.entries.get(key);
    if (e && now - e.lastFailure > this.opts.forgetAfterMs && now >= e.blockedUntil) {
      this.entries.delete(key);
      return undefined;
    }
    return e;
  }

  private evict(now: number): void {
    for (const [key, e] of this.entries) {
      if (now - e.lastFailure > this.opts.forgetAfterMs && now >= e.blockedUntil) this.entries.delete(key);
    }
    // Still too many (a flood of distinct keys): drop the oldest.
    for (const key of this.entries.keys()) {
      if (this.entries.size <= this.opts.maxEntries) break;
      this.entries.delete(key);
    }
  }
}
