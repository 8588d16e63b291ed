import nacl from 'tweetnacl';
import { ByteReader, ByteWriter, concatBytes, constantTimeEqual, fromUtf8, isBytes, utf8 } from './bytes.js';
import { CryptoError } from './errors.js';
import { secretsOf, verifyBundle, deviceId, type DeviceBundle, type DeviceIdentity } from './device.js';
import { sha512 } from './kdf.js';
import { boxBefore } from './native.js';

// End-to-end direct messages to every device of the recipient (and the
// sender's other devices). The inner payload is sealed once with secretbox
// under a random message key; the key is nacl.box'ed to each device.
//
// Each key box carries   messageKey (32) || binding (32)   where
// binding = SHA-512(label || sender signKey || sender boxKey || nonce || ciphertext)[0..32].
// Without it, any one recipient (who learns the message key) could reuse the
// other devices' key boxes with a new ciphertext and forge a message "from" the
// sender to them. The envelope is NOT signed with Ed25519: nacl.box already
// authenticates the sender's box key to each recipient, and staying unsigned
// keeps DMs deniable (a recipient can't prove to a third party who wrote them).

export const SEALED_DIRECT_VERSION = 0xd1;
export const MAX_DIRECT_RECIPIENTS = 256;
const INNER_VERSION = 1;
const BINDING_LABEL = utf8('hush direct envelope v1\0');
const KEY_BOX_LENGTH = 64 + nacl.box.overheadLength;

export interface DirectInner {
  /** Sender username. The recipient must check it names the owner of the sender's bundle. */
  from: string;
  /** Recipient username. The recipient must check it is itself. */
  to: string;
  /** Message id (unique per sender). */
  id: string;
  /** Per-conversation sequence number (1, 2, ...), checked with SequenceTracker. */
  seq: number;
  /** Sender's clock, Unix milliseconds. */
  sentAt: number;
  /** Message body as text (UTF-8 on the wire). Binary payloads (file offers) are encoded by the caller. */
  body: string;
}

export interface SealedDirectKey {
  /** deviceId() of the recipient device. */
  device: string;
  nonce: Uint8Array;
  /** nacl.box(messageKey || binding) from the sender box key to the device box key. */
  box: Uint8Array;
}

export interface SealedDirect {
  /** Sender device signKey. */
  sender: Uint8Array;
  /** Sender device boxKey. */
  senderBox: Uint8Array;
  nonce: Uint8Array;
  ciphertext: Uint8Array;
  keys: SealedDirectKey[];
}

function boxFailed(): CryptoError {
  return new CryptoError('BOX_OPEN_FAILED');
}

function encodeInner(inner: DirectInner): Uint8Array {
  const i = inner as Partial<DirectInner> | null;
  if (
    typeof i !== 'object' ||
    i === null ||
    typeof i.from !== 'string' ||
    typeof i.to !== 'string' ||
    typeof i.id !== 'string' ||
    typeof i.body !== 'string' ||
    !Number.isSafeInteger(i.seq) ||
    (i.seq as number) < 0 ||
    !Number.isSafeInteger(i.sentAt) ||
    (i.sentAt as number) < 0
  ) {
    throw new CryptoError('INVALID_ARGUMENT');
  }
  return new ByteWriter()
    .u8(INNER_VERSION)
    .string16(inner.from)
    .string16(inner.to)
    .string16(inner.id)
    .u64(inner.seq)
    .u64(inner.sentAt)
    .bytes32(utf8(inner.body))
    .finish();
}

function decodeInner(bytes: Uint8Array): DirectInner {
  const r = new ByteReader(bytes, boxFailed);
  if (r.u8() !== INNER_VERSION) throw boxFailed();
  const from = r.string16();
  const to = r.string16();
  const id = r.string16();
  const seq = r.u64();
  const sentAt = r.u64();
  let body: string;
  try {
    body = fromUtf8(r.bytes32());
  } catch (cause) {
    throw new CryptoError('BOX_OPEN_FAILED', { cause });
  }
  r.end();
  return { from, to, id, seq, sentAt, body };
}

function binding(sender: Uint8Array, senderBox: Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array): Uint8Array {
  return sha512(concatBytes(BINDING_LABEL, sender, senderBox, nonce, ciphertext)).subarray(0, 32);
}

/**
 * Seals `inner` for every device in `recipients` (verified first: BAD_BUNDLE).
 * Include the sender's own other devices to keep them in sync.
 */
export function sealDirect(sender: DeviceIdentity, recipients: DeviceBundle[], inner: DirectInner): SealedDirect {
  if (!Array.isArray(recipients) || recipients.length === 0 || recipients.length > MAX_DIRECT_RECIPIENTS) {
    throw new CryptoError('INVALID_ARGUMENT');
  }
  for (const r of recipients) verifyBundle(r);
  const { boxKey } = secretsOf(sender);
  const messageKey = nacl.randomBytes(32);
  const nonce = nacl.randomBytes(nacl.secretbox.nonceLength);
  const plaintext = encodeInner(inner);
  const ciphertext = nacl.secretbox(plaintext, nonce, messageKey);
  plaintext.fill(0);
  const senderSign = Uint8Array.from(sender.signPublicKey);
  const senderBox = Uint8Array.from(sender.boxPublicKey);
  const keyPlain = concatBytes(messageKey, binding(senderSign, senderBox, nonce, ciphertext));
  messageKey.fill(0);

  const keys: SealedDirectKey[] = [];
  const seen = new Set<string>();
  for (const r of recipients) {
    const device = deviceId(r);
    if (seen.has(device)) continue;
    seen.add(device);
    const keyNonce = nacl.randomBytes(nacl.box.nonceLength);
    // nacl.box(keyPlain, keyNonce, r.boxKey, senderSecret), X25519 done natively.
    const shared = boxBefore(boxKey, r.boxKey);
    keys.push({ device, nonce: keyNonce, box: nacl.secretbox(keyPlain, keyNonce, shared) });
    shared.fill(0);
  }
  keyPlain.fill(0);
  return { sender: senderSign, senderBox, nonce, ciphertext, keys };
}

/**
 * Opens a DM addressed to `me`. `senderBundle` is the sender device's bundle
 * from the key directory: it must be valid (BAD_BUNDLE) and match the envelope.
 * Any tampering, or no key for this device, is BOX_OPEN_FAILED.
 */
export function openDirect(me: DeviceIdentity, sealed: SealedDirect, senderBundle: DeviceBundle): DirectInner {
  verifyBundle(senderBundle);
  const s = sealed as Partial<SealedDirect> | null;
  if (
    typeof s !== 'object' ||
    s === null ||
    !isBytes(s.sender, 32) ||
    !isBytes(s.senderBox, 32) ||
    !isBytes(s.nonce, nacl.secretbox.nonceLength) ||
    !isBytes(s.ciphertext) ||
    !Array.isArray(s.keys) ||
    !constantTimeEqual(s.sender, senderBundle.signKey) ||
    !constantTimeEqual(s.senderBox, senderBundle.boxKey)
  ) {
    throw boxFailed();
  }
  const myId = me.id();
  const entry = s.keys.find((k) => k !== null && typeof k === 'object' && k.device === myId);
  if (entry === undefined || !isBytes(entry.nonce, nacl.box.nonceLength) || !isBytes(entry.box, KEY_BOX_LENGTH)) throw boxFailed();

  let shared: Uint8Array;
  try {
    shared = boxBefore(secretsOf(me).boxKey, senderBundle.boxKey);
  } catch (cause) {
    throw new CryptoError('BOX_OPEN_FAILED', { cause });
  }
  // = nacl.box.open(entry.box, entry.nonce, senderBundle.boxKey, mySecret)
  const keyPlain = nacl.secretbox.open(entry.box, entry.nonce, shared);
  shared.fill(0);
  if (keyPlain === null) throw boxFailed();
  const messageKey = keyPlain.subarray(0, 32);
  const ok = constantTimeEqual(keyPlain.subarray(32), binding(s.sender, s.senderBox, s.nonce, s.ciphertext));
  const plaintext = ok ? nacl.secretbox.open(s.ciphertext, s.nonce, messageKey) : null;
  keyPlain.fill(0);
  if (plaintext === null) throw boxFailed();
  return decodeInner(plaintext);
}

/** Compact binary form the server stores and forwards opaquely. */
export function encodeSealedDirect(sealed: SealedDirect): Uint8Array {
  if (sealed.keys.length > MAX_DIRECT_RECIPIENTS) throw new CryptoError('INVALID_ARGUMENT');
  const w = new ByteWriter().u8(SEALED_DIRECT_VERSION).raw(sealed.sender).raw(sealed.senderBox).raw(sealed.nonce).u16(sealed.keys.length);
  for (const k of sealed.keys) w.string16(k.device).raw(k.nonce).bytes16(k.box);
  return w.bytes32(sealed.ciphertext).finish();
}

/** Strict inverse of encodeSealedDirect; malformed bytes are BOX_OPEN_FAILED. */
export function decodeSealedDirect(bytes: Uint8Array): SealedDirect {
  if (!isBytes(bytes)) throw boxFailed();
  const r = new ByteReader(bytes, boxFailed);
  if (r.u8() !== SEALED_DIRECT_VERSION) throw boxFailed();
  const sender = r.raw(32);
  const senderBox = r.raw(32);
  const nonce = r.raw(nacl.secretbox.nonceLength);
  const count = r.u16();
  if (count > MAX_DIRECT_RECIPIENTS) throw boxFailed();
  const keys: SealedDirectKey[] = [];
  for (let i = 0; i < count; i++) {
    const device = r.string16();
    const keyNonce = r.raw(nacl.box.nonceLength);
    const box = r.bytes16();
    if (box.length !== KEY_BOX_LENGTH) throw boxFailed();
    keys.push({ device, nonce: keyNonce, box });
  }
  const ciphertext = r.bytes32();
  r.end();
  return { sender, senderBox, nonce, ciphertext, keys };
}
