import { CryptoError } from './errors.js';

// Small byte helpers shared by the codecs. Internal: not exported from index.ts.

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder('utf-8', { fatal: true });

export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Decodes UTF-8, throwing (TypeError) on malformed input instead of substituting U+FFFD. */
export function fromUtf8(bytes: Uint8Array): string {
  return strictDecoder.decode(bytes);
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** Constant-time comparison for equal-length inputs; different lengths return false at once (lengths are public). */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}

export function isAllZero(bytes: Uint8Array): boolean {
  let acc = 0;
  for (let i = 0; i < bytes.length; i++) acc |= bytes[i] as number;
  return acc === 0;
}

export function isBytes(value: unknown, length?: number): value is Uint8Array {
  return value instanceof Uint8Array && (length === undefined || value.length === length);
}

/** Throws BAD_KEY unless `key` is a Uint8Array of exactly `length` bytes. */
export function requireKey(key: unknown, length: number): Uint8Array {
  if (!isBytes(key, length)) throw new CryptoError('BAD_KEY');
  return key;
}

export function writeU64(view: DataView, offset: number, value: number): void {
  view.setUint32(offset, Math.floor(value / 0x1_0000_0000));
  view.setUint32(offset + 4, value >>> 0);
}

/** Reads a big-endian u64; returns NaN when it exceeds Number.MAX_SAFE_INTEGER. */
export function readU64(view: DataView, offset: number): number {
  const hi = view.getUint32(offset);
  const lo = view.getUint32(offset + 4);
  if (hi > 0x1f_ffff) return Number.NaN;
  return hi * 0x1_0000_0000 + lo;
}

export function base64url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

export function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** Canonical unpadded base64url → bytes, or undefined when the text is not canonical. */
export function fromBase64urlCanonical(text: string): Uint8Array | undefined {
  if (typeof text !== 'string' || !/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) return undefined;
  const bytes = Buffer.from(text, 'base64url');
  // Re-encoding rejects non-zero padding bits, so each byte string has exactly one text form.
  if (bytes.toString('base64url') !== text) return undefined;
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Append-only binary writer for canonical encodings (transcripts, envelopes). */
export class ByteWriter {
  private readonly parts: Uint8Array[] = [];

  u8(value: number): this {
    this.parts.push(Uint8Array.of(value & 0xff));
    return this;
  }

  u16(value: number): this {
    this.parts.push(Uint8Array.of((value >>> 8) & 0xff, value & 0xff));
    return this;
  }

  u32(value: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, value);
    this.parts.push(b);
    return this;
  }

  u64(value: number): this {
    const b = new Uint8Array(8);
    writeU64(new DataView(b.buffer), 0, value);
    this.parts.push(b);
    return this;
  }

  raw(bytes: Uint8Array): this {
    this.parts.push(bytes);
    return this;
  }

  /** u16 length prefix + bytes. */
  bytes16(bytes: Uint8Array): this {
    if (bytes.length > 0xffff) throw new CryptoError('INVALID_ARGUMENT');
    return this.u16(bytes.length).raw(bytes);
  }

  /** u32 length prefix + bytes. */
  bytes32(bytes: Uint8Array): this {
    return this.u32(bytes.length).raw(bytes);
  }

  string16(text: string): this {
    return this.bytes16(utf8(text));
  }

  finish(): Uint8Array {
    return concatBytes(...this.parts);
  }
}

/** Strict reader: every read is bounds-checked; `onError` builds the package error to throw. */
export class ByteReader {
  private offset = 0;
  private readonly view: DataView;

  constructor(
    private readonly buf: Uint8Array,
    private readonly onError: () => CryptoError,
  ) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  private need(n: number): void {
    if (this.offset + n > this.buf.length) throw this.onError();
  }

  u8(): number {
    this.need(1);
    return this.view.getUint8(this.offset++);
  }

  u16(): number {
    this.need(2);
    const v = this.view.getUint16(this.offset);
    this.offset += 2;
    return v;
  }

  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.offset);
    this.offset += 4;
    return v;
  }

  u64(): number {
    this.need(8);
    const v = readU64(this.view, this.offset);
    this.offset += 8;
    if (Number.isNaN(v)) throw this.onError();
    return v;
  }

  raw(n: number): Uint8Array {
    this.need(n);
    const out = this.buf.slice(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }

  bytes16(): Uint8Array {
    return this.raw(this.u16());
  }

  bytes32(): Uint8Array {
    return this.raw(this.u32());
  }

  string16(): string {
    const b = this.bytes16();
    try {
      return fromUtf8(b);
    } catch {
      throw this.onError();
    }
  }

  end(): void {
    if (this.offset !== this.buf.length) throw this.onError();
  }
}
