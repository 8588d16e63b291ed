// The native (node:crypto) helpers against tweetnacl, the reference, on random inputs, and the
// SHA-256 helpers against their RFCs.
import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import {
  chachaOpen,
  chachaSeal,
  ed25519PrivateKey,
  ed25519PublicFromPrivate,
  ed25519Sign,
  ed25519Verify,
  ed25519PublicKey,
  ed25519VerifyWith,
  hkdfSha256,
  hmacSha256,
  x25519,
  x25519PrivateKey,
  x25519PublicFromSecret,
} from '../src/native.js';
import { hex, unhex } from './helpers.js';

const RUNS = 200;

describe('native X25519 and Ed25519 agree with tweetnacl on random inputs', () => {
  it('X25519 public keys and shared secrets', () => {
    for (let i = 0; i < RUNS; i++) {
      const a = nacl.randomBytes(32);
      const b = nacl.randomBytes(32);
      const pubB = nacl.scalarMult.base(b);
      expect(hex(x25519PublicFromSecret(a))).toBe(hex(nacl.scalarMult.base(a)));
      expect(hex(x25519(x25519PrivateKey(a), pubB))).toBe(hex(nacl.scalarMult(a, pubB)));
    }
  });

  it('Ed25519 keys, signatures (deterministic) and verification, valid and altered', () => {
    for (let i = 0; i < RUNS; i++) {
      const seed = nacl.randomBytes(32);
      const message = nacl.randomBytes(i % 300);
      const ref = nacl.sign.keyPair.fromSeed(seed);
      const key = ed25519PrivateKey(seed);
      expect(hex(ed25519PublicFromPrivate(key))).toBe(hex(ref.publicKey));
      const signature = ed25519Sign(key, message);
      expect(hex(signature)).toBe(hex(nacl.sign.detached(message, ref.secretKey)));
      expect(ed25519Verify(ref.publicKey, message, signature)).toBe(true);
      const altered = Uint8Array.from(signature);
      altered[i % 64]! ^= 1 << (i % 8);
      expect(ed25519Verify(ref.publicKey, message, altered)).toBe(nacl.sign.detached.verify(message, altered, ref.publicKey));
      expect(ed25519Verify(ref.publicKey, message, altered)).toBe(false);
      const imported = ed25519PublicKey(ref.publicKey);
      expect(ed25519VerifyWith(imported, message, signature)).toBe(true);
      expect(ed25519VerifyWith(imported, message, altered)).toBe(false);
      expect(ed25519VerifyWith(imported, message, signature.subarray(1))).toBe(false);
    }
    expect(() => ed25519PublicKey(new Uint8Array(31))).toThrow('key has the wrong length or format');
  });
});

describe('SHA-256 helpers', () => {
  it('HMAC-SHA-256: RFC 4231 test cases 1 and 2', () => {
    expect(hex(hmacSha256(new Uint8Array(20).fill(0x0b), Buffer.from('Hi There')))).toBe(
      'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7',
    );
    expect(hex(hmacSha256(Buffer.from('Jefe'), Buffer.from('what do ya want for nothing?')))).toBe(
      '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    );
  });

  it('HKDF-SHA-256: RFC 5869 test cases A.1 and A.3', () => {
    const ikm = new Uint8Array(22).fill(0x0b);
    expect(hex(hkdfSha256(ikm, unhex('000102030405060708090a0b0c'), unhex('f0f1f2f3f4f5f6f7f8f9'), 42))).toBe(
      '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865',
    );
    expect(hex(hkdfSha256(ikm, new Uint8Array(0), new Uint8Array(0), 42))).toBe(
      '8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8',
    );
  });

  it('ChaCha20-Poly1305: RFC 8439 section 2.8.2, and nothing altered opens', () => {
    const key = Uint8Array.from({ length: 32 }, (_, i) => 0x80 + i);
    const nonce = unhex('070000004041424344454647');
    const ad = unhex('50515253c0c1c2c3c4c5c6c7');
    const text = Buffer.from(
      "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.",
    );
    const sealed = chachaSeal(key, nonce, ad, text);
    expect(hex(sealed.subarray(0, 16))).toBe('d31a8d34648e60db7b86afbc53ef7ec2');
    expect(hex(sealed.subarray(text.length))).toBe('1ae10b594f09e26a7e902ecbd0600691');
    expect(Buffer.from(chachaOpen(key, nonce, ad, sealed)!).equals(text)).toBe(true);
    for (let i = 0; i < sealed.length; i += 3) {
      const altered = Uint8Array.from(sealed);
      altered[i]! ^= 0x20;
      expect(chachaOpen(key, nonce, ad, altered)).toBeNull();
    }
    expect(chachaOpen(key, nonce, ad.subarray(1), sealed)).toBeNull();
    expect(chachaOpen(key, nonce, ad, sealed.subarray(0, 15))).toBeNull();
  });
});
