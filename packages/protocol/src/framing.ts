import { ProtocolError } from './errors.js';

/** Bytes of the big-endian length header in front of every frame. */
export const FRAME_HEADER_SIZE = 4;
/** Frame limit before the handshake completes: hellos are small. */
export const HANDSHAKE_MAX_FRAME_SIZE = 4 * 1024;
/** Default frame limit once the secure channel is up (file chunks plus coalesced messages). */
export const DEFAULT_MAX_FRAME_SIZE = 1024 * 1024;

/** Prefixes `payload` with its 32-bit big-endian length. */
export function encodeFrame(payload: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_SIZE + payload.length);
  frame.writeUInt32BE(payload.length, 0);
  frame.set(payload, FRAME_HEADER_SIZE);
  return frame;
}

/**
 * Incremental frame decoder. Feed it arbitrary chunks; it returns every complete frame payload.
 * The length header is checked against `maxFrameSize` before any payload byte is buffered, so a
 * hostile header (0xFFFFFFFF) costs nothing. After an error the decoder stays failed.
 */
export class FrameDecoder {
  private maxFrameSize: number;
  private readonly header = Buffer.alloc(FRAME_HEADER_SIZE);
  private headerFilled = 0;
  private payload: Buffer | null = null;
  private payloadFilled = 0;
  private failure: ProtocolError | null = null;
  /** Bytes after the last frame returned when `push` stopped at `maxFrames`; not parsed yet. */
  private backlog: Buffer | null = null;

  constructor(options: { maxFrameSize: number }) {
    this.maxFrameSize = checkLimit(options.maxFrameSize);
  }

  /** Raises or lowers the limit (the channel widens it once the handshake is done). */
  setMaxFrameSize(maxFrameSize: number): void {
    this.maxFrameSize = checkLimit(maxFrameSize);
  }

  /** Bytes received and not yet returned as frames (header included): what a peer makes us hold. */
  get bufferedBytes(): number {
    const partial = this.payload === null ? this.headerFilled : FRAME_HEADER_SIZE + this.payloadFilled;
    return partial + (this.backlog?.length ?? 0);
  }

  /**
   * Returns the frames `chunk` completes, at most `maxFrames`. Bytes after the last frame returned
   * are kept unparsed and come first on the next call (an empty chunk drains them), so that a limit
   * changed in between (`setMaxFrameSize`) applies to them.
   */
  push(chunk: Uint8Array, maxFrames = Infinity): Buffer[] {
    if (this.failure) throw this.failure;
    const frames: Buffer[] = [];
    if (this.backlog) {
      chunk = chunk.length > 0 ? Buffer.concat([this.backlog, chunk]) : this.backlog;
      this.backlog = null;
    }
    let offset = 0;
    while (offset < chunk.length) {
      if (frames.length >= maxFrames) {
        // Copied: the caller may reuse its chunk.
        this.backlog = Buffer.from(chunk.subarray(offset));
        break;
      }
      if (this.payload === null) {
        const take = Math.min(FRAME_HEADER_SIZE - this.headerFilled, chunk.length - offset);
        this.header.set(chunk.subarray(offset, offset + take), this.headerFilled);
        this.headerFilled += take;
        offset += take;
        if (this.headerFilled < FRAME_HEADER_SIZE) break;
        const length = this.header.readUInt32BE(0);
        if (length > this.maxFrameSize) {
          this.failure = new ProtocolError('FRAME_TOO_LARGE', `${length} > ${this.maxFrameSize} bytes`);
          throw this.failure;
        }
        this.headerFilled = 0;
        // Zero-copy fast path: the whole frame is inside this chunk.
        if (chunk.length - offset >= length) {
          frames.push(Buffer.from(chunk.buffer, chunk.byteOffset + offset, length));
          offset += length;
          continue;
        }
        this.payload = Buffer.allocUnsafe(length);
        this.payloadFilled = 0;
      }
      const take = Math.min(this.payload.length - this.payloadFilled, chunk.length - offset);
      this.payload.set(chunk.subarray(offset, offset + take), this.payloadFilled);
      this.payloadFilled += take;
      offset += take;
      if (this.payloadFilled === this.payload.length) {
        frames.push(this.payload);
        this.payload = null;
        this.payloadFilled = 0;
      }
    }
    return frames;
  }
}

function checkLimit(limit: number): number {
  if (!Number.isInteger(limit) || limit < 1 || limit > 0xffffffff) {
    throw new RangeError(`maxFrameSize must be an integer in 1..2^32-1, got ${limit}`);
  }
  return limit;
}
