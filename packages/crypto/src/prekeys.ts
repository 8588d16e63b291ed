import nacl from 'tweetnacl';
import { ByteReader, ByteWriter, isBytes } from './bytes.js';
import { secretsOf, verifyBundle, type DeviceBundle, type DeviceIdentity } from './device.js';
import { CryptoError } from './errors.js';
import { ed25519Sign, ed25519Verify, isLowOrderX25519, x25519PublicFromSecret } from './native.js';

// Prekeys (Signal's X3DH, section 2.2-2.3): a signed prekey, signed by the device's Ed25519
// identity key and rotated on a schedule, and one-time prekeys the server hands out once each.
// Only the public halves leave the device; the secret halves stay in its store until used.

/** Source of random bytes; injectable so known-answer vectors can fix every key. */
export type RandomBytes = (length: number) => Uint8Array;

export const PREKEY_BUNDLE_VERSION = 0xb1;
/** Most one-time prekeys made in one call (and uploaded in one batch). */
export const MAX_ONE_TIME_PREKEYS = 1000;
const MAX_ID = 0xffff_ffff;
const SIGNED_PREKEY_LABEL = 'hush signed prekey v1';
const DAY_MS = 86_400_000;

export interface SignedPrekey {
  /** u32, chosen by the device; the initial message names it. */
  id: number;
  /** Unix milliseconds when it was made; signed, so the server cannot make an old key look new. */
  createdAt: number;
  /** X25519 public key (32 bytes). */
  publicKey: Uint8Array;
  /** Ed25519 signature by the device's sign key over the labelled id, createdAt and publicKey (64 bytes). */
  signature: Uint8Array;
}

/** A signed prekey with its secret half, kept (0600) by the device that made it. */
export interface SignedPrekeyPair extends SignedPrekey {
  secretKey: Uint8Array;
}

export interface OneTimePrekey {
  id: number;
  publicKey: Uint8Array;
}

export interface OneTimePrekeyPair extends OneTimePrekey {
  secretKey: Uint8Array;
}

/** What the server hands to a device that wants to start a session with `identity`. */
export interface PrekeyBundle {
  identity: DeviceBundle;
  signedPrekey: SignedPrekey;
  /** Absent when the device's one-time prekeys are used up: X3DH then runs without DH4. */
  oneTimePrekey?: OneTimePrekey;
}

/** How a device looks up its own prekeys' secret halves by the ids an initial message names. */
export interface PrekeyLookup {
  signedPrekey(id: number): SignedPrekeyPair | undefined;
  oneTimePrekey(id: number): OneTimePrekeyPair | undefined;
}

export interface PrekeyPolicy {
  /** Make a new signed prekey when the newest is this old. */
  rotateAfterMs: number;
  /** Keep a replaced signed prekey's secret this long after its successor appeared (late initial messages). */
  keepReplacedForMs: number;
  /** Refill one-time prekeys on the server up to this many... */
  oneTimeTarget: number;
  /** ...when fewer than this many are left. */
  oneTimeLowWater: number;
}

export const DEFAULT_PREKEY_POLICY: Readonly<PrekeyPolicy> = Object.freeze({
  rotateAfterMs: 7 * DAY_MS,
  keepReplacedForMs: 30 * DAY_MS,
  oneTimeTarget: 100,
  oneTimeLowWater: 25,
});

export const defaultRandom: RandomBytes = (length) => nacl.randomBytes(length);

function isId(id: unknown): id is number {
  return Number.isInteger(id) && (id as number) >= 0 && (id as number) <= MAX_ID;
}

function signedPrekeyMessage(id: number, createdAt: number, publicKey: Uint8Array): Uint8Array {
  return new ByteWriter().string16(SIGNED_PREKEY_LABEL).u32(id).u64(createdAt).bytes16(publicKey).finish();
}

/** A fresh X25519 key pair from `random` (32 bytes, clamped by X25519 itself). */
export function x25519KeyPair(random: RandomBytes): { secretKey: Uint8Array; publicKey: Uint8Array } {
  const secretKey = random(32);
  if (!isBytes(secretKey, 32)) throw new CryptoError('INVALID_ARGUMENT');
  return { secretKey: Uint8Array.from(secretKey), publicKey: x25519PublicFromSecret(secretKey) };
}

/** A new signed prekey of `device`, made at `now` (Unix ms). */
export function generateSignedPrekey(device: DeviceIdentity, options: { id: number; now: number; random?: RandomBytes }): SignedPrekeyPair {
  const { id, now } = options;
  if (!isId(id) || !Number.isSafeInteger(now) || now < 0) throw new CryptoError('INVALID_ARGUMENT');
  const { secretKey, publicKey } = x25519KeyPair(options.random ?? defaultRandom);
  const signature = ed25519Sign(secretsOf(device).signKey, signedPrekeyMessage(id, now, publicKey));
  return { id, createdAt: now, publicKey, signature, secretKey };
}

/** `count` one-time prekeys with ids firstId, firstId + 1, ... */
export function generateOneTimePrekeys(options: { firstId: number; count: number; random?: RandomBytes }): OneTimePrekeyPair[] {
  const { firstId, count } = options;
  if (!isId(firstId) || !Number.isInteger(count) || count < 0 || count > MAX_ONE_TIME_PREKEYS || firstId + count - 1 > MAX_ID) {
    throw new CryptoError('INVALID_ARGUMENT');
  }
  const random = options.random ?? defaultRandom;
  return Array.from({ length: count }, (_, i) => ({ id: firstId + i, ...x25519KeyPair(random) }));
}

/** The public half of a signed prekey (what the device uploads). */
export function publicSignedPrekey(prekey: SignedPrekey): SignedPrekey {
  return {
    id: prekey.id,
    createdAt: prekey.createdAt,
    publicKey: Uint8Array.from(prekey.publicKey),
    signature: Uint8Array.from(prekey.signature),
  };
}

/**
 * Checks a signed prekey against the device's sign key: BAD_BUNDLE when malformed,
 * BAD_PREKEY_SIGNATURE when the signature fails, LOW_ORDER_POINT for a low-order key.
 */
export function verifySignedPrekey(signKey: Uint8Array, prekey: SignedPrekey): void {
  const p = prekey as Partial<SignedPrekey> | null;
  if (
    typeof p !== 'object' ||
    p === null ||
    !isId(p.id) ||
    !Number.isSafeInteger(p.createdAt) ||
    (p.createdAt as number) < 0 ||
    !isBytes(p.publicKey, 32) ||
    !isBytes(p.signature, 64) ||
    !isBytes(signKey, 32)
  ) {
    throw new CryptoError('BAD_BUNDLE');
  }
  if (!ed25519Verify(signKey, signedPrekeyMessage(p.id as number, p.createdAt as number, p.publicKey), p.signature)) {
    throw new CryptoError('BAD_PREKEY_SIGNATURE');
  }
  if (isLowOrderX25519(p.publicKey)) throw new CryptoError('LOW_ORDER_POINT');
}

/** Every check an initiator makes on a bundle before X3DH (BAD_BUNDLE, BAD_PREKEY_SIGNATURE, LOW_ORDER_POINT). */
export function verifyPrekeyBundle(bundle: PrekeyBundle): void {
  const b = bundle as Partial<PrekeyBundle> | null;
  if (typeof b !== 'object' || b === null || b.signedPrekey === undefined) throw new CryptoError('BAD_BUNDLE');
  verifyBundle(b.identity as DeviceBundle);
  verifySignedPrekey((b.identity as DeviceBundle).signKey, b.signedPrekey);
  const otp = b.oneTimePrekey as Partial<OneTimePrekey> | null | undefined;
  if (otp !== undefined) {
    if (typeof otp !== 'object' || otp === null || !isId(otp.id) || !isBytes(otp.publicKey, 32)) throw new CryptoError('BAD_BUNDLE');
    if (isLowOrderX25519(otp.publicKey)) throw new CryptoError('LOW_ORDER_POINT');
  }
}

function badBundle(): CryptoError {
  return new CryptoError('BAD_BUNDLE');
}

function writeSignedPrekey(w: ByteWriter, p: SignedPrekey): ByteWriter {
  if (!isId(p.id) || !isBytes(p.publicKey, 32) || !isBytes(p.signature, 64)) throw new CryptoError('INVALID_ARGUMENT');
  return w.u32(p.id).u64(p.createdAt).raw(p.publicKey).raw(p.signature);
}

function readSignedPrekey(r: ByteReader): SignedPrekey {
  return { id: r.u32(), createdAt: r.u64(), publicKey: r.raw(32), signature: r.raw(64) };
}

/** Canonical bytes of a signed prekey's public half: u32 id | u64 createdAt | key (32) | signature (64). */
export function encodeSignedPrekey(prekey: SignedPrekey): Uint8Array {
  return writeSignedPrekey(new ByteWriter(), prekey).finish();
}

/** Strict inverse of encodeSignedPrekey (BAD_BUNDLE); does not verify: call verifySignedPrekey. */
export function decodeSignedPrekey(bytes: Uint8Array): SignedPrekey {
  if (!isBytes(bytes)) throw badBundle();
  const r = new ByteReader(bytes, badBundle);
  const prekey = readSignedPrekey(r);
  r.end();
  return prekey;
}

/**
 * Canonical bytes of a bundle: 0xB1 | signKey (32) | boxKey (32) | bundle signature (64) |
 * signed prekey (108) | u8 0 or 1 | [u32 one-time id | one-time key (32)].
 */
export function encodePrekeyBundle(bundle: PrekeyBundle): Uint8Array {
  const { identity, oneTimePrekey } = bundle;
  if (!isBytes(identity.signKey, 32) || !isBytes(identity.boxKey, 32) || !isBytes(identity.signature, 64))
    throw new CryptoError('INVALID_ARGUMENT');
  const w = new ByteWriter().u8(PREKEY_BUNDLE_VERSION).raw(identity.signKey).raw(identity.boxKey).raw(identity.signature);
  writeSignedPrekey(w, bundle.signedPrekey);
  if (oneTimePrekey === undefined) return w.u8(0).finish();
  if (!isId(oneTimePrekey.id) || !isBytes(oneTimePrekey.publicKey, 32)) throw new CryptoError('INVALID_ARGUMENT');
  return w.u8(1).u32(oneTimePrekey.id).raw(oneTimePrekey.publicKey).finish();
}

/** Strict inverse of encodePrekeyBundle (BAD_BUNDLE); does not verify: call verifyPrekeyBundle. */
export function decodePrekeyBundle(bytes: Uint8Array): PrekeyBundle {
  if (!isBytes(bytes)) throw badBundle();
  const r = new ByteReader(bytes, badBundle);
  if (r.u8() !== PREKEY_BUNDLE_VERSION) throw badBundle();
  const identity: DeviceBundle = { signKey: r.raw(32), boxKey: r.raw(32), signature: r.raw(64) };
  const signedPrekey = readSignedPrekey(r);
  const flag = r.u8();
  if (flag > 1) throw badBundle();
  const bundle: PrekeyBundle = { identity, signedPrekey };
  if (flag === 1) bundle.oneTimePrekey = { id: r.u32(), publicKey: r.raw(32) };
  r.end();
  return bundle;
}

export interface SignedPrekeyPlan<T extends SignedPrekey> {
  /** True when the device should make (and upload) a new signed prekey now. */
  rotate: boolean;
  /** The prekeys whose secrets to keep: the newest, and replaced ones still within their grace period. */
  keep: T[];
  /** The prekeys whose secrets to delete now. */
  discard: T[];
}

/** Which of the device's signed prekeys to keep at `now` (Unix ms), and whether to rotate. */
export function planSignedPrekeys<T extends SignedPrekey>(
  held: readonly T[],
  now: number,
  policy: PrekeyPolicy = DEFAULT_PREKEY_POLICY,
): SignedPrekeyPlan<T> {
  if (!Number.isSafeInteger(now)) throw new CryptoError('INVALID_ARGUMENT');
  const newestFirst = [...held].sort((a, b) => b.createdAt - a.createdAt || b.id - a.id);
  const keep: T[] = [];
  const discard: T[] = [];
  newestFirst.forEach((prekey, i) => {
    // A replaced prekey's grace period runs from when its successor was made.
    const successor = i === 0 ? undefined : newestFirst[i - 1];
    if (successor === undefined || now - successor.createdAt < policy.keepReplacedForMs) keep.push(prekey);
    else discard.push(prekey);
  });
  const newest = newestFirst[0];
  return { rotate: newest === undefined || now - newest.createdAt >= policy.rotateAfterMs, keep, discard };
}

/** How many one-time prekeys to make and upload when the server says `remaining` are left. */
export function oneTimePrekeysToAdd(remaining: number, policy: PrekeyPolicy = DEFAULT_PREKEY_POLICY): number {
  if (!Number.isInteger(remaining) || remaining < 0) throw new CryptoError('INVALID_ARGUMENT');
  return remaining < policy.oneTimeLowWater ? Math.max(0, policy.oneTimeTarget - remaining) : 0;
}
