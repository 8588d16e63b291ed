import { randomBytes } from 'node:crypto';
import type { ServerMessageOf } from '@hush/protocol';
import { backoffDelay } from './backoff.js';
import { HushError, isHushError } from './errors.js';
import type { RequestBody } from './requests.js';
import type { PendingSend, Target } from './types.js';

type Ack = ServerMessageOf<'ack'>;

/** Failures after which the same frame may still be stored once: send it again (same key). */
const TRANSIENT = new Set(['CONNECTION_CLOSED', 'TIMEOUT']);

/**
 * A refusal the server marks as temporary (PROTOCOL.md, `error`): an `INTERNAL` with `retryAfterMs`
 * (its database cannot be reached). Nothing of it was done: the same frame goes again after the
 * delay, with its key, so one that was stored after all counts once.
 */
function isTemporaryRefusal(error: HushError): boolean {
  return error.code === 'INTERNAL' && error.retryAfterMs !== undefined;
}

/** Lost, timed out or refused for now: the same request may go again later. */
function mayRetry(error: unknown): error is HushError {
  return isHushError(error) && (TRANSIENT.has(error.code) || isTemporaryRefusal(error));
}

export interface SendHost {
  /** Logged in on an open connection: a send can go out now. */
  ready(): boolean;
  /** The request, paced, with no deadline of its own (a dead connection fails it). */
  request(body: RequestBody): Promise<Ack>;
  /** RATE_LIMITED anyway: hold the outbox. */
  backOff(ms: number): void;
  /** The list of pending sends changed. */
  changed(): void;
  /** The server began refusing sends as temporary (true, once per spell), or took one again (false). */
  held(held: boolean): void;
}

interface Entry {
  info: PendingSend;
  /** Listed in `pendingSends` (a file offer's DM is not a line anyone typed). */
  listed: boolean;
  /** Builds the frame once (a DM is sealed once: the same envelope and sequence number on every attempt). */
  prepare: (key: string) => Promise<RequestBody>;
  /** Runs before `prepare`, beside the queue: while it runs, urgent entries may go out ahead. */
  gate?: () => Promise<void>;
  gateState?: 'running' | 'passed';
  /** Goes out ahead of an entry waiting at its gate (a sender key the waiting message needs). */
  urgent: boolean;
  body?: RequestBody;
  /** A frame of it went out and got no answer (a lost connection, a timeout): it may be stored. */
  unsure?: true;
  /** Told when it fails and no frame of it was stored. */
  unstored?: () => void;
  resolve: (ack: Ack) => void;
  reject: (error: HushError) => void;
}

/** A client-chosen idempotency key (the protocol's `clientKey`: 8-64 of A-Z a-z 0-9 _ -). */
export function newSendKey(): string {
  // A time prefix keeps new keys at the edge of the server's unique index (cheaper inserts than
  // random keys); 12 random bytes after it keep keys unguessable and unique per device.
  return `${Date.now().toString(36)}-${randomBytes(12).toString('base64url')}`;
}

/** What a client says when the server starts refusing sends as temporary, and when it takes them again. */
export const SENDS_HELD = {
  level: 'warn',
  code: 'SENDS_HELD',
  text: 'the server cannot store messages right now: what you send waits and goes out by itself once it can',
} as const;
export const SENDS_RESUMED = {
  level: 'info',
  code: 'SENDS_RESUMED',
  text: 'the server stores messages again: what waited is going out',
} as const;

/**
 * Sends that must not be lost: each keeps its key and frame until the server acknowledges it, and is
 * sent again (same key, same frame) after a refusal for rate, a temporary refusal (the server's
 * database is away) or a lost connection, however long the outage. Settles on the ack, or rejects when the server refuses it for good or the owner gives up.
 * Sends go out in the order they were made.
 */
export class SendQueue {
  private readonly entries: Entry[] = [];
  private pumping = false;
  private retry: NodeJS.Timeout | undefined;
  /** Temporary refusals in a row: the wait before the next try grows with them. */
  private refusals = 0;
  /** Nothing goes out before this time (a temporary refusal's wait). */
  private heldUntil = 0;
  /** Within a spell of temporary refusals: the host was told, and is told when it ends. */
  private holding = false;
  private readonly emptied: Array<() => void> = [];

  constructor(private readonly host: SendHost) {}

  get pending(): PendingSend[] {
    return this.entries.filter((e) => e.listed).map((e) => ({ ...e.info }));
  }

  /**
   * `gate` runs first, outside the queue's order (it may itself queue `urgent` sends, which go out
   * ahead of this entry); the entries after this one wait for it, and a transient failure of it
   * (lost connection, timeout) runs it again later. `unstored` runs just before the promise rejects
   * when the send is certainly not stored (refused, or never sent).
   */
  add(
    what: {
      target: Target;
      text: string;
      action: boolean;
      listed?: boolean;
      urgent?: boolean;
      gate?: () => Promise<void>;
      unstored?: () => void;
    },
    prepare: (key: string) => Promise<RequestBody>,
  ): Promise<Ack> {
    return new Promise<Ack>((resolve, reject) => {
      const info: PendingSend = { key: newSendKey(), target: what.target, text: what.text, action: what.action, state: 'queued' };
      const entry: Entry = { info, listed: what.listed !== false, prepare, resolve, reject, urgent: what.urgent === true };
      if (what.gate) entry.gate = what.gate;
      if (what.unstored) entry.unstored = what.unstored;
      this.entries.push(entry);
      this.host.changed();
      this.pump();
    });
  }

  /** Sends what is queued, in order, while the host is ready. Call it whenever it becomes ready. */
  pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    void this.run();
  }

  /** Resolves once every send added so far is settled (acknowledged or refused). */
  settled(): Promise<void> {
    if (this.entries.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.emptied.push(resolve));
  }

  /** Rejects every pending send (the client is closed or logged out). */
  rejectAll(error: HushError): void {
    const all = this.entries.splice(0);
    if (this.retry !== undefined) clearTimeout(this.retry);
    this.retry = undefined;
    this.heldUntil = 0;
    this.refusals = 0;
    for (const e of all) {
      if (e.info.state !== 'sending' && !e.unsure) e.unstored?.();
      e.reject(error);
    }
    if (all.length > 0) this.host.changed();
    this.wakeEmptied();
  }

  private wakeEmptied(): void {
    if (this.entries.length === 0) for (const resolve of this.emptied.splice(0)) resolve();
  }

  /** Runs synchronously up to its first await, so a pump() just after it ends is never lost. */
  private async run(): Promise<void> {
    try {
      for (;;) {
        if (!this.host.ready() || Date.now() < this.heldUntil) return;
        const head = this.entries.find((e) => e.info.state === 'queued');
        if (!head) return;
        let entry = head;
        if (head.gate && head.gateState !== 'passed') {
          if (head.gateState === undefined) this.openGate(head, head.gate);
          const urgent = this.entries.find((e) => e.info.state === 'queued' && e.urgent);
          if (!urgent) return;
          entry = urgent;
        }
        if (!entry.body) {
          try {
            entry.body = await entry.prepare(entry.info.key);
          } catch (error) {
            if (!this.entries.includes(entry)) continue;
            if (mayRetry(error)) {
              this.retryLater(error);
              return;
            }
            this.fail(entry, asHushError(error));
            continue;
          }
          if (!this.entries.includes(entry) || !this.host.ready()) continue;
        }
        entry.info.state = 'sending';
        this.host.changed();
        this.dispatch(entry, entry.body);
      }
    } finally {
      this.pumping = false;
    }
  }

  private openGate(entry: Entry, gate: () => Promise<void>): void {
    entry.gateState = 'running';
    gate().then(
      () => {
        entry.gateState = 'passed';
        this.pump();
      },
      (error: unknown) => {
        delete entry.gateState;
        if (!this.entries.includes(entry)) return;
        if (mayRetry(error)) return this.retryLater(error);
        this.fail(entry, asHushError(error));
        this.pump();
      },
    );
  }

  private dispatch(entry: Entry, body: RequestBody): void {
    this.host.request(body).then(
      (ack) => {
        this.refusals = 0;
        if (this.holding) {
          this.holding = false;
          this.host.held(false);
        }
        this.finish(entry, () => entry.resolve(ack));
      },
      (error: unknown) => {
        if (!this.entries.includes(entry)) return;
        const e = asHushError(error);
        if (TRANSIENT.has(e.code)) entry.unsure = true;
        if (e.code === 'RATE_LIMITED' || mayRetry(e)) {
          entry.info.state = 'queued';
          this.host.changed();
          if (e.code === 'RATE_LIMITED') this.host.backOff(e.retryAfterMs ?? 1000);
          if (isTemporaryRefusal(e) && !this.holding) {
            this.holding = true;
            this.host.held(true);
          }
          if (e.code === 'TIMEOUT' || isTemporaryRefusal(e)) this.retryLater(e);
          else this.pump();
          return;
        }
        this.fail(entry, e);
      },
    );
  }

  /** Refused for good, or failed before it went out. */
  private fail(entry: Entry, error: HushError): void {
    this.finish(entry, () => {
      if (!entry.unsure) entry.unstored?.();
      entry.reject(error);
    });
  }

  private finish(entry: Entry, settle: () => void): void {
    const i = this.entries.indexOf(entry);
    if (i < 0) return;
    this.entries.splice(i, 1);
    settle();
    this.host.changed();
    this.wakeEmptied();
  }

  /**
   * Pumps again later: after a second, or, after a temporary refusal, after the server's
   * `retryAfterMs` growing with each refusal in a row (up to 10 s), the whole queue held meanwhile
   * so that sends keep their order.
   */
  private retryLater(error: HushError): void {
    let wait = 1000;
    // Sends in flight together are refused together: the first refusal of a round sets the wait.
    if (isTemporaryRefusal(error) && Date.now() >= this.heldUntil) {
      wait = Math.max(error.retryAfterMs ?? 0, backoffDelay(this.refusals++, Math.random, 1000, 10_000));
      this.heldUntil = Date.now() + wait;
      if (this.retry !== undefined) clearTimeout(this.retry);
      this.retry = undefined;
    }
    if (this.retry !== undefined) return;
    this.retry = setTimeout(
      () => {
        this.retry = undefined;
        this.pump();
      },
      Math.max(wait, this.heldUntil - Date.now()),
    );
    this.retry.unref();
  }
}

function asHushError(error: unknown): HushError {
  return error instanceof HushError ? error : new HushError('INTERNAL', String(error), { cause: error });
}
