import nacl from 'tweetnacl';
import { base64url, constantTimeEqual, fromBase64urlCanonical, isBytes, readU64, requireKey, writeU64 } from './bytes.js';
import { CryptoError } from './errors.js';

// Fernet-equivalent token over secretbox:
//   0x91 | u64 BE timestamp (s) | 24-byte nonce | secretbox(header || plaintext)
// secretbox has no associated data, so the 33-byte header is also sealed inside
// and compared after opening. Every failure is the one generic INVALID_TOKEN.

export const TOKEN_VERSION = 0x91;
const HEADER = 1 + 8 + nacl.secretbox.nonceLength; // 33
const MAX_CLOCK_SKEW_SECONDS = 60;

export interface SealTokenOptions {
  /** Unix time in seconds (default: the clock). */
  now?: number;
  /** FOR TESTS / known-answer vectors only: a fixed 24-byte nonce. Never set in production. */
  nonce?: Uint8Array;
}

export interface OpenTokenOptions {
  /** When set, reject tokens older than this many seconds or more than 60 s in the future. */
  ttlSeconds?: number;
  /** Unix time in seconds (default: the clock). */
  now?: number;
}

function nowSeconds(now: number | undefined): number {
  return Math.floor(now ?? Date.now() / 1000);
}

export function sealToken(key: Uint8Array, plaintext: Uint8Array, options: SealTokenOptions = {}): Uint8Array {
  requireKey(key, nacl.secretbox.keyLength);
  const nonce = options.nonce ?? nacl.randomBytes(nacl.secretbox.nonceLength);
  if (!isBytes(nonce, nacl.secretbox.nonceLength)) throw new CryptoError('INVALID_ARGUMENT');
  const timestamp = nowSeconds(options.now);
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) throw new CryptoError('INVALID_ARGUMENT');

  const inner = new Uint8Array(HEADER + plaintext.length);
  inner[0] = TOKEN_VERSION;
  writeU64(new DataView(inner.buffer), 1, timestamp);
  inner.set(nonce, 9);
  inner.set(plaintext, HEADER);

  const box = nacl.secretbox(inner, nonce, key);
  const token = new Uint8Array(HEADER + box.length);
  token.set(inner.subarray(0, HEADER));
  token.set(box, HEADER);
  inner.fill(0);
  return token;
}

export function openToken(key: Uint8Array, token: Uint8Array, options: OpenTokenOptions = {}): Uint8Array {
  requireKey(key, nacl.secretbox.keyLength);
  const ttl = options.ttlSeconds;
  if (ttl !== undefined && !(Number.isFinite(ttl) && ttl >= 0)) throw new CryptoError('INVALID_ARGUMENT');
  if (!isBytes(token) || token.length < HEADER + nacl.secretbox.overheadLength + HEADER || token[0] !== TOKEN_VERSION) {
    throw new CryptoError('INVALID_TOKEN');
  }
  const header = token.subarray(0, HEADER);
  const inner = nacl.secretbox.open(token.subarray(HEADER), header.subarray(9), key);
  if (inner === null || !constantTimeEqual(inner.subarray(0, HEADER), header)) throw new CryptoError('INVALID_TOKEN');

  const timestamp = readU64(new DataView(header.buffer, header.byteOffset, HEADER), 1);
  if (ttl !== undefined) {
    const now = nowSeconds(options.now);
    if (Number.isNaN(timestamp) || timestamp + ttl < now || now + MAX_CLOCK_SKEW_SECONDS < timestamp) {
      throw new CryptoError('INVALID_TOKEN');
    }
  }
  return inner.slice(HEADER);
}

/** The timestamp (Unix seconds) a token claims, without verifying it. */
export function tokenTimestamp(token: Uint8Array): number {
  if (!isBytes(token) || token.length < HEADER || token[0] !== TOKEN_VERSION) throw new CryptoError('INVALID_TOKEN');
  const t = readU64(new DataView(token.buffer, token.byteOffset, HEADER), 1);
  if (Number.isNaN(t)) throw new CryptoError('INVALID_TOKEN');
  return t;
}

/** Canonical unpadded base64url. */
export function tokenToText(token: Uint8Array): string {
  return base64url(token);
}

/** Inverse of tokenToText; anything but canonical unpadded base64url is INVALID_TOKEN. */
export function tokenFromText(text: string): Uint8Array {
  const bytes = fromBase64urlCanonical(text);
  if (bytes === undefined) throw new CryptoError('INVALID_TOKEN');
  return bytes;
}
