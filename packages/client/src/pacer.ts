/**
 * A token bucket that mirrors the server's, a little under it (the two clocks and the network
 * blur the edges). Pure: the caller passes the clock.
 */
export class TokenPacer {
  private rate = 1;
  private burst = 1;
  private tokens = 1;
  private last: number;
  /** No token before this time (the server said to wait). */
  private blockedUntil = 0;

  constructor(ratePerSecond: number, burst: number, now: number) {
    this.last = now;
    this.configure(ratePerSecond, burst, now);
    this.tokens = this.burst;
  }

  /** New limits: 90 % of the rate, the burst less 10 % (at least one token). */
  configure(ratePerSecond: number, burst: number, now: number): void {
    this.refill(now);
    this.rate = Math.max(0.1, ratePerSecond * 0.9);
    this.burst = Math.max(1, Math.floor(burst - Math.max(1, burst * 0.1)));
    this.tokens = Math.min(this.tokens, this.burst);
  }

  /** A new connection starts with a full bucket on the server. */
  reset(now: number): void {
    this.tokens = this.burst;
    this.last = now;
    this.blockedUntil = 0;
  }

  tryTake(now: number): boolean {
    this.refill(now);
    if (now < this.blockedUntil || this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Milliseconds until a token is available (0 when one is). */
  waitMs(now: number): number {
    this.refill(now);
    const blocked = Math.max(0, this.blockedUntil - now);
    const refill = this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) * 1000) / this.rate);
    return Math.max(blocked, refill);
  }

  /** The server refused for lack of tokens: none until `ms` from now, then refill from empty. */
  backOff(now: number, ms: number): void {
    this.refill(now);
    this.tokens = Math.min(this.tokens, 0);
    this.blockedUntil = Math.max(this.blockedUntil, now + Math.max(0, ms));
  }

  private refill(now: number): void {
    if (now <= this.last) return;
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.rate) / 1000);
    this.last = now;
  }
}
