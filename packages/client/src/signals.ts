import { conversationKey } from './conversation.js';
import { compareIds } from './message-ids.js';
import { HushError, isHushError } from './errors.js';
import { TokenPacer } from './pacer.js';
import type { Target } from './types.js';

/** At most this many typing notices and read markers per second in all, whatever the server allows. */
const MAX_SIGNALS_PER_SECOND = 4;

export interface SignalHost {
  connected(): boolean;
  sendTyping(target: Target, active: boolean): void;
  sendRead(target: Target, msgId: string): Promise<void>;
}

type Signal =
  | { kind: 'typing'; target: Target; active: boolean }
  | { kind: 'read'; target: Target; msgId: string; waiters: { resolve: () => void; reject: (e: HushError) => void }[] };

/**
 * Typing notices and read markers, coalesced: the latest state per conversation wins, and they go out
 * at most a few per second on a budget of their own, never in the way of messages.
 */
export class Signals {
  /** Waiting signals by "typing#room" / "read@user", oldest first. */
  private readonly waiting = new Map<string, Signal>();
  /** The typing state the server last heard per conversation (nothing to say when it is unchanged). */
  private readonly told = new Map<string, boolean>();
  /** The newest read marker sent per conversation on this connection (an older one says nothing new). */
  private readonly readSent = new Map<string, string>();
  private readonly pacer: TokenPacer;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly host: SignalHost,
    private readonly clock: () => number = Date.now,
  ) {
    this.pacer = new TokenPacer(MAX_SIGNALS_PER_SECOND, MAX_SIGNALS_PER_SECOND, clock());
  }

  configure(perSecond: number, burst: number): void {
    const rate = Math.min(perSecond, MAX_SIGNALS_PER_SECOND);
    this.pacer.configure(rate, Math.min(burst, MAX_SIGNALS_PER_SECOND), this.clock());
  }

  setTyping(target: Target, active: boolean): void {
    if (!this.host.connected()) return; // not worth keeping: stale by the time we are back
    const conversation = conversationKey(target);
    const key = `typing${conversation}`;
    this.waiting.delete(key);
    if (this.told.get(conversation) !== active) this.waiting.set(key, { kind: 'typing', target, active });
    this.flush();
  }

  /** Resolves once the server has taken the marker (or a newer one for the same conversation). */
  markRead(target: Target, msgId: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const sent = this.readSent.get(conversationKey(target));
      if (sent !== undefined && compareIds(msgId, sent) <= 0) {
        resolve();
        return;
      }
      const key = `read${conversationKey(target)}`;
      const signal = this.waiting.get(key);
      if (signal?.kind === 'read') {
        if (compareIds(msgId, signal.msgId) > 0) signal.msgId = msgId;
        signal.waiters.push({ resolve, reject });
      } else {
        this.waiting.set(key, { kind: 'read', target, msgId, waiters: [{ resolve, reject }] });
      }
      this.flush();
    });
  }

  /** A new connection: a fresh budget; typing state is forgotten (the server forgot it too). */
  onConnected(): void {
    this.told.clear();
    this.readSent.clear();
    this.pacer.reset(this.clock());
    this.flush();
  }

  onDisconnected(): void {
    this.clearTimer();
    this.told.clear();
    for (const [key, s] of this.waiting) if (s.kind === 'typing') this.waiting.delete(key);
  }

  /** Read markers still waiting fail (the client is closed). */
  rejectAll(error: HushError): void {
    this.clearTimer();
    for (const s of this.waiting.values()) if (s.kind === 'read') for (const w of s.waiters) w.reject(error);
    this.waiting.clear();
  }

  private flush(): void {
    this.clearTimer();
    if (!this.host.connected()) return;
    while (this.waiting.size > 0 && this.pacer.tryTake(this.clock())) {
      const [key, signal] = this.waiting.entries().next().value!;
      this.waiting.delete(key);
      if (signal.kind === 'typing') {
        this.told.set(conversationKey(signal.target), signal.active);
        try {
          this.host.sendTyping(signal.target, signal.active);
        } catch {
          // the connection just went away; a typing notice is not worth keeping
        }
      } else {
        this.readSent.set(conversationKey(signal.target), signal.msgId);
        this.sendRead(key, signal);
      }
    }
    if (this.waiting.size > 0) {
      this.timer = setTimeout(() => this.flush(), Math.max(1, this.pacer.waitMs(this.clock())));
      this.timer.unref();
    }
  }

  private sendRead(key: string, signal: Extract<Signal, { kind: 'read' }>): void {
    this.host.sendRead(signal.target, signal.msgId).then(
      () => {
        for (const w of signal.waiters) w.resolve();
      },
      (error: unknown) => {
        const e = error instanceof HushError ? error : new HushError('INTERNAL', String(error), { cause: error });
        if (isHushError(e, 'RATE_LIMITED') || isHushError(e, 'CONNECTION_CLOSED') || isHushError(e, 'TIMEOUT')) {
          const sent = this.readSent.get(conversationKey(signal.target));
          if (sent !== undefined && compareIds(sent, signal.msgId) > 0) {
            for (const w of signal.waiters) w.resolve(); // a newer marker went out since: it says more
            return;
          }
          if (sent === signal.msgId) this.readSent.delete(conversationKey(signal.target));
          // Again later, merged with anything newer for the same conversation.
          const newer = this.waiting.get(key);
          if (newer?.kind === 'read') {
            newer.waiters.push(...signal.waiters);
            if (compareIds(signal.msgId, newer.msgId) > 0) newer.msgId = signal.msgId;
          } else {
            this.waiting.set(key, signal);
          }
          if (isHushError(e, 'RATE_LIMITED')) this.pacer.backOff(this.clock(), e.retryAfterMs ?? 1000);
          this.flush();
          return;
        }
        for (const w of signal.waiters) w.reject(e);
      },
    );
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
