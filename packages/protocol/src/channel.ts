import { decodeEach, type MessageFrom, type Sender } from './codec.js';
import { ProtocolError } from './errors.js';
import { DEFAULT_MAX_FRAME_SIZE, encodeFrame, FRAME_HEADER_SIZE, FrameDecoder, HANDSHAKE_MAX_FRAME_SIZE } from './framing.js';
import type { ClientMessage, ServerMessage } from './messages.js';
import { sealPieces } from './records.js';

/**
 * What the channel needs from the record layer (`SessionCipher` in @hush/crypto has this shape).
 * `open` throws on any replayed, reordered, dropped or altered record.
 */
export interface RecordCipher {
  /** Must not keep `plaintext` once it returns: the channel reuses its memory for the next record. */
  seal(plaintext: Uint8Array): Uint8Array;
  open(record: Uint8Array): Uint8Array;
  /**
   * Optional: like `seal`, but the result starts with `headroom` spare bytes before the record, so
   * the channel writes the frame header there instead of copying the record into a new frame.
   * With `into` large enough, the result is its leading bytes instead of a new buffer.
   */
  sealWithHeadroom?(plaintext: Uint8Array, headroom: number, into?: Uint8Array): Uint8Array;
}

export interface MessageChannelOptions<S extends Sender> {
  /** Which side the peer is: decides the schemas of received messages. */
  peer: S;
  /** Frame limit before the handshake (default 4 KiB). */
  handshakeMaxFrameSize?: number;
  /** Frame limit once secure (default 1 MiB). */
  maxFrameSize?: number;
}

/** Room left in a frame for the record layer's header and tag. */
const RECORD_OVERHEAD = 64;

/**
 * The one secure channel, shared by client and server: socket bytes -> frames -> record layer ->
 * JSON -> validated messages, and back. Pure: no sockets, no timers. Before `upgrade` frames are
 * plaintext and carry one message each (the handshake); after it every frame is a sealed record
 * that may carry several messages.
 */
export class MessageChannel<S extends Sender> {
  private readonly decoder: FrameDecoder;
  private readonly peer: S;
  private readonly maxFrameSize: number;
  private cipher: RecordCipher | null = null;
  private failure: ProtocolError | null = null;
  private readonly handshakeMaxFrameSize: number;

  constructor(options: MessageChannelOptions<S>) {
    this.peer = options.peer;
    this.maxFrameSize = options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE;
    this.handshakeMaxFrameSize = options.handshakeMaxFrameSize ?? HANDSHAKE_MAX_FRAME_SIZE;
    this.decoder = new FrameDecoder({ maxFrameSize: this.handshakeMaxFrameSize });
  }

  get secure(): boolean {
    return this.cipher !== null;
  }

  /** Bytes received and not yet returned as messages (a partial frame, frames held for the upgrade). */
  get bufferedBytes(): number {
    return this.decoder.bufferedBytes;
  }

  /**
   * Switches to sealed records once the handshake has produced the session cipher. Bytes that
   * arrived behind the last handshake frame are still held: call `receive` (or `receiveEach`) with
   * an empty chunk right after, or they wait for the next bytes.
   */
  upgrade(cipher: RecordCipher): void {
    this.cipher = cipher;
    this.decoder.setMaxFrameSize(this.maxFrameSize);
  }

  /**
   * Feeds received bytes; returns the messages they completed. Throws ProtocolError, which is
   * fatal: the messages and frames after the bad one are dropped, so every later call throws the
   * same error. Tell the peer (`error` / `goodbye`) and close the connection.
   */
  receive(chunk: Uint8Array): MessageFrom<S>[] {
    if (this.failure) throw this.failure;
    try {
      return this.read(chunk);
    } catch (error) {
      if (error instanceof ProtocolError) this.failure = error;
      throw error;
    }
  }

  private read(chunk: Uint8Array): MessageFrom<S>[] {
    return this.receiveEach(chunk).map((item) => {
      if (item instanceof ProtocolError) throw item;
      return item;
    });
  }

  /**
   * Like `receive`, but loses no input: a message that fails to decode yields its ProtocolError in
   * place and the other messages, of the same record and of later ones, still decode (the cipher
   * has consumed them in order). Before the upgrade it returns after each handshake frame and holds
   * the bytes behind it unparsed, which a peer may already have sealed; they come out of the first
   * call after `upgrade` (pass an empty chunk) and are measured against the post-upgrade limit.
   * A failed record (BAD_RECORD) is returned as the last element: the connection must close.
   * FRAME_TOO_LARGE still throws, and so does HANDSHAKE_REQUIRED for more than
   * `maxFrameSize + handshakeMaxFrameSize` bytes held before the upgrade.
   */
  receiveEach(chunk: Uint8Array): Array<MessageFrom<S> | ProtocolError> {
    if (!this.cipher) {
      const [frame] = this.decoder.push(chunk, 1);
      if (this.decoder.bufferedBytes > this.maxFrameSize + this.handshakeMaxFrameSize) {
        throw new ProtocolError('HANDSHAKE_REQUIRED', 'too much data before the handshake completed');
      }
      if (!frame) return [];
      const messages = decodeEach(this.peer, frame);
      return [messages.length === 1 ? messages[0]! : new ProtocolError('HANDSHAKE_REQUIRED', 'one message per frame before the handshake')];
    }
    const out: Array<MessageFrom<S> | ProtocolError> = [];
    for (const frame of this.decoder.push(chunk)) {
      let plaintext: Uint8Array;
      try {
        plaintext = this.cipher.open(frame);
      } catch (cause) {
        out.push(new ProtocolError('BAD_RECORD', undefined, { cause }));
        return out;
      }
      for (const item of decodeEach(this.peer, plaintext)) out.push(item);
    }
    return out;
  }

  /**
   * Frames outgoing messages (objects or pre-serialised JSON text): one frame when they fit, more
   * when they would exceed the frame limit (packed as `sealPieces` packs them). Sealed once secure.
   */
  frame(messages: ReadonlyArray<ClientMessage | ServerMessage | string>): Buffer[] {
    const lines = messages.map((m) => (typeof m === 'string' ? m : JSON.stringify(m)));
    if (!this.cipher) return lines.map((line) => encodeFrame(Buffer.from(line, 'utf8')));
    return sealPieces(lines, this.recordCapacity, (plaintext) => this.sealPlaintext(plaintext));
  }

  /** Largest plaintext one sealed record may carry (what `sealRecord` accepts). */
  get recordCapacity(): number {
    return this.maxFrameSize - RECORD_OVERHEAD;
  }

  /** A sealed frame is at most this many bytes longer than its plaintext. */
  get frameOverhead(): number {
    return FRAME_HEADER_SIZE + RECORD_OVERHEAD;
  }

  /**
   * Seals one ready-made plaintext (UTF-8 JSON lines joined with '\n') into one frame: for a
   * server that builds plaintexts itself, e.g. from blocks of lines shared by many peers. With
   * `into` large enough (and a cipher that can), the frame is its leading bytes: a caller that
   * reuses one buffer for many frames saves an allocation per frame, and must not reuse it while
   * a socket may still hold the frame.
   */
  sealRecord(plaintext: Uint8Array, into?: Uint8Array): Buffer {
    if (!this.cipher) throw new Error('sealRecord before the upgrade');
    if (plaintext.byteLength > this.recordCapacity) throw new ProtocolError('FRAME_TOO_LARGE', `record of ${plaintext.byteLength} bytes`);
    return this.sealPlaintext(plaintext, into);
  }

  private sealPlaintext(plaintext: Uint8Array, into?: Uint8Array): Buffer {
    const cipher = this.cipher!;
    if (!cipher.sealWithHeadroom) return encodeFrame(cipher.seal(plaintext));
    // The record is sealed straight into the frame: no second copy to prepend the length.
    const out = cipher.sealWithHeadroom(plaintext, FRAME_HEADER_SIZE, into);
    const frame = Buffer.from(out.buffer, out.byteOffset, out.byteLength);
    frame.writeUInt32BE(frame.length - FRAME_HEADER_SIZE, 0);
    return frame;
  }
}
