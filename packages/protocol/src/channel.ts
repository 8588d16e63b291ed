import { decode, type MessageFrom, type Sender } from './codec.js';
import { ProtocolError } from './errors.js';
import { DEFAULT_MAX_FRAME_SIZE, encodeFrame, FrameDecoder, HANDSHAKE_MAX_FRAME_SIZE } from './framing.js';
import type { ClientMessage, ServerMessage } from './messages.js';

/**
 * What the channel needs from the record layer (`SessionCipher` in @hush/crypto has this shape).
 * `open` throws on any replayed, reordered, dropped or altered record.
 */
export interface RecordCipher {
  seal(plaintext: Uint8Array): Uint8Array;
  open(record: Uint8Array): Uint8Array;
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

  constructor(options: MessageChannelOptions<S>) {
    this.peer = options.peer;
    this.maxFrameSize = options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE;
    this.decoder = new FrameDecoder({ maxFrameSize: options.handshakeMaxFrameSize ?? HANDSHAKE_MAX_FRAME_SIZE });
  }

  get secure(): boolean {
    return this.cipher !== null;
  }

  /** Bytes held for a partial frame. */
  get bufferedBytes(): number {
    return this.decoder.bufferedBytes;
  }

  /** Switches to sealed records once the handshake has produced the session cipher. */
  upgrade(cipher: RecordCipher): void {
    this.cipher = cipher;
    this.decoder.setMaxFrameSize(this.maxFrameSize);
  }

  /** Feeds received bytes; returns the messages they completed. Throws ProtocolError. */
  receive(chunk: Uint8Array): MessageFrom<S>[] {
    const out: MessageFrom<S>[] = [];
    for (const frame of this.decoder.push(chunk)) {
      if (!this.cipher) {
        const messages = decode(this.peer, frame);
        if (messages.length !== 1) throw new ProtocolError('HANDSHAKE_REQUIRED', 'one message per frame before the handshake');
        out.push(messages[0]!);
        continue;
      }
      let plaintext: Uint8Array;
      try {
        plaintext = this.cipher.open(frame);
      } catch (cause) {
        throw new ProtocolError('BAD_RECORD', undefined, { cause });
      }
      for (const message of decode(this.peer, plaintext)) out.push(message);
    }
    return out;
  }

  /**
   * Frames outgoing messages (objects or pre-serialised JSON text): one frame when they fit, more
   * when they would exceed the frame limit. Sealed once secure.
   */
  frame(messages: ReadonlyArray<ClientMessage | ServerMessage | string>): Buffer[] {
    const lines = messages.map((m) => (typeof m === 'string' ? m : JSON.stringify(m)));
    if (!this.cipher) return lines.map((line) => encodeFrame(Buffer.from(line, 'utf8')));
    const limit = this.maxFrameSize - RECORD_OVERHEAD;
    const frames: Buffer[] = [];
    let batch: string[] = [];
    let size = 0;
    for (const line of lines) {
      const length = Buffer.byteLength(line, 'utf8');
      if (length > limit) throw new ProtocolError('FRAME_TOO_LARGE', `message of ${length} bytes`);
      if (size + length + 1 > limit && batch.length > 0) {
        frames.push(this.seal(batch));
        batch = [];
        size = 0;
      }
      batch.push(line);
      size += length + 1;
    }
    if (batch.length > 0) frames.push(this.seal(batch));
    return frames;
  }

  private seal(lines: string[]): Buffer {
    return encodeFrame(this.cipher!.seal(Buffer.from(lines.join('\n'), 'utf8')));
  }
}
