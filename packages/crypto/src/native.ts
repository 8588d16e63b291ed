import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  hkdfSync,
  randomFillSync,
  sign as nodeSign,
  verify as nodeVerify,
  type KeyObject,
} from 'node:crypto';
import { base64url, isAllZero, isBytes, requireKey } from './bytes.js';
import { CryptoError } from './errors.js';

// Native (OpenSSL) X25519/Ed25519 for the hot asymmetric steps, far faster than tweetnacl's
// JavaScript. Raw 32-byte keys go in and out as JWK, which imports and exports much faster than
// DER. Tests cross-check every helper against tweetnacl.

function rawPublic(key: KeyObject): Uint8Array {
  const { x } = key.export({ format: 'jwk' });
  const raw = Buffer.from(x ?? '', 'base64url');
  if (raw.length !== 32) throw new CryptoError('BAD_KEY');
  return new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
}

function publicKeyObject(crv: 'X25519' | 'Ed25519', raw: Uint8Array): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv, x: base64url(raw) }, format: 'jwk' });
}

/**
 * Node reads only `d` of a private OKP key (`x` must be a string); the public half is derived.
 * The secret's base64 text is a JS string, which cannot be wiped: like the KeyObject itself (and
 * the DER buffer this replaced), it lives until it is collected.
 */
function privateKeyObject(crv: 'X25519' | 'Ed25519', secret: Uint8Array): KeyObject {
  return createPrivateKey({ key: { kty: 'OKP', crv, d: base64url(secret), x: '' }, format: 'jwk' });
}

export function x25519PrivateKey(secret: Uint8Array): KeyObject {
  return privateKeyObject('X25519', secret);
}

export function x25519PublicFromSecret(secret: Uint8Array): Uint8Array {
  return rawPublic(createPublicKey(x25519PrivateKey(secret)));
}

/**
 * A fresh key pair. Not generateKeyPairSync: on Node 20 it can deadlock the process. Its key
 * generation job locks the new key's mutex when the garbage collector destroys it, and exporting
 * that key holds the same mutex while it allocates, so a collection at that moment waits on
 * itself forever (a server or client frozen idle mid-handshake; a loop of generate-and-export
 * freezes within about 14,000 keys). Importing random bytes makes no such job.
 */
export function x25519Generate(): { privateKey: KeyObject; publicKey: Uint8Array } {
  const secret = randomFillSync(Buffer.alloc(32));
  try {
    const privateKey = x25519PrivateKey(secret);
    return { privateKey, publicKey: rawPublic(createPublicKey(privateKey)) };
  } finally {
    secret.fill(0);
  }
}

/** X25519; throws LOW_ORDER_POINT when the peer key is low-order (OpenSSL refuses, or the result is all zero). */
export function x25519(privateKey: KeyObject, peerPublic: Uint8Array): Uint8Array {
  let shared: Uint8Array;
  try {
    if (!isBytes(peerPublic, 32)) throw new CryptoError('BAD_KEY');
    const publicKey = publicKeyObject('X25519', peerPublic);
    shared = new Uint8Array(diffieHellman({ privateKey, publicKey }));
  } catch (cause) {
    throw new CryptoError('LOW_ORDER_POINT', { cause });
  }
  if (isAllZero(shared)) throw new CryptoError('LOW_ORDER_POINT');
  return shared;
}

// A fixed scalar: X25519 clamps it to a multiple of the cofactor 8, so the
// result is zero exactly when the point has small order, whatever the scalar.
let probeKey: KeyObject | undefined;
export function isLowOrderX25519(publicKey: Uint8Array): boolean {
  probeKey ??= x25519PrivateKey(new Uint8Array(32).fill(0x42));
  try {
    x25519(probeKey, publicKey);
    return false;
  } catch {
    return true;
  }
}

export function ed25519PrivateKey(seed: Uint8Array): KeyObject {
  return privateKeyObject('Ed25519', seed);
}

export function ed25519PublicFromPrivate(privateKey: KeyObject): Uint8Array {
  return rawPublic(createPublicKey(privateKey));
}

export function ed25519Sign(privateKey: KeyObject, message: Uint8Array): Uint8Array {
  return new Uint8Array(nodeSign(null, message, privateKey));
}

/** Ed25519 verify; false (never a throw) for malformed keys or signatures. */
export function ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (!isBytes(publicKey, 32)) return false;
  try {
    return ed25519VerifyWith(publicKeyObject('Ed25519', publicKey), message, signature);
  } catch {
    return false;
  }
}

/** An imported Ed25519 public key, for a key that verifies many messages (import costs a third of a verify). */
export function ed25519PublicKey(publicKey: Uint8Array): KeyObject {
  requireKey(publicKey, 32);
  try {
    return publicKeyObject('Ed25519', publicKey);
  } catch (cause) {
    throw new CryptoError('BAD_KEY', { cause });
  }
}

/** Ed25519 verify with an imported key; false (never a throw) for a malformed signature. */
export function ed25519VerifyWith(publicKey: KeyObject, message: Uint8Array, signature: Uint8Array): boolean {
  if (!isBytes(signature, 64) || !isBytes(message)) return false;
  try {
    return nodeVerify(null, message, publicKey, signature);
  } catch {
    return false;
  }
}

// The handshake's hashing runs on every connection, so it uses native SHA-512 / HMAC / HKDF
// rather than tweetnacl's JavaScript SHA-512. kdf.ts keeps the tweetnacl versions as the
// package's KDF; tests check both give identical bytes.

export function nativeSha512(data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha512').update(data).digest());
}

export function nativeHmacSha512(key: Uint8Array, data: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac('sha512', key).update(data).digest());
}

export function nativeHkdf(ikm: Uint8Array, salt: Uint8Array, info: string, length: number): Uint8Array {
  return new Uint8Array(hkdfSync('sha512', ikm, salt, info, length));
}

// SHA-256 for the prekey sessions (X3DH and the Double Ratchet follow Signal's recommended
// HKDF-SHA-256 / HMAC-SHA-256). tweetnacl has no SHA-256: the RFC 4231 and RFC 5869 vectors check these.

export function hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac('sha256', key).update(data).digest());
}

export function hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', ikm, salt, info, length));
}

/** ChaCha20-Poly1305 (RFC 8439): ciphertext || 16-byte tag. */
export function chachaSeal(key: Uint8Array, nonce: Uint8Array, ad: Uint8Array, plaintext: Uint8Array): Uint8Array {
  const cipher = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
  cipher.setAAD(ad, { plaintextLength: plaintext.length });
  const out = new Uint8Array(plaintext.length + 16);
  out.set(cipher.update(plaintext));
  cipher.final();
  out.set(cipher.getAuthTag(), plaintext.length);
  return out;
}

/** The plaintext of ciphertext || tag, or null when it does not authenticate. */
export function chachaOpen(key: Uint8Array, nonce: Uint8Array, ad: Uint8Array, sealed: Uint8Array): Uint8Array | null {
  if (sealed.length < 16) return null;
  const length = sealed.length - 16;
  const decipher = createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
  decipher.setAAD(ad, { plaintextLength: length });
  decipher.setAuthTag(sealed.subarray(length));
  const plaintext = decipher.update(sealed.subarray(0, length));
  try {
    decipher.final();
  } catch {
    plaintext.fill(0);
    return null;
  }
  return new Uint8Array(plaintext.buffer, plaintext.byteOffset, plaintext.byteLength);
}
