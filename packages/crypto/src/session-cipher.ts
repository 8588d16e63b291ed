import { createCipheriv, createDecipheriv } from 'node:crypto';
import { requireKey } from './bytes.js';
import { CryptoError } from './errors.js';
import { hkdf } from './kdf.js';
import { loadSmallAead, type SmallAead } from './sodium-aead.js';

// Live record layer, ChaCha20-Poly1305 (native, far faster than tweetnacl on large records):
//   0xA1 | u64 BE timestamp (ms) | nonce = u32 BE epoch | u64 BE counter | ciphertext | 16-byte tag
// The 21-byte header is the AAD. The receiver requires the nonce to be exactly
// the next (epoch, counter) it expects, so a replayed, reordered, dropped or
// altered record fails. Both sides rekey deterministically after N records or
// B plaintext bytes: key' = HKDF(key, "", "hush rekey", 32), epoch + 1.
//
// Two implementations of the same AEAD, chosen by size (their records are identical; tests check
// each against the other). node:crypto has a fixed cost per record (a native cipher object per
// nonce, a weak handle the garbage collector must finalise), which dominates at chat rates;
// libsodium (WebAssembly, sodium-aead.ts) allocates nothing but is slower on large records. So
// small records go to libsodium (once it has loaded; until then, and for large records, node:crypto).

export const RECORD_VERSION = 0xa1;
export const RECORD_HEADER_LENGTH = 1 + 8 + 12;
export const RECORD_TAG_LENGTH = 16;
export const RECORD_OVERHEAD = RECORD_HEADER_LENGTH + RECORD_TAG_LENGTH;
export const DEFAULT_REKEY_AFTER_RECORDS = 2 ** 20;
export const DEFAULT_REKEY_AFTER_BYTES = 2 ** 30;

const ALGORITHM = 'chacha20-poly1305';
/**
 * Plaintexts up to this size go to libsodium: it is faster on small records, and up to 4 KB (a
 * login storm's presence records) node:crypto's per-record buffers fragment the C heap.
 */
export const SMALL_RECORD_BYTES = 4096;
let small: SmallAead | null = null;
/** Resolves once small records use libsodium (if it fails to load, everything stays on node:crypto). */
export const recordEnginesReady: Promise<void> = loadSmallAead(SMALL_RECORD_BYTES).then(
  (engine) => void (small = engine),
  () => undefined,
);
const MAX_EPOCH = 0xffff_ffff;

export interface SessionCipherOptions {
  /** 32-byte key for records this side sends. */
  sendKey: Uint8Array;
  /** 32-byte key for records this side receives. */
  receiveKey: Uint8Array;
  /** Rekey each direction after this many records (default 2^20). Both peers must agree. */
  rekeyAfterRecords?: number;
  /** Rekey each direction after this many plaintext bytes (default 1 GiB). Both peers must agree. */
  rekeyAfterBytes?: number;
  /** Clock in milliseconds for the record timestamp (default Date.now); for tests. */
  now?: () => number;
}

/** One direction's key schedule. */
class Direction {
  epoch = 0;
  counter = 0;
  records = 0;
  bytes = 0;

  /** `key` is this direction's 32 bytes of the cipher's key storage; `initial` is copied in. */
  constructor(
    readonly key: Buffer,
    initial: Uint8Array,
  ) {
    key.set(initial);
  }

  /** Called after each successful record; rekeys at the limit. */
  advance(plaintextLength: number, maxRecords: number, maxBytes: number): void {
    this.counter++;
    this.records++;
    this.bytes += plaintextLength;
    if (this.records >= maxRecords || this.bytes >= maxBytes) {
      if (this.epoch >= MAX_EPOCH) throw new CryptoError('RECORD_REJECTED');
      const next = hkdf(this.key, new Uint8Array(0), 'hush rekey', 32);
      this.key.set(next); // in place: the old key is overwritten
      next.fill(0);
      this.epoch++;
      this.records = 0;
      this.bytes = 0;
    }
  }
}

function positiveLimit(value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!(Number.isSafeInteger(value) && value > 0)) throw new CryptoError('INVALID_ARGUMENT');
  return value;
}

export class SessionCipher {
  private readonly send: Direction;
  private readonly receive: Direction;
  private readonly maxRecords: number;
  private readonly maxBytes: number;
  private readonly now: () => number;
  // Reused scratch for the expected nonce: avoids a per-record allocation.
  private readonly expected: Buffer;
  private dead = false;
  private destroyed = false;
  private lastTimestamp = 0;

  constructor(options: SessionCipherOptions) {
    // Both keys and the nonce scratch in one allocation of their own: a copy from Node's shared
    // pool (Buffer.from) would keep a whole 8 KiB pool slab alive as long as the connection, mostly
    // other connections' garbage; that was 1.5 KiB per idle connection.
    const storage = Buffer.alloc(32 + 32 + 12);
    this.send = new Direction(storage.subarray(0, 32), requireKey(options.sendKey, 32));
    this.receive = new Direction(storage.subarray(32, 64), requireKey(options.receiveKey, 32));
    this.expected = storage.subarray(64);
    this.maxRecords = positiveLimit(options.rekeyAfterRecords, DEFAULT_REKEY_AFTER_RECORDS);
    this.maxBytes = positiveLimit(options.rekeyAfterBytes, DEFAULT_REKEY_AFTER_BYTES);
    this.now = options.now ?? Date.now;
  }

  /** Encrypts one outbound record. */
  seal(plaintext: Uint8Array): Uint8Array {
    return this.sealWithHeadroom(plaintext, 0);
  }

  /**
   * Like `seal`, but the returned buffer starts with `headroom` spare bytes (unspecified content)
   * before the record: the caller puts its frame header there and saves a copy of the record.
   * With `into` large enough, the result is its leading bytes (no allocation); it must not overlap
   * `plaintext`.
   */
  sealWithHeadroom(plaintext: Uint8Array, headroom: number, into?: Uint8Array): Uint8Array {
    if (this.destroyed) throw new CryptoError('RECORD_REJECTED');
    if (!(Number.isSafeInteger(headroom) && headroom >= 0)) throw new CryptoError('INVALID_ARGUMENT');
    const d = this.send;
    const size = headroom + RECORD_HEADER_LENGTH + plaintext.length + RECORD_TAG_LENGTH;
    if (into && overlaps(into, plaintext)) throw new CryptoError('INVALID_ARGUMENT');
    const whole = into && into.length >= size ? Buffer.from(into.buffer, into.byteOffset, size) : Buffer.allocUnsafe(size);
    const out = headroom === 0 ? whole : whole.subarray(headroom);
    out[0] = RECORD_VERSION;
    const ts = Math.max(0, Math.floor(this.now()));
    out.writeUInt32BE(Math.floor(ts / 0x1_0000_0000) >>> 0, 1);
    out.writeUInt32BE(ts >>> 0, 5);
    writeNonce(out, 9, d.epoch, d.counter);

    aeadSeal(d.key, out.subarray(0, RECORD_HEADER_LENGTH), plaintext, out.subarray(RECORD_HEADER_LENGTH));
    d.advance(plaintext.length, this.maxRecords, this.maxBytes);
    return whole;
  }

  /**
   * Decrypts the next inbound record. Throws RECORD_REJECTED for anything but
   * the exact next record; after the first failure every later call throws.
   */
  open(record: Uint8Array): Uint8Array {
    if (this.dead) throw new CryptoError('RECORD_REJECTED');
    const d = this.receive;
    try {
      if (!(record instanceof Uint8Array) || record.length < RECORD_OVERHEAD || record[0] !== RECORD_VERSION) {
        throw new CryptoError('RECORD_REJECTED');
      }
      const rec = Buffer.from(record.buffer, record.byteOffset, record.byteLength);
      writeNonce(this.expected, 0, d.epoch, d.counter);
      if (!this.expected.equals(rec.subarray(9, RECORD_HEADER_LENGTH))) throw new CryptoError('RECORD_REJECTED');
      const plaintext = aeadOpen(d.key, rec.subarray(0, RECORD_HEADER_LENGTH), this.expected, rec.subarray(RECORD_HEADER_LENGTH));
      this.lastTimestamp = rec.readUInt32BE(1) * 0x1_0000_0000 + rec.readUInt32BE(5);
      d.advance(plaintext.length, this.maxRecords, this.maxBytes);
      return plaintext;
    } catch (cause) {
      this.dead = true;
      if (cause instanceof CryptoError) throw cause;
      throw new CryptoError('RECORD_REJECTED', { cause });
    }
  }

  /** Sender's timestamp (ms) of the last record opened; authenticated but not checked here. */
  get lastRecordTimestamp(): number {
    return this.lastTimestamp;
  }

  /** True once open() has failed: the connection must be closed. */
  get failed(): boolean {
    return this.dead;
  }

  /** Current key epochs (rekeys so far) per direction; for diagnostics and tests. */
  get epochs(): { send: number; receive: number } {
    return { send: this.send.epoch, receive: this.receive.epoch };
  }

  /** Overwrites the key material; the cipher is unusable afterwards. */
  destroy(): void {
    this.send.key.fill(0);
    this.receive.key.fill(0);
    this.dead = true;
    this.destroyed = true;
  }
}

function overlaps(a: Uint8Array, b: Uint8Array): boolean {
  return a.buffer === b.buffer && a.byteOffset < b.byteOffset + b.byteLength && b.byteOffset < a.byteOffset + a.byteLength;
}

function writeNonce(buf: Buffer, offset: number, epoch: number, counter: number): void {
  buf.writeUInt32BE(epoch, offset);
  buf.writeUInt32BE(Math.floor(counter / 0x1_0000_0000) >>> 0, offset + 4);
  buf.writeUInt32BE(counter >>> 0, offset + 8);
}

/**
 * Seals `plaintext` under `key` with the nonce inside `header` (its last 12 bytes) and the header
 * as AAD, writing ciphertext || tag into `into`.
 */
function aeadSeal(key: Buffer, header: Buffer, plaintext: Uint8Array, into: Buffer): void {
  const nonce = header.subarray(RECORD_HEADER_LENGTH - 12);
  if (small && plaintext.length <= SMALL_RECORD_BYTES) {
    small.seal(key, header, nonce, plaintext, into);
    return;
  }
  const cipher = createCipheriv(ALGORITHM, key, nonce, { authTagLength: RECORD_TAG_LENGTH });
  cipher.setAAD(header, { plaintextLength: plaintext.length });
  // update() always returns a fresh buffer (no API writes into a caller's): one copy.
  cipher.update(plaintext).copy(into);
  cipher.final();
  cipher.getAuthTag().copy(into, plaintext.length);
}

/** Opens ciphertext || tag (`sealed`) with the header as AAD; throws on any mismatch. */
function aeadOpen(key: Buffer, header: Buffer, nonce: Buffer, sealed: Buffer): Buffer {
  const length = sealed.length - RECORD_TAG_LENGTH;
  if (small && length <= SMALL_RECORD_BYTES) {
    const plaintext = small.open(key, header, nonce, sealed);
    if (!plaintext) throw new CryptoError('RECORD_REJECTED');
    return plaintext;
  }
  const decipher = createDecipheriv(ALGORITHM, key, nonce, { authTagLength: RECORD_TAG_LENGTH });
  decipher.setAAD(header, { plaintextLength: length });
  decipher.setAuthTag(sealed.subarray(length));
  const plaintext = decipher.update(sealed.subarray(0, length));
  decipher.final(); // throws on a bad tag; the plaintext is only returned after this
  return plaintext;
}
