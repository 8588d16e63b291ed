import { createCipheriv } from 'node:crypto';
import nacl from 'tweetnacl';
import sodium from 'libsodium-wrappers';
import { beforeAll, describe, expect, it } from 'vitest';
import { createSmallAead, loadSmallAead, type SmallAead, type SodiumModule } from '../src/sodium-aead.js';

/** ciphertext || tag from raw node:crypto: the reference. */
function reference(key: Uint8Array, ad: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array): Buffer {
  const cipher = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
  cipher.setAAD(ad, { plaintextLength: plaintext.length });
  return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
}

describe('small-record AEAD over libsodium exports', () => {
  let aead: SmallAead;
  let module: SodiumModule;
  beforeAll(async () => {
    aead = (await loadSmallAead(2048))!;
    module = (sodium as unknown as { libsodium: SodiumModule }).libsodium;
  });

  it('loads, and seals exactly what node:crypto seals at every size up to its limit', () => {
    expect(aead).not.toBeNull();
    for (const size of [0, 1, 15, 16, 17, 63, 64, 200, 1000, 2047, 2048]) {
      const key = nacl.randomBytes(32);
      const ad = nacl.randomBytes(21);
      const nonce = nacl.randomBytes(12);
      const plaintext = nacl.randomBytes(size);
      const into = Buffer.alloc(size + 16);
      aead.seal(key, ad, nonce, plaintext, into);
      expect(into.equals(reference(key, ad, nonce, plaintext))).toBe(true);
      expect(aead.open(key, ad, nonce, into)?.equals(Buffer.from(plaintext))).toBe(true);
    }
  });

  it('opens nothing that was altered: ciphertext, tag, header, nonce or key', () => {
    const key = nacl.randomBytes(32);
    const ad = nacl.randomBytes(21);
    const nonce = nacl.randomBytes(12);
    const sealed = reference(key, ad, nonce, nacl.randomBytes(100));
    const flip = (b: Uint8Array, i: number) => {
      const c = Uint8Array.from(b);
      c[i]! ^= 1;
      return c;
    };
    for (let i = 0; i < sealed.length; i++) expect(aead.open(key, ad, nonce, flip(sealed, i))).toBeNull();
    expect(aead.open(key, flip(ad, 0), nonce, sealed)).toBeNull();
    expect(aead.open(key, ad, flip(nonce, 11), sealed)).toBeNull();
    expect(aead.open(flip(key, 31), ad, nonce, sealed)).toBeNull();
    expect(aead.open(key, ad, nonce, sealed)).not.toBeNull();
  });

  it('leaves neither the key nor the text in WebAssembly memory', () => {
    const key = nacl.randomBytes(32);
    const secret = nacl.randomBytes(64);
    const ad = nacl.randomBytes(21);
    const nonce = nacl.randomBytes(12);
    const into = Buffer.alloc(80);
    aead.seal(key, ad, nonce, secret, into);
    aead.open(key, ad, nonce, into);
    const heap = Buffer.from(module.HEAPU8.buffer, module.HEAPU8.byteOffset, module.HEAPU8.byteLength);
    expect(heap.indexOf(Buffer.from(key))).toBe(-1);
    expect(heap.indexOf(Buffer.from(secret))).toBe(-1);
  });

  it('refuses sizes beyond its scratch area and malformed keys or nonces', () => {
    const key = nacl.randomBytes(32);
    const nonce = nacl.randomBytes(12);
    expect(() => aead.seal(key, new Uint8Array(21), nonce, new Uint8Array(2049), Buffer.alloc(2065))).toThrow(RangeError);
    expect(() => aead.open(key, new Uint8Array(21), nonce, new Uint8Array(2065))).toThrow(RangeError);
    expect(() => aead.open(key, new Uint8Array(21), nonce, new Uint8Array(15))).toThrow(RangeError);
    expect(() => aead.seal(key.subarray(1), new Uint8Array(21), nonce, new Uint8Array(1), Buffer.alloc(17))).toThrow(RangeError);
    expect(() => aead.seal(key, new Uint8Array(21), nonce.subarray(1), new Uint8Array(1), Buffer.alloc(17))).toThrow(RangeError);
  });

  it('is not used when the module lacks the exports (the record layer stays on node:crypto)', () => {
    expect(createSmallAead(undefined, 2048)).toBeNull();
    expect(createSmallAead({ HEAPU8: new Uint8Array(16), _malloc: () => 8 }, 2048)).toBeNull();
  });
});
