/** Reconnect delay: exponential from `baseMs`, capped, with jitter in [delay/2, delay] so clients spread out. */
export function backoffDelay(attempt: number, random: () => number = Math.random, baseMs = 250, capMs = 10_000): number {
  const exp = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(exp / 2 + random() * (exp / 2));
}
