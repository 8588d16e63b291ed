import { randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { CryptoError } from './errors.js';

// Password hashing with scrypt, stored self-describing so parameters can be
// raised later:  scrypt$<N>$<r>$<p>$<salt base64>$<hash base64>

export interface PasswordHashOptions {
  /** CPU/memory cost, a power of two (default 2^17). Lower only in tests. */
  N?: number;
  r?: number;
  p?: number;
}

export const PASSWORD_DEFAULTS = { N: 2 ** 17, r: 8, p: 1 } as const;
const SALT_LENGTH = 16;
const HASH_LENGTH = 32;
const MAXMEM = 256 * 1024 * 1024;
// Bounds on parameters read back from storage, so a corrupted record cannot ask for gigabytes.
const MAX_N = 2 ** 20;
const MAX_R = 32;
const MAX_P = 16;

function scrypt(password: string, salt: Uint8Array, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scryptCallback(password.normalize('NFC'), salt, HASH_LENGTH, { ...options, maxmem: MAXMEM }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

function validParams(N: number, r: number, p: number): boolean {
  const int = (v: number, max: number): boolean => Number.isSafeInteger(v) && v >= 1 && v <= max;
  return int(N, MAX_N) && N >= 2 && (N & (N - 1)) === 0 && int(r, MAX_R) && int(p, MAX_P) && 128 * N * r * p <= MAXMEM / 2;
}

export async function hashPassword(password: string, options: PasswordHashOptions = {}): Promise<string> {
  const N = options.N ?? PASSWORD_DEFAULTS.N;
  const r = options.r ?? PASSWORD_DEFAULTS.r;
  const p = options.p ?? PASSWORD_DEFAULTS.p;
  if (typeof password !== 'string' || !validParams(N, r, p)) throw new CryptoError('INVALID_ARGUMENT');
  const salt = randomBytes(SALT_LENGTH);
  const hash = await scrypt(password, salt, { N, r, p });
  return `scrypt$${N}$${r}$${p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/** True when `password` matches `stored`; false for a wrong password or a malformed record. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  if (typeof password !== 'string' || typeof stored !== 'string') return false;
  const m = /^scrypt\$(\d{1,8})\$(\d{1,3})\$(\d{1,3})\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/.exec(stored);
  if (m === null) return false;
  const [N, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (!validParams(N, r, p)) return false;
  const salt = Buffer.from(m[4] as string, 'base64');
  const expected = Buffer.from(m[5] as string, 'base64');
  if (salt.length < SALT_LENGTH || expected.length !== HASH_LENGTH) return false;
  const actual = await scrypt(password, salt, { N, r, p });
  return timingSafeEqual(actual, expected);
}

/** True when `stored` uses weaker parameters than the defaults (rehash after a successful login). */
export function passwordNeedsRehash(stored: string): boolean {
  const m = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$/.exec(stored);
  if (m === null) return true;
  return Number(m[1]) < PASSWORD_DEFAULTS.N || Number(m[2]) < PASSWORD_DEFAULTS.r || Number(m[3]) < PASSWORD_DEFAULTS.p;
}
