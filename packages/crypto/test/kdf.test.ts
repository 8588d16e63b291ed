import { createHash, hkdfSync } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hkdf, hmacSha512, sha512 } from '../src/index.js';
import rfc4231 from './vectors/hmac-sha512-rfc4231.json';
import { hex, unhex } from './helpers.js';

describe('hmacSha512', () => {
  for (const v of rfc4231) {
    it(`RFC 4231 test case ${v.case}`, () => {
      expect(hex(hmacSha512(unhex(v.key), unhex(v.data))).slice(0, v.hmac.length)).toBe(v.hmac);
    });
  }

  it('RFC 4231 case 1 matches the published value literally', () => {
    expect(hex(hmacSha512(new Uint8Array(20).fill(0x0b), new TextEncoder().encode('Hi There')))).toBe(
      '87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854',
    );
  });
});

describe('sha512', () => {
  it('matches node:crypto', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (data) => {
        expect(hex(sha512(data))).toBe(createHash('sha512').update(data).digest('hex'));
      }),
      { numRuns: 100 },
    );
  });
});

describe('hkdf', () => {
  it('matches crypto.hkdfSync("sha512") for random inputs and lengths', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 100 }),
        fc.uint8Array({ maxLength: 200 }),
        fc.uint8Array({ maxLength: 100 }),
        fc.integer({ min: 1, max: 600 }),
        (ikm, salt, info, length) => {
          const expected = Buffer.from(hkdfSync('sha512', ikm, salt, info, length)).toString('hex');
          expect(hex(hkdf(ikm, salt, info, length))).toBe(expected);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('takes string info as UTF-8 and handles the maximum length', () => {
    const ikm = new Uint8Array(32).fill(7);
    expect(hex(hkdf(ikm, new Uint8Array(0), 'hush rekey', 32))).toBe(
      Buffer.from(hkdfSync('sha512', ikm, new Uint8Array(0), Buffer.from('hush rekey'), 32)).toString('hex'),
    );
    expect(hex(hkdf(ikm, new Uint8Array(3), 'x', 255 * 64))).toBe(
      Buffer.from(hkdfSync('sha512', ikm, new Uint8Array(3), Buffer.from('x'), 255 * 64)).toString('hex'),
    );
  });
});

describe('native hashing used by the handshake', () => {
  it('gives the same bytes as the tweetnacl-based KDF', async () => {
    const { nativeHkdf, nativeHmacSha512, nativeSha512 } = await import('../src/native.js');
    const { randomBytes } = await import('node:crypto');
    for (let i = 0; i < 200; i++) {
      const key = randomBytes(i % 150);
      const data = randomBytes((i * 7) % 300);
      expect(hex(nativeSha512(data))).toBe(hex(sha512(data)));
      expect(hex(nativeHmacSha512(key, data))).toBe(hex(hmacSha512(key, data)));
      const length = 1 + (i % 200);
      expect(hex(nativeHkdf(data, key, 'hush handshake keys v1', length))).toBe(hex(hkdf(data, key, 'hush handshake keys v1', length)));
    }
  });
});
