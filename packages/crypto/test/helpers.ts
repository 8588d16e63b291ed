import { expect } from 'vitest';
import { CryptoError, type CryptoErrorCode } from '../src/index.js';

export const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
export const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));
export const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Asserts that `fn` throws a CryptoError with `code` (and that it does throw). */
export function expectCryptoError(fn: () => unknown, code: CryptoErrorCode): CryptoError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught, `expected ${code}, nothing was thrown`).toBeInstanceOf(CryptoError);
  expect((caught as CryptoError).code).toBe(code);
  return caught as CryptoError;
}

/** Every copy of `data` with exactly one bit flipped. */
export function* bitFlips(data: Uint8Array): Generator<[number, Uint8Array]> {
  for (let bit = 0; bit < data.length * 8; bit++) {
    const copy = Uint8Array.from(data);
    copy[bit >> 3] = (copy[bit >> 3] as number) ^ (1 << (bit & 7));
    yield [bit, copy];
  }
}

// Every small-order X25519 u-coordinate encoding, little-endian (RFC 7748 masks the top bit; p, p+1 are non-canonical 0, 1).
const P = 2n ** 255n - 19n;
export const lowOrderPoints: Uint8Array[] = [
  0n,
  1n,
  325606250916557431795983626356110631294008115727848805560023387167927233504n,
  39382357235489614581723060781553021112529911719440698176882885853963445705823n,
  P - 1n,
  P,
  P + 1n,
]
  .flatMap((u) => [u, u + 2n ** 255n].filter((v) => v < 2n ** 256n))
  .map((n) => Uint8Array.from({ length: 32 }, (_, i) => Number((n >> BigInt(8 * i)) & 0xffn)));
