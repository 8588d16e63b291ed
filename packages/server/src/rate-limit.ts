// Flood control: token buckets (pure: the caller passes the clock) and connection counting per
// address. One bucket per connection per dimension (messages, signals, bytes, file bytes), and one
// message bucket per user shared by all their sessions (UserBudgets); no timers of their own.

/** A classic token bucket: `capacity` tokens, refilled at `ratePerSecond`. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly capacity: number,
    now: number,
  ) {
    this.tokens = capacity;
    this.last = now;
  }

  private refill(now: number): void {
    if (now > this.last) {
      this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) * this.ratePerSecond) / 1000);
      this.last = now;
    }
  }

  /** Takes `cost` tokens if there are enough; otherwise takes nothing. */
  tryTake(now: number, cost = 1): boolean {
    this.refill(now);
    if (this.tokens >= cost) {
      this.tokens -= cost;
      return true;
    }
    return false;
  }

  /** Takes `cost` tokens even into debt (bytes already received cannot be refused). */
  take(now: number, cost: number): void {
    this.refill(now);
    this.tokens -= cost;
  }

  /** Gives back `cost` tokens taken earlier (never above the capacity). */
  refund(cost: number): void {
    this.tokens = Math.min(this.capacity, this.tokens + cost);
  }

  /** Refilled to capacity: no different from a new bucket. */
  full(now: number): boolean {
    this.refill(now);
    return this.tokens >= this.capacity;
  }

  /** Milliseconds until `cost` tokens are available (0 when they are). */
  waitMs(now: number, cost = 1): number {
    this.refill(now);
    if (this.tokens >= cost) return 0;
    if (this.ratePerSecond <= 0) return Number.MAX_SAFE_INTEGER;
    return Math.ceil(((cost - this.tokens) * 1000) / this.ratePerSecond);
  }
}

/** Refusals in a row, at least, before a peer counts as flooding (however small the burst). */
const MIN_FLOOD_STRIKES = 20;

/**
 * A bucket whose refusals are counted: a peer that keeps spending into an empty bucket (more
 * refusals in a row than the burst, and at least MIN_FLOOD_STRIKES) is flooding, not just early.
 */
export class FloodGuard {
  private strikes = 0;
  private readonly bucket: TokenBucket;
  private readonly maxStrikes: number;

  constructor(ratePerSecond: number, burst: number, now: number) {
    this.bucket = new TokenBucket(ratePerSecond, burst, now);
    this.maxStrikes = Math.max(MIN_FLOOD_STRIKES, burst);
  }

  /**
   * `ok`: a token was taken (from `shared` too, when given); `over`: none left in either (refuse or
   * drop); `flood`: none, too often in a row.
   */
  take(now: number, shared?: TokenBucket): 'ok' | 'over' | 'flood' {
    if (this.bucket.tryTake(now)) {
      if (!shared || shared.tryTake(now)) {
        this.strikes = 0;
        return 'ok';
      }
      this.bucket.refund(1);
    }
    this.strikes += 1;
    return this.strikes > this.maxStrikes ? 'flood' : 'over';
  }

  /** Milliseconds until the next token (in `shared` too, when given). */
  waitMs(now: number, shared?: TokenBucket): number {
    return Math.max(this.bucket.waitMs(now), shared?.waitMs(now) ?? 0);
  }
}

/** How often, at most, the buckets of idle users are looked for (when a new one is made). */
const FORGET_EVERY_MS = 60_000;

/**
 * One message bucket per user, shared by all their sessions on this node, and debited with what
 * they sent on other nodes. A bucket that has refilled is forgotten (a new one is the same).
 */
export class UserBudgets {
  private readonly buckets = new Map<string, TokenBucket>();
  private lastForget = Number.NEGATIVE_INFINITY;

  /** `limits` are read when a bucket is made (a configuration reload changes them in place). */
  constructor(private readonly limits: { readonly messagesPerSecond: number; readonly messageBurst: number }) {}

  bucket(user: string, now: number): TokenBucket {
    let bucket = this.buckets.get(user);
    if (!bucket) {
      this.forgetIdle(now);
      bucket = new TokenBucket(this.limits.messagesPerSecond, this.limits.messageBurst, now);
      this.buckets.set(user, bucket);
    }
    return bucket;
  }

  /** Messages `user` sent elsewhere (already admitted there): taken even into debt. */
  debit(user: string, count: number, now: number): void {
    this.bucket(user, now).take(now, count);
  }

  /** Users with a bucket (an idle user's is dropped within FORGET_EVERY_MS of a new one being made). */
  get size(): number {
    return this.buckets.size;
  }

  private forgetIdle(now: number): void {
    if (now - this.lastForget < FORGET_EVERY_MS) return;
    this.lastForget = now;
    for (const [user, bucket] of this.buckets) if (bucket.full(now)) this.buckets.delete(user);
  }
}

/** Open connections per address and in total, checked at accept. */
export class ConnectionLimiter {
  private readonly perAddress = new Map<string, number>();
  private total = 0;

  constructor(private readonly limits: { maxConnectionsPerAddress: number; maxConnections: number }) {}

  /** Counts the connection in when it fits the limits; the caller must `release` it later. */
  tryAcquire(address: string): boolean {
    const count = this.perAddress.get(address) ?? 0;
    if (count >= this.limits.maxConnectionsPerAddress || this.total >= this.limits.maxConnections) return false;
    this.perAddress.set(address, count + 1);
    this.total += 1;
    return true;
  }

  /** Which limit a refused `address` met (for the log): its own, or the server's total. */
  fullLimit(address: string): 'maxConnectionsPerAddress' | 'maxConnections' {
    return (this.perAddress.get(address) ?? 0) >= this.limits.maxConnectionsPerAddress ? 'maxConnectionsPerAddress' : 'maxConnections';
  }

  release(address: string): void {
    const count = this.perAddress.get(address) ?? 0;
    if (count <= 1) this.perAddress.delete(address);
    else this.perAddress.set(address, count - 1);
    this.total = Math.max(0, this.total - 1);
  }

  get size(): number {
    return this.total;
  }
}

/** The address a ban or limit applies to: IPv4-mapped IPv6 addresses count as their IPv4 form. */
export function normalizeAddress(address: string | undefined): string {
  if (!address) return 'unknown';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
