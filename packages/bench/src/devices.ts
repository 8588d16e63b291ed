import { createHash } from 'node:crypto';
import { DeviceIdentity } from '@hush/crypto';

// Deterministic device identities shared by the load generator (which signs device logins) and
// the server process (which may seed accounts straight into its store). Deriving one costs ~3 ms
// (tweetnacl's X25519 for the box key), so 10,000 users share a small pool of devices.

export const BENCH_PASSWORD = 'bench-password-not-secret';

/** The fan-out rooms every benchmark Hush server has from its start, whatever its default room's kind. */
export const BENCH_ROOMS = { e2e: 'bench-e2e', open: 'bench-open' } as const;
export type BenchRoomKind = keyof typeof BENCH_ROOMS;

export function benchDevice(index: number): DeviceIdentity {
  const seed = createHash('sha512').update(`hush bench device ${index}`).digest().subarray(0, 32);
  return DeviceIdentity.fromSecret(new Uint8Array(seed));
}

export function devicePool(size: number): DeviceIdentity[] {
  return Array.from({ length: size }, (_, i) => benchDevice(i));
}

// Characters the server's look-alike folding leaves alone (no 0/o, 1/l/i, rn/m, vv/w, cl/d ...),
// so that generated names never collide as look-alikes.
const SAFE = 'aefhjkptuxy3467';

/** Canonical bench usernames (3..24 chars) whose look-alike skeletons are all distinct. */
export function benchUsername(prefix: string, index: number): string {
  let suffix = '';
  let n = index;
  do {
    suffix = SAFE[n % SAFE.length]! + suffix;
    n = Math.floor(n / SAFE.length);
  } while (n > 0);
  return `${prefix}${suffix.padStart(2, 'a')}`;
}
