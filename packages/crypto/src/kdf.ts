import nacl from 'tweetnacl';
import { concatBytes } from './bytes.js';
import { CryptoError } from './errors.js';

// HMAC-SHA512 (RFC 2104) and HKDF (RFC 5869) over tweetnacl's SHA-512.

const BLOCK = 128;
const HASH_LEN = 64;

export function sha512(data: Uint8Array): Uint8Array {
  return nacl.hash(data);
}

export function hmacSha512(key: Uint8Array, data: Uint8Array): Uint8Array {
  const k = new Uint8Array(BLOCK);
  k.set(key.length > BLOCK ? nacl.hash(key) : key);
  const inner = new Uint8Array(BLOCK + data.length);
  const outer = new Uint8Array(BLOCK + HASH_LEN);
  for (let i = 0; i < BLOCK; i++) {
    const b = k[i] as number;
    inner[i] = b ^ 0x36;
    outer[i] = b ^ 0x5c;
  }
  inner.set(data, BLOCK);
  outer.set(nacl.hash(inner), BLOCK);
  const mac = nacl.hash(outer);
  k.fill(0);
  inner.fill(0, 0, BLOCK);
  outer.fill(0);
  return mac;
}

/**
 * HKDF-SHA512. `salt` may be empty (RFC 5869: a string of HashLen zeros);
 * `info` may be a string (UTF-8) or bytes; `length` ≤ 255 × 64.
 */
export function hkdf(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array | string, length: number): Uint8Array {
  if (!Number.isInteger(length) || length < 0 || length > 255 * HASH_LEN) throw new CryptoError('INVALID_ARGUMENT');
  const infoBytes = typeof info === 'string' ? new TextEncoder().encode(info) : info;
  const prk = hmacSha512(salt.length === 0 ? new Uint8Array(HASH_LEN) : salt, ikm);
  const out = new Uint8Array(length);
  let previous: Uint8Array = new Uint8Array(0);
  for (let i = 1, offset = 0; offset < length; i++) {
    previous = hmacSha512(prk, concatBytes(previous, infoBytes, Uint8Array.of(i)));
    out.set(previous.subarray(0, Math.min(HASH_LEN, length - offset)), offset);
    offset += HASH_LEN;
  }
  prk.fill(0);
  return out;
}
