import fc from 'fast-check';
import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import { openToken, sealToken, tokenFromText, tokenTimestamp, tokenToText } from '../src/index.js';
import vectors from './vectors/token.json';
import { bitFlips, bytes, expectCryptoError, hex, unhex } from './helpers.js';

const key = nacl.randomBytes(32);
const T0 = 1_700_000_000;

describe('token known answers', () => {
  for (const [i, v] of vectors.vectors.entries()) {
    it(`vector ${i}: seal gives the committed bytes and text, open returns the plaintext`, () => {
      const token = sealToken(unhex(v.key), unhex(v.plaintext), { now: v.timestamp, nonce: unhex(v.nonce) });
      expect(hex(token)).toBe(v.token);
      expect(tokenToText(token)).toBe(v.text);
      expect(hex(openToken(unhex(v.key), tokenFromText(v.text)))).toBe(v.plaintext);
    });

    it(`vector ${i}: equals an independent construction from raw tweetnacl`, () => {
      const header = new Uint8Array(33);
      header[0] = 0x91;
      new DataView(header.buffer).setBigUint64(1, BigInt(v.timestamp));
      header.set(unhex(v.nonce), 9);
      const inner = new Uint8Array([...header, ...unhex(v.plaintext)]);
      const expected = new Uint8Array([...header, ...nacl.secretbox(inner, unhex(v.nonce), unhex(v.key))]);
      expect(v.token).toBe(hex(expected));
    });
  }
});

describe('sealToken / openToken', () => {
  it('round-trips random plaintexts up to 1 MiB', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1 << 20 }), fc.integer({ min: 0, max: 255 }), (size, fill) => {
        const plaintext = new Uint8Array(size).fill(fill);
        if (size > 0) plaintext[size - 1] = fill ^ 0x5a;
        const token = sealToken(key, plaintext);
        expect(Buffer.from(openToken(key, token)).equals(Buffer.from(plaintext))).toBe(true);
        expect(Buffer.from(openToken(key, tokenFromText(tokenToText(token)))).equals(Buffer.from(plaintext))).toBe(true);
      }),
      { numRuns: 25 },
    );
  });

  it('round-trips arbitrary small plaintexts', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (plaintext) => {
        expect(hex(openToken(key, sealToken(key, plaintext)))).toBe(hex(plaintext));
      }),
      { numRuns: 200 },
    );
  });

  it('uses a fresh nonce each time', () => {
    expect(hex(sealToken(key, bytes('x'), { now: T0 }))).not.toBe(hex(sealToken(key, bytes('x'), { now: T0 })));
  });

  it('refuses every single-bit flip', () => {
    const token = sealToken(key, bytes('session: alice'), { now: T0 });
    let refused = 0;
    for (const [, flipped] of bitFlips(token)) {
      expectCryptoError(() => openToken(key, flipped), 'INVALID_TOKEN');
      refused++;
    }
    expect(refused).toBe(token.length * 8);
  });

  it('refuses a wrong key, truncation, extension and garbage with the one generic error', () => {
    const token = sealToken(key, bytes('hi'));
    expectCryptoError(() => openToken(nacl.randomBytes(32), token), 'INVALID_TOKEN');
    for (let n = 0; n < token.length; n++) expectCryptoError(() => openToken(key, token.subarray(0, n)), 'INVALID_TOKEN');
    expectCryptoError(() => openToken(key, new Uint8Array([...token, 0])), 'INVALID_TOKEN');
    expectCryptoError(() => openToken(key, new Uint8Array(200)), 'INVALID_TOKEN');
  });

  it('binds the outer header: a re-stamped header with a valid box is refused', () => {
    // Same secretbox, header timestamp changed (nonce unchanged so the box still opens).
    const token = sealToken(key, bytes('hi'), { now: T0 });
    const forged = Uint8Array.from(token);
    new DataView(forged.buffer).setBigUint64(1, BigInt(T0 + 1000));
    expect(nacl.secretbox.open(forged.subarray(33), forged.subarray(9, 33), key)).not.toBeNull();
    expectCryptoError(() => openToken(key, forged), 'INVALID_TOKEN');
  });

  it('refuses keys of the wrong length with BAD_KEY', () => {
    expectCryptoError(() => sealToken(new Uint8Array(16), bytes('x')), 'BAD_KEY');
    expectCryptoError(() => openToken(new Uint8Array(33), sealToken(key, bytes('x'))), 'BAD_KEY');
  });
});

describe('TTL and clock skew (fake clock, Fernet rules)', () => {
  const token = sealToken(key, bytes('t'), { now: T0 });

  it('reports the sealed timestamp', () => {
    expect(tokenTimestamp(token)).toBe(T0);
  });

  it('accepts up to exactly ttl seconds old and refuses one second more', () => {
    expect(hex(openToken(key, token, { ttlSeconds: 300, now: T0 + 300 }))).toBe(hex(bytes('t')));
    expectCryptoError(() => openToken(key, token, { ttlSeconds: 300, now: T0 + 301 }), 'INVALID_TOKEN');
  });

  it('accepts 60 s in the future and refuses 61 s', () => {
    expect(hex(openToken(key, token, { ttlSeconds: 300, now: T0 - 60 }))).toBe(hex(bytes('t')));
    expectCryptoError(() => openToken(key, token, { ttlSeconds: 300, now: T0 - 61 }), 'INVALID_TOKEN');
  });

  it('skips time checks when no TTL is asked', () => {
    expect(hex(openToken(key, token, { now: T0 + 10 ** 9 }))).toBe(hex(bytes('t')));
    expect(hex(openToken(key, token, { now: 0 }))).toBe(hex(bytes('t')));
  });

  it('uses the real clock by default', () => {
    const fresh = sealToken(key, bytes('now'));
    expect(Math.abs(tokenTimestamp(fresh) - Date.now() / 1000)).toBeLessThan(5);
    expect(hex(openToken(key, fresh, { ttlSeconds: 10 }))).toBe(hex(bytes('now')));
    expectCryptoError(() => openToken(key, token, { ttlSeconds: 10 }), 'INVALID_TOKEN');
  });
});

describe('token text form', () => {
  const token = sealToken(key, bytes('text'), { now: T0 });
  const text = tokenToText(token);

  it('is canonical unpadded base64url and round-trips', () => {
    expect(text).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(hex(tokenFromText(text))).toBe(hex(token));
  });

  it('refuses padding, standard base64, whitespace, bad lengths and non-zero trailing bits', () => {
    // A last character whose unused low bits are not zero decodes to the same bytes: not canonical.
    const last = text[text.length - 1] as string;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const sibling = alphabet[alphabet.indexOf(last) + 1] as string;
    expect(Buffer.from(text.slice(0, -1) + sibling, 'base64url').equals(Buffer.from(token))).toBe(true);
    const bad = [
      `${text}=`,
      `${text}==`,
      `${text}+`,
      `/${text.slice(1)}`,
      ` ${text}`,
      `${text}\n`,
      `${text}AA`,
      text.slice(0, -1) + sibling,
    ];
    for (const t of bad) expectCryptoError(() => tokenFromText(t), 'INVALID_TOKEN');
    expectCryptoError(() => tokenFromText(`${text}=`), 'INVALID_TOKEN');
    expectCryptoError(() => tokenFromText(text.slice(0, -1) + sibling), 'INVALID_TOKEN');
  });
});
