// Flood control: token buckets (pure: the caller passes the clock) and connection counting per
// address. One bucket per connection per dimension (messages, bytes); no timers of their own.

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

  /** Milliseconds until `cost` tokens are available (0 when they are). */
  waitMs(now: number, cost = 1): number {
    this.refill(now);
    if (this.tokens >= cost) return 0;
    if (this.ratePerSecond <= 0) return Number.MAX_SAFE_INTEGER;
    return Math.ceil(((cost - this.tokens) * 1000) / this.ratePerSecond);
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
