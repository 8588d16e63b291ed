import { ByteReader, ByteWriter, concatBytes, constantTimeEqual, isBytes, utf8 } from './bytes.js';
import type { DeviceBundle, DeviceIdentity } from './device.js';
import { CryptoError, isCryptoError } from './errors.js';
import { chachaOpen, chachaSeal, hkdfSha256, hmacSha256, x25519, x25519PrivateKey, x25519PublicFromSecret } from './native.js';
import { defaultRandom, x25519KeyPair, type PrekeyBundle, type PrekeyLookup, type RandomBytes } from './prekeys.js';
import { x3dhInitiate, x3dhRespond, type X3dhHeader } from './x3dh.js';

// The Double Ratchet (Perrin & Marlinspike, "The Double Ratchet Algorithm", 2016), section 3,
// with the recommended functions of section 5.2:
//   KDF_RK(rk, dh)  = HKDF-SHA-256(ikm = dh, salt = rk, info = "Hush Ratchet root v1", 64) → rk' | ck
//   KDF_CK(ck)      = HMAC-SHA-256(ck, 0x01) → mk,  HMAC-SHA-256(ck, 0x02) → ck'
//   ENCRYPT(mk)     = HKDF-SHA-256(ikm = mk, salt = 32 zero bytes, info = "Hush Ratchet message v1", 44)
//                     → key (32) | nonce (12), ChaCha20-Poly1305 (RFC 8439) in place of AES-CBC + HMAC
//   AD of a message = X3DH AD (128) || every byte of the message before the ciphertext.
// Headers are authenticated, not encrypted. A failed decrypt changes nothing in the state.

export const MAX_SKIP = 1000;
export const MAX_SKIPPED_KEYS = 2000;
export const SESSION_MESSAGE_VERSION = 0xe1;
export const SESSION_STATE_VERSION = 1;
const ROOT_INFO = utf8('Hush Ratchet root v1');
const MESSAGE_INFO = utf8('Hush Ratchet message v1');
const ZERO_SALT = new Uint8Array(32);
const CK_MESSAGE = Uint8Array.of(0x01);
const CK_CHAIN = Uint8Array.of(0x02);
const AD_LENGTH = 128;
const PREKEY_HEADER_LENGTH = 32 + 32 + 64 + 32 + 4 + 1;
const RATCHET_HEADER_LENGTH = 32 + 4 + 4;
const MAX_U32 = 0xffff_ffff;
/** Superseded remote ratchet keys remembered (8-byte prefixes), to call their replays replays. */
const PREVIOUS_RATCHET_KEYS = 16;
const PREFIX = 8;

export function kdfRk(rootKey: Uint8Array, dhOutput: Uint8Array): { rootKey: Uint8Array; chainKey: Uint8Array } {
  const out = hkdfSha256(dhOutput, rootKey, ROOT_INFO, 64);
  return { rootKey: out.slice(0, 32), chainKey: out.slice(32) };
}

export function kdfCk(chainKey: Uint8Array): { chainKey: Uint8Array; messageKey: Uint8Array } {
  return { chainKey: hmacSha256(chainKey, CK_CHAIN), messageKey: hmacSha256(chainKey, CK_MESSAGE) };
}

/** The AEAD key and nonce of one message key (`info` names the construction: sender keys use their own). */
export function messageCipherKeys(messageKey: Uint8Array, info: Uint8Array = MESSAGE_INFO): { key: Uint8Array; nonce: Uint8Array } {
  const out = hkdfSha256(messageKey, ZERO_SALT, info, 44);
  return { key: out.slice(0, 32), nonce: out.slice(32) };
}

function seal(messageKey: Uint8Array, ad: Uint8Array, plaintext: Uint8Array): Uint8Array {
  const { key, nonce } = messageCipherKeys(messageKey);
  const sealed = chachaSeal(key, nonce, ad, plaintext);
  key.fill(0);
  return sealed;
}

function open(messageKey: Uint8Array, ad: Uint8Array, sealed: Uint8Array): Uint8Array | null {
  const { key, nonce } = messageCipherKeys(messageKey);
  const plaintext = chachaOpen(key, nonce, ad, sealed);
  key.fill(0);
  return plaintext;
}

function dh(secretKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
  return x25519(x25519PrivateKey(secretKey), publicKey);
}

/** A session message as read from the wire (nothing in it is authenticated until it opens). */
export interface SessionMessage {
  /** Present on the initiator's messages until it has received a reply: what acceptSession needs. */
  prekey?: X3dhHeader;
  /** The sender's current ratchet public key. */
  ratchetKey: Uint8Array;
  /** PN: messages in the sender's previous sending chain. */
  previousChainLength: number;
  /** N: this message's number in its chain. */
  messageNumber: number;
  ciphertext: Uint8Array;
}

function corrupt(): CryptoError {
  return new CryptoError('BOX_OPEN_FAILED');
}

function encodePrekeyHeader(h: X3dhHeader): Uint8Array {
  const w = new ByteWriter()
    .raw(h.identity.signKey)
    .raw(h.identity.boxKey)
    .raw(h.identity.signature)
    .raw(h.ephemeral)
    .u32(h.signedPrekeyId);
  return (h.oneTimePrekeyId === undefined ? w.u8(0) : w.u8(1).u32(h.oneTimePrekeyId)).finish();
}

function parseMessage(bytes: Uint8Array): SessionMessage & { prefix: Uint8Array } {
  if (!isBytes(bytes)) throw corrupt();
  const r = new ByteReader(bytes, corrupt);
  if (r.u8() !== SESSION_MESSAGE_VERSION) throw corrupt();
  const flags = r.u8();
  if (flags > 1) throw corrupt();
  let prekey: X3dhHeader | undefined;
  let prefixLength = 2 + RATCHET_HEADER_LENGTH;
  if (flags === 1) {
    const identity: DeviceBundle = { signKey: r.raw(32), boxKey: r.raw(32), signature: r.raw(64) };
    prekey = { identity, ephemeral: r.raw(32), signedPrekeyId: r.u32() };
    const hasOneTime = r.u8();
    if (hasOneTime > 1) throw corrupt();
    prefixLength += PREKEY_HEADER_LENGTH;
    if (hasOneTime === 1) {
      prekey.oneTimePrekeyId = r.u32();
      prefixLength += 4;
    }
  }
  const ratchetKey = r.raw(32);
  const previousChainLength = r.u32();
  const messageNumber = r.u32();
  const ciphertext = bytes.subarray(prefixLength);
  if (ciphertext.length < 16) throw corrupt();
  const message: SessionMessage & { prefix: Uint8Array } = {
    ratchetKey,
    previousChainLength,
    messageNumber,
    ciphertext,
    prefix: bytes.subarray(0, prefixLength),
  };
  if (prekey) message.prekey = prekey;
  return message;
}

/** Reads a session message's header without opening it (BOX_OPEN_FAILED when malformed). */
export function decodeSessionMessage(bytes: Uint8Array): SessionMessage {
  const { prefix: _prefix, ...message } = parseMessage(bytes);
  return { ...message, ciphertext: Uint8Array.from(message.ciphertext) };
}

interface SkippedKey {
  ratchetKey: Uint8Array;
  messageNumber: number;
  messageKey: Uint8Array;
  /** The caller's clock (Unix ms) when the key was set aside. */
  storedAt: number;
}

interface SessionFields {
  responder: boolean;
  ad: Uint8Array;
  baseKey: Uint8Array;
  pendingPrekey: Uint8Array | undefined;
  rootKey: Uint8Array;
  sendSecret: Uint8Array;
  sendPublic: Uint8Array;
  recvPublic: Uint8Array | undefined;
  sendChain: Uint8Array | undefined;
  recvChain: Uint8Array | undefined;
  ns: number;
  nr: number;
  pn: number;
  previousRatchetKeys: Uint8Array[];
  skipped: Map<string, SkippedKey>;
}

/** The counters and skipped-key memory of a session that has sent and received nothing yet. */
function unusedChains(): Pick<SessionFields, 'ns' | 'nr' | 'pn' | 'previousRatchetKeys' | 'skipped'> {
  return { ns: 0, nr: 0, pn: 0, previousRatchetKeys: [], skipped: new Map() };
}

function skippedId(ratchetKey: Uint8Array, n: number): string {
  return `${Buffer.from(ratchetKey.buffer, ratchetKey.byteOffset, 32).toString('hex')}:${n}`;
}

/** Message keys of chain `chainKey` for numbers from..to-1 go into `out`; returns the chain key at `to`. */
function skipKeys(chainKey: Uint8Array, from: number, to: number, ratchetKey: Uint8Array, now: number, out: SkippedKey[]): Uint8Array {
  let chain = chainKey;
  for (let n = from; n < to; n++) {
    const next = kdfCk(chain);
    if (chain !== chainKey) chain.fill(0);
    out.push({ ratchetKey, messageNumber: n, messageKey: next.messageKey, storedAt: now });
    chain = next.chainKey;
  }
  return chain === chainKey ? Uint8Array.from(chain) : chain;
}

function wipe(...keys: (Uint8Array | undefined)[]): void {
  for (const k of keys) k?.fill(0);
}

export interface DecryptOptions {
  /** The caller's clock, Unix ms: stamps skipped message keys for evictSkippedKeys. */
  now: number;
  /** Randomness for the next ratchet key (default: the system's). */
  random?: RandomBytes;
}

/**
 * One Double Ratchet session between this device and one peer device. Mutable: encrypt and
 * decrypt advance it; persist toBytes() after each call (atomically) before acting on the result.
 */
export class RatchetSession {
  private s: SessionFields;

  private constructor(fields: SessionFields) {
    this.s = fields;
  }

  /**
   * Starts a session with the device of `peer` (X3DH as initiator; verifies the bundle first:
   * BAD_BUNDLE, BAD_PREKEY_SIGNATURE, LOW_ORDER_POINT). Its messages carry the X3DH header until
   * the peer's first reply opens.
   */
  static start(me: DeviceIdentity, peer: PrekeyBundle, options: { random?: RandomBytes } = {}): RatchetSession {
    const random = options.random ?? defaultRandom;
    const { sharedSecret, associatedData, header } = x3dhInitiate(me, peer, random);
    const ratchet = x25519KeyPair(random);
    const spk = Uint8Array.from(peer.signedPrekey.publicKey);
    const { rootKey, chainKey } = kdfRk(sharedSecret, dh(ratchet.secretKey, spk));
    sharedSecret.fill(0);
    return new RatchetSession({
      responder: false,
      ad: associatedData,
      baseKey: header.ephemeral,
      pendingPrekey: encodePrekeyHeader(header),
      rootKey,
      sendSecret: ratchet.secretKey,
      sendPublic: ratchet.publicKey,
      recvPublic: spk,
      sendChain: chainKey,
      recvChain: undefined,
      ...unusedChains(),
    });
  }

  /**
   * Accepts the first message of a session a peer started (X3DH as responder), and opens it.
   * `prekeys` finds this device's prekeys by id: a missing one is PREKEY_UNKNOWN. After success,
   * delete the one-time prekey `oneTimePrekeyId` for good (that is what refuses a replayed start).
   */
  static accept(
    me: DeviceIdentity,
    message: Uint8Array,
    prekeys: PrekeyLookup,
    options: DecryptOptions,
  ): { session: RatchetSession; plaintext: Uint8Array; oneTimePrekeyId: number | undefined } {
    const header = parseMessage(message).prekey;
    if (header === undefined) throw new CryptoError('SESSION_OUT_OF_SYNC');
    const signedPrekey = prekeys.signedPrekey(header.signedPrekeyId);
    const oneTimePrekey = header.oneTimePrekeyId === undefined ? undefined : prekeys.oneTimePrekey(header.oneTimePrekeyId);
    if (signedPrekey === undefined || (header.oneTimePrekeyId !== undefined && oneTimePrekey === undefined)) {
      throw new CryptoError('PREKEY_UNKNOWN');
    }
    const { sharedSecret, associatedData } = x3dhRespond(me, header, signedPrekey, oneTimePrekey);
    const session = new RatchetSession({
      responder: true,
      ad: associatedData,
      baseKey: header.ephemeral,
      pendingPrekey: undefined,
      rootKey: sharedSecret,
      sendSecret: Uint8Array.from(signedPrekey.secretKey),
      sendPublic: x25519PublicFromSecret(signedPrekey.secretKey),
      recvPublic: undefined,
      sendChain: undefined,
      recvChain: undefined,
      ...unusedChains(),
    });
    try {
      return { session, plaintext: session.decrypt(message, options), oneTimePrekeyId: header.oneTimePrekeyId };
    } catch (cause) {
      // No session existed yet, so nothing is out of sync: the message itself is bad.
      if (isCryptoError(cause, 'SESSION_OUT_OF_SYNC')) throw new CryptoError('BOX_OPEN_FAILED', { cause });
      throw cause;
    }
  }

  /** The X3DH ephemeral key: identifies the session (compare with a prekey message's `prekey.ephemeral`). */
  get baseKey(): Uint8Array {
    return Uint8Array.from(this.s.baseKey);
  }

  /** The peer device's sign and box keys, as bound into the session. */
  get peerIdentity(): { signKey: Uint8Array; boxKey: Uint8Array } {
    const at = this.s.responder ? 0 : 64;
    return { signKey: this.s.ad.slice(at, at + 32), boxKey: this.s.ad.slice(at + 32, at + 64) };
  }

  /** True while the initiator has not heard back: its messages still carry the X3DH header. */
  get awaitingReply(): boolean {
    return this.s.pendingPrekey !== undefined;
  }

  get skippedKeyCount(): number {
    return this.s.skipped.size;
  }

  /** Seals one message (symmetric ratchet step). */
  encrypt(plaintext: Uint8Array): Uint8Array {
    const s = this.s;
    if (!isBytes(plaintext) || s.sendChain === undefined || s.ns >= MAX_U32) throw new CryptoError('INVALID_ARGUMENT');
    const { chainKey, messageKey } = kdfCk(s.sendChain);
    const w = new ByteWriter().u8(SESSION_MESSAGE_VERSION).u8(s.pendingPrekey ? 1 : 0);
    if (s.pendingPrekey) w.raw(s.pendingPrekey);
    const prefix = w.raw(s.sendPublic).u32(s.pn).u32(s.ns).finish();
    const sealed = seal(messageKey, concatBytes(s.ad, prefix), plaintext);
    wipe(messageKey, s.sendChain);
    s.sendChain = chainKey;
    s.ns++;
    return concatBytes(prefix, sealed);
  }

  /**
   * Opens one message. Errors: BOX_OPEN_FAILED (malformed or altered), MESSAGE_REPLAYED,
   * TOO_MANY_SKIPPED (more than MAX_SKIP ahead), LOW_ORDER_POINT, SESSION_MISMATCH (a prekey
   * message of another session: use RatchetSession.accept), SESSION_OUT_OF_SYNC (a new ratchet
   * key whose message does not open: states diverged; start a new session). On any error the
   * state is unchanged.
   */
  decrypt(message: Uint8Array, options: DecryptOptions): Uint8Array {
    const { now } = options;
    if (!Number.isSafeInteger(now) || now < 0) throw new CryptoError('INVALID_ARGUMENT');
    const s = this.s;
    const m = parseMessage(message);
    if (m.prekey) {
      if (!constantTimeEqual(m.prekey.ephemeral, s.baseKey)) throw new CryptoError('SESSION_MISMATCH');
      if (!s.responder) throw corrupt(); // our own first message, reflected
    }
    const ratchetKey = m.ratchetKey;
    const n = m.messageNumber;
    if (constantTimeEqual(ratchetKey, s.sendPublic)) throw corrupt();
    const ad = concatBytes(s.ad, m.prefix);

    const id = skippedId(ratchetKey, n);
    const stored = s.skipped.get(id);
    if (stored !== undefined) {
      const plaintext = open(stored.messageKey, ad, m.ciphertext);
      if (plaintext === null) throw corrupt();
      stored.messageKey.fill(0);
      s.skipped.delete(id);
      return plaintext;
    }

    const skipped: SkippedKey[] = [];
    if (s.recvPublic !== undefined && constantTimeEqual(ratchetKey, s.recvPublic)) {
      if (s.recvChain === undefined) throw corrupt();
      if (n < s.nr) throw new CryptoError('MESSAGE_REPLAYED');
      if (n - s.nr > MAX_SKIP) throw new CryptoError('TOO_MANY_SKIPPED');
      const chain = skipKeys(s.recvChain, s.nr, n, ratchetKey, now, skipped);
      const step = kdfCk(chain);
      chain.fill(0);
      const plaintext = open(step.messageKey, ad, m.ciphertext);
      step.messageKey.fill(0);
      if (plaintext === null) {
        wipe(step.chainKey, ...skipped.map((k) => k.messageKey));
        throw corrupt();
      }
      wipe(s.recvChain);
      s.recvChain = step.chainKey;
      s.nr = n + 1;
      this.storeSkipped(skipped);
      return plaintext;
    }

    if (s.previousRatchetKeys.some((p) => constantTimeEqual(p, ratchetKey.subarray(0, PREFIX)))) throw new CryptoError('MESSAGE_REPLAYED');
    // A new ratchet key: the DH ratchet step (section 3.5), computed aside and committed only if the message opens.
    const pn = m.previousChainLength;
    if (n > MAX_SKIP || (s.recvChain !== undefined && pn - s.nr > MAX_SKIP)) throw new CryptoError('TOO_MANY_SKIPPED');
    const oldChainEnd =
      s.recvChain !== undefined && s.recvPublic !== undefined ? skipKeys(s.recvChain, s.nr, pn, s.recvPublic, now, skipped) : undefined;
    const dhIn = dh(s.sendSecret, ratchetKey);
    const receiving = kdfRk(s.rootKey, dhIn);
    const next = x25519KeyPair(options.random ?? defaultRandom);
    const dhOut = dh(next.secretKey, ratchetKey);
    const sending = kdfRk(receiving.rootKey, dhOut);
    const chain = skipKeys(receiving.chainKey, 0, n, ratchetKey, now, skipped);
    const step = kdfCk(chain);
    wipe(dhIn, dhOut, oldChainEnd, receiving.rootKey, receiving.chainKey, chain);
    const plaintext = open(step.messageKey, ad, m.ciphertext);
    step.messageKey.fill(0);
    if (plaintext === null) {
      wipe(next.secretKey, sending.rootKey, sending.chainKey, step.chainKey, ...skipped.map((k) => k.messageKey));
      throw new CryptoError('SESSION_OUT_OF_SYNC');
    }
    if (s.recvPublic !== undefined) {
      s.previousRatchetKeys.push(s.recvPublic.slice(0, PREFIX));
      if (s.previousRatchetKeys.length > PREVIOUS_RATCHET_KEYS) s.previousRatchetKeys.shift();
    }
    wipe(s.rootKey, s.sendSecret, s.sendChain, s.recvChain);
    Object.assign(s, {
      rootKey: sending.rootKey,
      sendSecret: next.secretKey,
      sendPublic: next.publicKey,
      sendChain: sending.chainKey,
      recvPublic: Uint8Array.from(ratchetKey),
      recvChain: step.chainKey,
      pn: s.ns,
      ns: 0,
      nr: n + 1,
      pendingPrekey: undefined,
    });
    this.storeSkipped(skipped);
    return plaintext;
  }

  /** Deletes skipped message keys set aside before `olderThan` (the caller's Unix ms); returns how many. */
  evictSkippedKeys(olderThan: number): number {
    let removed = 0;
    for (const [id, key] of this.s.skipped) {
      if (key.storedAt < olderThan) {
        key.messageKey.fill(0);
        this.s.skipped.delete(id);
        removed++;
      }
    }
    return removed;
  }

  /** Keeps at most MAX_SKIPPED_KEYS, dropping the oldest first. */
  private storeSkipped(keys: SkippedKey[]): void {
    const map = this.s.skipped;
    for (const key of keys) map.set(skippedId(key.ratchetKey, key.messageNumber), key);
    for (const [id, key] of map) {
      if (map.size <= MAX_SKIPPED_KEYS) break;
      key.messageKey.fill(0);
      map.delete(id);
    }
  }

  /**
   * The whole state, versioned: 0x01 | flags | AD (128) | base key | root key | ratchet secret |
   * [remote ratchet key] | [sending chain] | [receiving chain] | u32 Ns, Nr, PN | [u16 + X3DH header] |
   * u8 count + 8-byte previous ratchet key prefixes | u32 count + skipped keys (key, u32 N, mk, u64 ms).
   */
  toBytes(): Uint8Array {
    const s = this.s;
    const flags =
      (s.responder ? 1 : 0) | (s.recvPublic ? 2 : 0) | (s.sendChain ? 4 : 0) | (s.recvChain ? 8 : 0) | (s.pendingPrekey ? 16 : 0);
    const w = new ByteWriter().u8(SESSION_STATE_VERSION).u8(flags).raw(s.ad).raw(s.baseKey).raw(s.rootKey).raw(s.sendSecret);
    if (s.recvPublic) w.raw(s.recvPublic);
    if (s.sendChain) w.raw(s.sendChain);
    if (s.recvChain) w.raw(s.recvChain);
    w.u32(s.ns).u32(s.nr).u32(s.pn);
    if (s.pendingPrekey) w.bytes16(s.pendingPrekey);
    w.u8(s.previousRatchetKeys.length);
    for (const p of s.previousRatchetKeys) w.raw(p);
    w.u32(s.skipped.size);
    for (const k of s.skipped.values()) w.raw(k.ratchetKey).u32(k.messageNumber).raw(k.messageKey).u64(k.storedAt);
    return w.finish();
  }

  /** Strict inverse of toBytes; anything else is SESSION_STATE_INVALID. */
  static fromBytes(bytes: Uint8Array): RatchetSession {
    const invalid = (): CryptoError => new CryptoError('SESSION_STATE_INVALID');
    if (!isBytes(bytes)) throw invalid();
    const r = new ByteReader(bytes, invalid);
    if (r.u8() !== SESSION_STATE_VERSION) throw invalid();
    const flags = r.u8();
    if (flags > 31 || (flags & 1 && flags & 16)) throw invalid(); // a responder never sends the X3DH header
    const ad = r.raw(AD_LENGTH);
    const baseKey = r.raw(32);
    const rootKey = r.raw(32);
    const sendSecret = r.raw(32);
    const recvPublic = flags & 2 ? r.raw(32) : undefined;
    const sendChain = flags & 4 ? r.raw(32) : undefined;
    const recvChain = flags & 8 ? r.raw(32) : undefined;
    const ns = r.u32();
    const nr = r.u32();
    const pn = r.u32();
    const pendingPrekey = flags & 16 ? r.bytes16() : undefined;
    if (pendingPrekey !== undefined && pendingPrekey.length !== PREKEY_HEADER_LENGTH && pendingPrekey.length !== PREKEY_HEADER_LENGTH + 4)
      throw invalid();
    const previousCount = r.u8();
    if (previousCount > PREVIOUS_RATCHET_KEYS) throw invalid();
    const previousRatchetKeys = Array.from({ length: previousCount }, () => r.raw(PREFIX));
    const skippedCount = r.u32();
    if (skippedCount > MAX_SKIPPED_KEYS) throw invalid();
    const skipped = new Map<string, SkippedKey>();
    for (let i = 0; i < skippedCount; i++) {
      const key: SkippedKey = { ratchetKey: r.raw(32), messageNumber: r.u32(), messageKey: r.raw(32), storedAt: r.u64() };
      skipped.set(skippedId(key.ratchetKey, key.messageNumber), key);
    }
    r.end();
    if (skipped.size !== skippedCount) throw invalid();
    let sendPublic: Uint8Array;
    try {
      sendPublic = x25519PublicFromSecret(sendSecret);
    } catch (cause) {
      throw new CryptoError('SESSION_STATE_INVALID', { cause });
    }
    return new RatchetSession({
      responder: (flags & 1) === 1,
      ad,
      baseKey,
      pendingPrekey,
      rootKey,
      sendSecret,
      sendPublic,
      recvPublic,
      sendChain,
      recvChain,
      ns,
      nr,
      pn,
      previousRatchetKeys,
      skipped,
    });
  }
}
