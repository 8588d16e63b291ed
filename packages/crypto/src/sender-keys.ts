import type { KeyObject } from 'node:crypto';
import { ByteReader, ByteWriter, concatBytes, isBytes, utf8 } from './bytes.js';
import { CryptoError } from './errors.js';
import {
  chachaOpen,
  chachaSeal,
  ed25519PrivateKey,
  ed25519PublicFromPrivate,
  ed25519PublicKey,
  ed25519Sign,
  ed25519VerifyWith,
} from './native.js';
import { defaultRandom, type RandomBytes } from './prekeys.js';
import { kdfCk, messageCipherKeys } from './ratchet.js';

// Sender keys for end-to-end encrypted rooms (Signal's "Sender Keys", Matrix's Megolm): each
// device has, per room, a chain key and an Ed25519 signing key, and hands both to every other
// member device over the pairwise sessions (a distribution message). A room message is then
// encrypted once for everyone:
//   KDF_CK(ck)  = HMAC-SHA-256(ck, 0x01) → mk,  HMAC-SHA-256(ck, 0x02) → ck'   (as the Double Ratchet)
//   keys(mk)    = HKDF-SHA-256(ikm = mk, salt = 32 zero bytes, info = "Hush Sender Key message v1", 44)
//                 → key (32) | nonce (12), ChaCha20-Poly1305 (RFC 8439)
//   AD          = "Hush Sender Key v1" | room | sender device | version | key id | iteration
//   signature   = Ed25519(signing key, AD | ciphertext)
// The chain only moves forward (forward secrecy: a key once used is wiped); a receiver keeps a
// bounded set of keys for iterations it skipped, so reordering within a chain opens once, and a
// replay is refused. Whoever holds a chain key at iteration i reads from i on, never before.

export const SENDER_KEY_MESSAGE_VERSION = 0xe2;
export const SENDER_KEY_DISTRIBUTION_VERSION = 0xe3;
export const SENDER_KEY_STATE_VERSION = 1;
/** The furthest a message may jump ahead of the next expected iteration. */
export const SENDER_KEY_MAX_SKIP = 1000;
/** Keys of skipped iterations kept per sender key (oldest dropped first). */
export const SENDER_KEY_MAX_SKIPPED = 2000;

const LABEL = utf8('Hush Sender Key v1');
const MESSAGE_INFO = utf8('Hush Sender Key message v1');
const SIGNATURE_LENGTH = 64;
const HEADER_LENGTH = 1 + 4 + 4;
const MAX_U32 = 0xffff_ffff;
const OUTBOUND = 0x4f; // 'O'
const INBOUND = 0x49; // 'I'

/** The AEAD key and nonce of one message key: the Double Ratchet's derivation under this construction's label. */
export function senderMessageCipherKeys(messageKey: Uint8Array): { key: Uint8Array; nonce: Uint8Array } {
  return messageCipherKeys(messageKey, MESSAGE_INFO);
}

/** What a device hands to the other member devices so they can read its room messages. */
export interface SenderKeyDistribution {
  room: string;
  keyId: number;
  /** The iteration `chainKey` is at: the receiver reads messages from this iteration on. */
  iteration: number;
  chainKey: Uint8Array;
  signingKey: Uint8Array;
}

/** A room message as read from the wire (nothing in it is authenticated until it opens). */
export interface SenderKeyMessage {
  keyId: number;
  iteration: number;
  ciphertext: Uint8Array;
  signature: Uint8Array;
}

/** How an opened message stands in its sender's chain. */
export type SenderKeyOrder = 'next' | 'ahead' | 'late';

export interface OpenedSenderKeyMessage {
  plaintext: Uint8Array;
  iteration: number;
  /** `ahead`: earlier iterations have not arrived (yet); `late`: it arrived after a later one. */
  order: SenderKeyOrder;
}

const invalidMessage = (): CryptoError => new CryptoError('BOX_OPEN_FAILED');
const invalidState = (): CryptoError => new CryptoError('SESSION_STATE_INVALID');

function requireU32(value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > MAX_U32) throw new CryptoError('INVALID_ARGUMENT');
}

function associatedData(room: string, senderDevice: string, keyId: number, iteration: number): Uint8Array {
  return new ByteWriter()
    .raw(LABEL)
    .string16(room)
    .string16(senderDevice)
    .u8(SENDER_KEY_MESSAGE_VERSION)
    .u32(keyId)
    .u32(iteration)
    .finish();
}

export function encodeSenderKeyDistribution(d: SenderKeyDistribution): Uint8Array {
  requireU32(d.keyId);
  requireU32(d.iteration);
  if (!isBytes(d.chainKey, 32) || !isBytes(d.signingKey, 32)) throw new CryptoError('BAD_KEY');
  return new ByteWriter()
    .u8(SENDER_KEY_DISTRIBUTION_VERSION)
    .string16(d.room)
    .u32(d.keyId)
    .u32(d.iteration)
    .raw(d.chainKey)
    .raw(d.signingKey)
    .finish();
}

export function decodeSenderKeyDistribution(bytes: Uint8Array): SenderKeyDistribution {
  const r = new ByteReader(bytes, invalidMessage);
  if (r.u8() !== SENDER_KEY_DISTRIBUTION_VERSION) throw invalidMessage();
  const d = { room: r.string16(), keyId: r.u32(), iteration: r.u32(), chainKey: r.raw(32), signingKey: r.raw(32) };
  r.end();
  return d;
}

export function decodeSenderKeyMessage(bytes: Uint8Array): SenderKeyMessage {
  if (!isBytes(bytes) || bytes.length < HEADER_LENGTH + 16 + SIGNATURE_LENGTH) throw invalidMessage();
  const r = new ByteReader(bytes, invalidMessage);
  if (r.u8() !== SENDER_KEY_MESSAGE_VERSION) throw invalidMessage();
  const keyId = r.u32();
  const iteration = r.u32();
  const ciphertext = r.raw(bytes.length - HEADER_LENGTH - SIGNATURE_LENGTH);
  const signature = r.raw(SIGNATURE_LENGTH);
  return { keyId, iteration, ciphertext, signature };
}

/** This device's own sender key in one room: it encrypts and signs. */
export class OutboundSenderKey {
  private constructor(
    readonly room: string,
    readonly senderDevice: string,
    readonly keyId: number,
    private iterationValue: number,
    private chainKey: Uint8Array,
    private readonly signingSeed: Uint8Array,
  ) {}

  private signer?: KeyObject;

  private get signerKey(): KeyObject {
    this.signer ??= ed25519PrivateKey(this.signingSeed);
    return this.signer;
  }

  /** A fresh key (random chain key, signing key and key id) at iteration 0. */
  static create(room: string, senderDevice: string, random: RandomBytes = defaultRandom): OutboundSenderKey {
    const id = new DataView(random(4).buffer).getUint32(0);
    return new OutboundSenderKey(room, senderDevice, id, 0, random(32), random(32));
  }

  /** The iteration the next message will carry. */
  get iteration(): number {
    return this.iterationValue;
  }

  get signingKey(): Uint8Array {
    return ed25519PublicFromPrivate(this.signerKey);
  }

  /** The key as it stands now: whoever receives it reads this device's messages from here on. */
  distribution(): SenderKeyDistribution {
    return {
      room: this.room,
      keyId: this.keyId,
      iteration: this.iterationValue,
      chainKey: this.chainKey.slice(),
      signingKey: this.signingKey,
    };
  }

  /** Encrypts and signs one message, then ratchets the chain forward (the message key is wiped). */
  encrypt(plaintext: Uint8Array): Uint8Array {
    if (!isBytes(plaintext)) throw new CryptoError('INVALID_ARGUMENT');
    if (this.iterationValue >= MAX_U32) throw new CryptoError('INVALID_ARGUMENT');
    const iteration = this.iterationValue;
    const { chainKey, messageKey } = kdfCk(this.chainKey);
    const ad = associatedData(this.room, this.senderDevice, this.keyId, iteration);
    const { key, nonce } = senderMessageCipherKeys(messageKey);
    const ciphertext = chachaSeal(key, nonce, ad, plaintext);
    key.fill(0);
    messageKey.fill(0);
    const signature = ed25519Sign(this.signerKey, concatBytes(ad, ciphertext));
    this.chainKey.fill(0);
    this.chainKey = chainKey;
    this.iterationValue = iteration + 1;
    return new ByteWriter().u8(SENDER_KEY_MESSAGE_VERSION).u32(this.keyId).u32(iteration).raw(ciphertext).raw(signature).finish();
  }

  /** Versioned state: 0x01 | 'O' | room | device | key id | iteration | chain key | signing seed. */
  toBytes(): Uint8Array {
    return new ByteWriter()
      .u8(SENDER_KEY_STATE_VERSION)
      .u8(OUTBOUND)
      .string16(this.room)
      .string16(this.senderDevice)
      .u32(this.keyId)
      .u32(this.iterationValue)
      .raw(this.chainKey)
      .raw(this.signingSeed)
      .finish();
  }

  static fromBytes(bytes: Uint8Array): OutboundSenderKey {
    const r = new ByteReader(bytes, invalidState);
    if (r.u8() !== SENDER_KEY_STATE_VERSION || r.u8() !== OUTBOUND) throw invalidState();
    const key = new OutboundSenderKey(r.string16(), r.string16(), r.u32(), r.u32(), r.raw(32), r.raw(32));
    r.end();
    return key;
  }
}

/** Another device's sender key in one room, as received: it verifies and decrypts. */
export class InboundSenderKey {
  private constructor(
    readonly room: string,
    readonly senderDevice: string,
    readonly keyId: number,
    /** The first iteration this device can read: the one it was given the key at. */
    readonly firstIteration: number,
    private nextIteration: number,
    private chainKey: Uint8Array,
    readonly signingKey: Uint8Array,
    /** Keys of iterations skipped over, oldest first. */
    private readonly skipped: Map<number, Uint8Array>,
  ) {
    this.verifier = ed25519PublicKey(signingKey);
  }

  private readonly verifier: KeyObject;

  /**
   * The key `senderDevice` distributed for `room`. The caller vouches for `senderDevice`: the
   * distribution must have arrived over an authenticated session with that very device.
   */
  static fromDistribution(distribution: SenderKeyDistribution, senderDevice: string, room: string): InboundSenderKey {
    if (distribution.room !== room) throw new CryptoError('INVALID_ARGUMENT');
    requireU32(distribution.keyId);
    requireU32(distribution.iteration);
    if (!isBytes(distribution.chainKey, 32) || !isBytes(distribution.signingKey, 32)) throw new CryptoError('BAD_KEY');
    const { keyId, iteration, chainKey, signingKey } = distribution;
    return new InboundSenderKey(room, senderDevice, keyId, iteration, iteration, chainKey.slice(), signingKey.slice(), new Map());
  }

  /**
   * Verifies the sender's signature, then opens the message. Throws SENDER_KEY_UNKNOWN (another
   * key id, or an iteration from before this device got the key), SENDER_SIGNATURE_INVALID,
   * MESSAGE_REPLAYED, TOO_MANY_SKIPPED or BOX_OPEN_FAILED; a failure changes nothing.
   */
  decrypt(bytes: Uint8Array): OpenedSenderKeyMessage {
    const message = decodeSenderKeyMessage(bytes);
    const { keyId, iteration, ciphertext, signature } = message;
    if (keyId !== this.keyId || iteration < this.firstIteration) throw new CryptoError('SENDER_KEY_UNKNOWN');
    const ad = associatedData(this.room, this.senderDevice, keyId, iteration);
    if (!ed25519VerifyWith(this.verifier, concatBytes(ad, ciphertext), signature)) throw new CryptoError('SENDER_SIGNATURE_INVALID');

    if (iteration < this.nextIteration) {
      const messageKey = this.skipped.get(iteration);
      if (!messageKey) throw new CryptoError('MESSAGE_REPLAYED');
      const plaintext = openWith(messageKey, ad, ciphertext);
      this.skipped.delete(iteration);
      messageKey.fill(0);
      return { plaintext, iteration, order: 'late' };
    }
    if (iteration - this.nextIteration > SENDER_KEY_MAX_SKIP) throw new CryptoError('TOO_MANY_SKIPPED');

    // Walk a copy of the chain; commit only once the message opened.
    const passed: [number, Uint8Array][] = [];
    let chainKey = this.chainKey;
    for (let i = this.nextIteration; i < iteration; i++) {
      const step = kdfCk(chainKey);
      passed.push([i, step.messageKey]);
      chainKey = step.chainKey;
    }
    const step = kdfCk(chainKey);
    let plaintext: Uint8Array;
    try {
      plaintext = openWith(step.messageKey, ad, ciphertext);
    } catch (err) {
      for (const [, key] of passed) key.fill(0);
      throw err;
    } finally {
      step.messageKey.fill(0);
    }
    for (const [i, key] of passed) this.skipped.set(i, key);
    for (const [i, key] of this.skipped) {
      if (this.skipped.size <= SENDER_KEY_MAX_SKIPPED) break;
      key.fill(0);
      this.skipped.delete(i);
    }
    this.chainKey.fill(0);
    this.chainKey = step.chainKey;
    const order: SenderKeyOrder = iteration === this.nextIteration ? 'next' : 'ahead';
    this.nextIteration = iteration + 1;
    return { plaintext, iteration, order };
  }

  /** Versioned state: 0x01 | 'I' | room | device | key id | first | next | chain key | signing key | skipped. */
  toBytes(): Uint8Array {
    const w = new ByteWriter()
      .u8(SENDER_KEY_STATE_VERSION)
      .u8(INBOUND)
      .string16(this.room)
      .string16(this.senderDevice)
      .u32(this.keyId)
      .u32(this.firstIteration)
      .u32(this.nextIteration)
      .raw(this.chainKey)
      .raw(this.signingKey)
      .u16(this.skipped.size);
    for (const [i, key] of this.skipped) w.u32(i).raw(key);
    return w.finish();
  }

  static fromBytes(bytes: Uint8Array): InboundSenderKey {
    const r = new ByteReader(bytes, invalidState);
    if (r.u8() !== SENDER_KEY_STATE_VERSION || r.u8() !== INBOUND) throw invalidState();
    const room = r.string16();
    const senderDevice = r.string16();
    const keyId = r.u32();
    const first = r.u32();
    const next = r.u32();
    const chainKey = r.raw(32);
    const signingKey = r.raw(32);
    const count = r.u16();
    if (next < first || count > SENDER_KEY_MAX_SKIPPED) throw invalidState();
    const skipped = new Map<number, Uint8Array>();
    for (let n = 0; n < count; n++) {
      const i = r.u32();
      if (i < first || i >= next) throw invalidState();
      skipped.set(i, r.raw(32));
    }
    r.end();
    return new InboundSenderKey(room, senderDevice, keyId, first, next, chainKey, signingKey, skipped);
  }
}

function openWith(messageKey: Uint8Array, ad: Uint8Array, ciphertext: Uint8Array): Uint8Array {
  const { key, nonce } = senderMessageCipherKeys(messageKey);
  const plaintext = chachaOpen(key, nonce, ad, ciphertext);
  key.fill(0);
  if (!plaintext) throw new CryptoError('BOX_OPEN_FAILED');
  return plaintext;
}
