import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import { checkPin, fingerprint, safetyNumber, sha512, shortFingerprint } from '../src/index.js';
import { bytes, expectCryptoError } from './helpers.js';

const keyA = nacl.randomBytes(32);
const keyB = nacl.randomBytes(32);

describe('fingerprints', () => {
  it('fingerprint is SHA512:<unpadded base64 of the first 32 bytes>', () => {
    const fp = fingerprint(keyA);
    expect(fp).toBe(`SHA512:${Buffer.from(sha512(keyA).subarray(0, 32)).toString('base64').replace(/=+$/, '')}`);
    expect(fp).toMatch(/^SHA512:[A-Za-z0-9+/]{43}$/);
    expect(fingerprint(keyB)).not.toBe(fp);
    expectCryptoError(() => fingerprint(new Uint8Array(31)), 'BAD_KEY');
  });

  it('shortFingerprint is 6 groups of 5 digits, stable and key-dependent', () => {
    expect(shortFingerprint(keyA)).toMatch(/^\d{5}( \d{5}){5}$/);
    expect(shortFingerprint(keyA)).toBe(shortFingerprint(Uint8Array.from(keyA)));
    expect(shortFingerprint(keyB)).not.toBe(shortFingerprint(keyA));
  });

  it('checkPin: new, match, changed', () => {
    expect(checkPin(undefined, 'x')).toBe('new');
    expect(checkPin('x', 'x')).toBe('match');
    expect(checkPin('x', 'y')).toBe('changed');
  });
});

describe('safetyNumber', () => {
  it('is 60 digits in 12 groups of 5, the same from both sides', () => {
    const n = safetyNumber('alice', keyA, 'bob', keyB);
    expect(n).toMatch(/^\d{5}( \d{5}){11}$/);
    expect(safetyNumber('bob', keyB, 'alice', keyA)).toBe(n);
  });

  it('changes with either key or either name', () => {
    const n = safetyNumber('alice', keyA, 'bob', keyB);
    expect(safetyNumber('alice', nacl.randomBytes(32), 'bob', keyB)).not.toBe(n);
    expect(safetyNumber('alice', keyA, 'bob', nacl.randomBytes(32))).not.toBe(n);
    expect(safetyNumber('alicf', keyA, 'bob', keyB)).not.toBe(n);
  });

  it("follows Signal's construction (5200 iterations of SHA-512(hash || key))", () => {
    const half = (user: string, key: Uint8Array): string => {
      let h: Uint8Array = new Uint8Array([0, 0, ...key, ...bytes(user)]);
      for (let i = 0; i < 5200; i++) h = nacl.hash(new Uint8Array([...h, ...key]));
      let out = '';
      for (let g = 0; g < 6; g++) {
        let v = 0;
        for (let i = 0; i < 5; i++) v = v * 256 + (h[g * 5 + i] as number);
        out += String(v % 100000).padStart(5, '0');
      }
      return out;
    };
    const digits = [half('alice', keyA), half('bob', keyB)].sort().join('');
    expect(safetyNumber('alice', keyA, 'bob', keyB).replace(/ /g, '')).toBe(digits);
  });
});
