import type { ClientMessage, ServerMessage, ServerMessageOf, ServerMessageType } from '@hush/protocol';
import { HushError } from './errors.js';

type RequestMessage = Extract<ClientMessage, { id: string }>;
/** A request as the caller writes it: the id is added here. */
export type RequestBody = RequestMessage extends infer M ? (M extends unknown ? Omit<M, 'id'> : never) : never;

interface Pending {
  expect: readonly string[];
  resolve: (message: ServerMessage) => void;
  reject: (error: HushError) => void;
  timer: NodeJS.Timeout | undefined;
}

/** Request ids, the pending map and reply matching: `error` replies become HushError with the protocol code. */
export class Requests {
  private readonly pending = new Map<string, Pending>();
  private counter = 0;

  constructor(private readonly timeoutMs: number) {}

  get size(): number {
    return this.pending.size;
  }

  /**
   * Registers a request and returns the message to send plus the reply promise. `timeout: false`:
   * no deadline (the reply comes, or the connection drops and rejectAll fails it).
   */
  create<T extends ServerMessageType>(
    body: RequestBody,
    expect: readonly T[],
    opts: { timeout?: boolean } = {},
  ): { message: ClientMessage; reply: Promise<ServerMessageOf<T>> } {
    const id = `r${++this.counter}`;
    const message = { ...body, id } as ClientMessage;
    const reply = new Promise<ServerMessageOf<T>>((resolve, reject) => {
      const timer =
        opts.timeout === false
          ? undefined
          : setTimeout(() => {
              this.pending.delete(id);
              reject(new HushError('TIMEOUT', `no reply to ${body.type} within ${this.timeoutMs} ms`));
            }, this.timeoutMs);
      this.pending.set(id, { expect, resolve: resolve as (m: ServerMessage) => void, reject, timer });
    });
    return { message, reply };
  }

  /** Settles the request a reply answers; false when the message is not a reply to a pending request. */
  settle(message: ServerMessage): boolean {
    const re = 're' in message ? message.re : undefined;
    if (re === undefined) return false;
    const p = this.pending.get(re);
    if (!p) return false;
    this.pending.delete(re);
    clearTimeout(p.timer);
    if (message.type === 'error') {
      p.reject(
        new HushError(message.code, message.message, message.retryAfterMs === undefined ? {} : { retryAfterMs: message.retryAfterMs }),
      );
    } else if (!p.expect.includes(message.type)) {
      p.reject(new HushError('UNEXPECTED_REPLY', `unexpected ${message.type} reply`));
    } else {
      p.resolve(message);
    }
    return true;
  }

  /** Drops a request whose message could not be sent. */
  fail(message: ClientMessage, error: HushError): void {
    const id = 'id' in message ? message.id : undefined;
    const p = id === undefined ? undefined : this.pending.get(id);
    if (!p || id === undefined) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    p.reject(error);
  }

  rejectAll(error: HushError): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) {
      clearTimeout(p.timer);
      p.reject(error);
    }
  }
}
