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
