import type { KeyObject } from 'node:crypto';
import nacl from 'tweetnacl';
import { ByteWriter, base64url, isBytes, requireKey, utf8 } from './bytes.js';
import { CryptoError } from './errors.js';
import { hkdf, sha512 } from './kdf.js';
import {
  ed25519PrivateKey,
  ed25519PublicFromPrivate,
  ed25519Sign,
  ed25519Verify,
  isLowOrderX25519,
  x25519PrivateKey,
  x25519PublicFromSecret,
} from './native.js';

// A client device's long-term identity: one 32-byte secret from which an
// Ed25519 signing key and an X25519 box key are derived with HKDF. The public
// bundle carries the box key signed by the signing key.

const SIGN_INFO = 'hush device sign key v1';
const BOX_INFO = 'hush device box key v1';
const BUNDLE_LABEL = 'hush device bundle v1';
const LOGIN_LABEL = 'hush device login v1';

export interface DeviceBundle {
  /** Ed25519 public key (32 bytes): the device's identity. */
  signKey: Uint8Array;
  /** X25519 public key (32 bytes): the device's identity key in X3DH. */
  boxKey: Uint8Array;
  /** Ed25519 signature by signKey over a labelled encoding of boxKey (64 bytes). */
  signature: Uint8Array;
}

interface DeviceSecrets {
  signKey: KeyObject;
  boxKey: KeyObject;
}

// Private halves live outside the class so the public surface has no raw signing oracle.
const deviceSecrets = new WeakMap<DeviceIdentity, DeviceSecrets>();

function bundleMessage(boxKey: Uint8Array): Uint8Array {
  return new ByteWriter().string16(BUNDLE_LABEL).bytes16(boxKey).finish();
}

export class DeviceIdentity {
  readonly signPublicKey: Uint8Array;
  readonly boxPublicKey: Uint8Array;
  /** 32-byte seed from which both key pairs derive: persist it (0600), reload with fromSecret(). */
  readonly secret: Uint8Array;
  private cachedBundle: DeviceBundle | undefined;

  private constructor(seed: Uint8Array) {
    this.secret = Uint8Array.from(seed);
    const signSeed = hkdf(this.secret, new Uint8Array(0), SIGN_INFO, 32);
    const boxSecret = hkdf(this.secret, new Uint8Array(0), BOX_INFO, 32);
    const signKey = ed25519PrivateKey(signSeed);
    signSeed.fill(0);
    this.signPublicKey = ed25519PublicFromPrivate(signKey);
    const boxKey = x25519PrivateKey(boxSecret);
    this.boxPublicKey = x25519PublicFromSecret(boxSecret);
    boxSecret.fill(0);
    deviceSecrets.set(this, { signKey, boxKey });
  }

  static generate(): DeviceIdentity {
    return new DeviceIdentity(nacl.randomBytes(32));
  }

  static fromSecret(seed32: Uint8Array): DeviceIdentity {
    return new DeviceIdentity(requireKey(seed32, 32));
  }

  /** The public bundle to publish (signed box key). */
  bundle(): DeviceBundle {
    this.cachedBundle ??= {
      signKey: this.signPublicKey,
      boxKey: this.boxPublicKey,
      signature: ed25519Sign(secretsOf(this).signKey, bundleMessage(this.boxPublicKey)),
    };
    const b = this.cachedBundle;
    return { signKey: Uint8Array.from(b.signKey), boxKey: Uint8Array.from(b.boxKey), signature: Uint8Array.from(b.signature) };
  }

  /** deviceId(this.signPublicKey). */
  id(): string {
    return deviceId(this.signPublicKey);
  }
}

/** @internal Private key material of a device (for prekeys and X3DH). */
export function secretsOf(device: DeviceIdentity): DeviceSecrets {
  const s = deviceSecrets.get(device);
  if (s === undefined) throw new CryptoError('BAD_KEY');
  return s;
}

/** Throws BAD_BUNDLE unless the bundle is well formed, self-signed, and its box key is not low-order. */
export function verifyBundle(bundle: DeviceBundle): void {
  const b = bundle as Partial<DeviceBundle> | null;
  if (
    typeof b !== 'object' ||
    b === null ||
    !isBytes(b.signKey, 32) ||
    !isBytes(b.boxKey, 32) ||
    !isBytes(b.signature, 64) ||
    !ed25519Verify(b.signKey, bundleMessage(b.boxKey), b.signature) ||
    isLowOrderX25519(b.boxKey)
  ) {
    throw new CryptoError('BAD_BUNDLE');
  }
}

/** Short stable device id: unpadded base64url of the first 16 bytes of SHA-512(signKey) (22 chars). */
export function deviceId(bundleOrSignKey: DeviceBundle | Uint8Array): string {
  const signKey = bundleOrSignKey instanceof Uint8Array ? bundleOrSignKey : bundleOrSignKey?.signKey;
  if (!isBytes(signKey, 32)) throw new CryptoError('BAD_KEY');
  return base64url(sha512(signKey).subarray(0, 16));
}

function loginMessage(sessionId: Uint8Array, username: string, challenge: Uint8Array): Uint8Array {
  return new ByteWriter().string16(LOGIN_LABEL).bytes16(sessionId).bytes16(utf8(username)).bytes16(challenge).finish();
}

/**
 * Proof that this device (its signing key) logs in as `username` on the
 * session `sessionId` (from the handshake), answering the server's `challenge`.
 */
export function signDeviceLogin(device: DeviceIdentity, sessionId: Uint8Array, username: string, challenge: Uint8Array): Uint8Array {
  if (!isBytes(sessionId) || typeof username !== 'string' || !isBytes(challenge)) throw new CryptoError('INVALID_ARGUMENT');
  return ed25519Sign(secretsOf(device).signKey, loginMessage(sessionId, username, challenge));
}

/** Native Ed25519 verify of a login proof; false for any mismatch or malformed input. */
export function verifyDeviceLogin(
  signKey: Uint8Array,
  sessionId: Uint8Array,
  username: string,
  challenge: Uint8Array,
  signature: Uint8Array,
): boolean {
  if (!isBytes(sessionId) || typeof username !== 'string' || !isBytes(challenge)) return false;
  if (sessionId.length > 0xffff || challenge.length > 0xffff || username.length > 0x3fff) return false;
  return ed25519Verify(signKey, loginMessage(sessionId, username, challenge), signature);
}
