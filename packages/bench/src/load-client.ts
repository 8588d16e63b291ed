import { connect, type Socket } from 'node:net';
import type { LineCounts } from './deliveries.js';

// Every load client reads into this one buffer (Node's `onread`) instead of a fresh allocation per
// read: the load generator receives hundreds of MB/s, and a new buffer per read is external memory
// that sets off full collections. Safe to share: each read's callback runs to completion (and
// copies what it keeps) before the next read into it.
const READ_BUFFER = Buffer.allocUnsafe(1024 * 1024);

/**
 * A TCP connection (no Nagle), or an error after `timeoutMs`: a lost connect fails, it never stalls
 * a run. `onData` gets each read's bytes, valid only during the call (the buffer is reused).
 */
export function connectSocket(host: string, port: number, onData: (chunk: Buffer) => void, timeoutMs = 30_000): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({
      host,
      port,
      noDelay: true,
      onread: {
        buffer: READ_BUFFER,
        callback: (bytes) => {
          onData(READ_BUFFER.subarray(0, bytes));
          return true;
        },
      },
    });
    const fail = (error: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    };
    const timer = setTimeout(() => fail(new Error(`connect: no connection within ${timeoutMs} ms`)), timeoutMs);
    socket.once('error', fail);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', fail);
      resolve(socket);
    });
  });
}

/** What the fan-out load generator needs from a connection, raw or Hush. */
export interface LoadClient {
  /** Room messages and acks received so far. */
  readonly counts: LineCounts;
  /** Latency samples (ms) when this client is an observer. */
  readonly latencies: number[];
  /** Observers read the send stamps of every message they receive. */
  observer: boolean;
  /** Problems reported by the server (error / goodbye codes) or the socket. */
  readonly problems: string[];
  /** Sends room messages with these texts in one write. */
  sendTexts(texts: readonly string[]): void;
  /**
   * From now on, reads every received byte and drops it unparsed (no framing, no decryption, no
   * counts); `discardedBytes` grows instead. One way: a Hush record layer numbers its records, so
   * a client that skipped some can never open the next one: the fixed-rate phase has rooms of its own.
   */
  discardIncoming(): void;
  /** Bytes dropped since `discardIncoming()`. */
  readonly discardedBytes: number;
  /** Called after each received payload (the saturation loop refills its window here). */
  onPayload: (() => void) | null;
  close(): void;
}

/** What every load client keeps alike: its counts and samples, and the switch to dropping what it receives. */
export abstract class LoadClientBase implements LoadClient {
  readonly counts: LineCounts = { messages: 0, acks: 0 };
  readonly latencies: number[] = [];
  readonly problems: string[] = [];
  observer = false;
  onPayload: (() => void) | null = null;
  discardedBytes = 0;
  private discarding = false;

  abstract sendTexts(texts: readonly string[]): void;
  abstract close(): void;

  discardIncoming(): void {
    this.discarding = true;
  }

  /** True (and counted) when received bytes are to be dropped unread. */
  protected discards(chunk: Buffer): boolean {
    if (this.discarding) this.discardedBytes += chunk.length;
    return this.discarding;
  }
}
