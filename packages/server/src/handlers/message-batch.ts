// Inbound messages of one event-loop turn are stored together: one transaction, then the fan-out
// and every ack (only after the store's commit resolved: the message is durable). A room's messages of the
// turn are encoded once into a shared block queued on every online member's sessions, the sender's
// included (its echo, in server order and ahead of its ack). Room notices that everyone in a room
// gets (joins) ride in the same block, in order with the messages: a storm of N joins (first logins
// into the default room) costs each member one queue entry per turn, not N. A send whose
// idempotency key was used before is only acked, with the original's id and time.
import type { ServerMessage } from '@hush/protocol';
import type { Logger } from '../logger.js';
import type { OnlineUsers } from '../online-users.js';
import type { RoomRegistry } from '../rooms.js';
import { type AsyncStore, outcomeNow } from '../store/async-store.js';
import { StoreError } from '../store/store-error.js';
import type { AppendedMessage, NewMessage, StoredMessage } from '../store/types.js';
import type { Session } from './session.js';
import type { Fanout } from './fanout.js';
import { NewestDirect } from './newest-direct.js';
import { wireMessage } from './replies.js';
import { advanceCursor, sessionDevice } from './session-devices.js';

/** What the batch works with. */
export interface MessageBatchDeps {
  store: Pick<AsyncStore, 'appendMessages' | 'redactRoomMessage' | 'advanceDeviceCursor'>;
  logger: Pick<Logger, 'error'>;
  rooms: Pick<RoomRegistry<Session>, 'members'>;
  online: Pick<OnlineUsers<Session>, 'get'>;
  fanout: Fanout;
  /** The event-loop turns the batch commits in (FlushScheduler). */
  turns: { wake(): void; beforeEachFlush(hook: () => void): void };
}

interface Pending {
  message: NewMessage;
  session: Session;
  re: string;
}

interface Notice {
  room: string;
  line: string;
  /** How many of the turn's messages arrived before it. */
  after: number;
}

/**
 * One commit is in flight at a time: what arrives meanwhile gathers for the next, which starts when
 * the previous one is delivered. So acks and fan-out leave in commit order, and a slow store makes
 * batches larger instead of transactions more numerous.
 */
export class MessageBatch {
  private pending: Pending[] = [];
  private notices: Notice[] = [];
  /** The commit being stored, if any, and the rooms whose notices it carries. */
  private inFlight: { done: Promise<unknown>; rooms: ReadonlySet<string>; afterwards: Array<() => void> } | null = null;
  /** Lets device logins skip the offline query when nothing new is stored for the user. */
  readonly newestDirect = new NewestDirect();

  constructor(private readonly deps: MessageBatchDeps) {
    deps.turns.beforeEachFlush(() => this.commit());
  }

  get size(): number {
    return this.pending.length;
  }

  add(message: NewMessage, session: Session, re: string): void {
    this.pending.push({ message, session, re });
    this.deps.turns.wake();
  }

  /** Queues a notice for everyone in `room` (at the turn's commit, after the messages that came before it). */
  roomNotice(room: string, notice: ServerMessage): void {
    this.notices.push({ room, line: JSON.stringify(notice), after: this.pending.length });
    this.deps.turns.wake();
  }

  /**
   * Sends a room event to the room's online members (as they are now), after the room's notices
   * (joins wait for a commit): a part or a kick must not overtake the join it follows.
   */
  roomEvent(event: Extract<ServerMessage, { type: 'room_event' }>): void {
    const notices = this.notices.filter((n) => n.room === event.room).map((n) => n.line);
    if (notices.length > 0) this.notices = this.notices.filter((n) => n.room !== event.room);
    const audience = [...this.deps.rooms.members(event.room)];
    const send = () => {
      if (notices.length > 0) this.deps.fanout.broadcastBlock(notices, audience);
      this.deps.fanout.broadcast(event, audience);
    };
    if (this.inFlight?.rooms.has(event.room)) this.inFlight.afterwards.push(send);
    else send();
  }

  /**
   * Stores everything pending in one transaction (unless a commit is in flight), then fans out and
   * acks. A store that answered at once (SQLite) is delivered in this same turn; one that answers
   * later (PostgreSQL) is delivered when it does, and what arrives meanwhile waits for the next commit.
   */
  commit(): void {
    if (this.inFlight || (this.pending.length === 0 && this.notices.length === 0)) return;
    const batch = this.pending;
    const notices = this.notices;
    this.pending = [];
    this.notices = [];
    const appending = batch.length > 0 ? this.deps.store.appendMessages(batch.map((p) => p.message)) : Promise.resolve([]);
    const now = outcomeNow(appending);
    if (now && 'value' in now && !now.value.some(isDelete)) {
      void this.deliver(batch, notices, now.value);
      return;
    }
    const done = this.stored(batch, appending)
      .then((stored) => this.deliver(batch, notices, stored))
      .catch((error: unknown) => this.deps.logger.error('batch_delivery_failed', { error }))
      .finally(() => {
        const afterwards = this.inFlight?.afterwards ?? [];
        this.inFlight = null;
        for (const send of afterwards) send();
        if (this.pending.length > 0 || this.notices.length > 0) this.deps.turns.wake();
      });
    this.inFlight = { done, rooms: new Set(notices.map((n) => n.room)), afterwards: [] };
  }

  /** Resolves once nothing is stored or waiting (shutdown). */
  async settled(): Promise<void> {
    for (;;) {
      this.commit();
      if (!this.inFlight) return;
      await this.inFlight.done;
    }
  }

  /** The batch in one transaction; on failure each sender gets an error and nothing is stored. */
  private async stored(batch: readonly Pending[], appending: Promise<AppendedMessage[]>): Promise<AppendedMessage[]> {
    const { deps } = this;
    try {
      const stored = await appending;
      await redactDeleted(deps, stored);
      return stored;
    } catch (error) {
      deps.logger.error('store_append_failed', { error, count: batch.length });
      const unavailable = error instanceof StoreError && error.code === 'UNAVAILABLE';
      for (const p of batch) {
        p.session.send({
          type: 'error',
          re: p.re,
          code: 'INTERNAL',
          message: `message not stored: ${unavailable ? 'the server cannot reach its database right now' : 'the server could not save it'}; send it again`,
        });
      }
      return [];
    }
  }

  /** Fan-out of a stored batch, then every ack; resolves once the delivery cursors of direct messages moved. */
  private deliver(batch: readonly Pending[], notices: readonly Notice[], stored: readonly AppendedMessage[]): Promise<unknown> {
    const { deps } = this;
    const rooms = new Map<string, string[]>();
    const add = (room: string, line: string) => {
      const lines = rooms.get(room);
      if (lines) lines.push(line);
      else rooms.set(room, [line]);
    };
    // Each notice goes in right after the messages that arrived before it.
    let next = 0;
    const noticesUpTo = (messages: number) => {
      for (; next < notices.length && notices[next]!.after <= messages; next++) add(notices[next]!.room, notices[next]!.line);
    };
    stored.forEach((m, i) => {
      noticesUpTo(i);
      if (m.kind === 'room') add(m.room, JSON.stringify(wireMessage(m)));
    });
    noticesUpTo(Infinity);
    for (const [room, lines] of rooms) deps.fanout.broadcastBlock(lines, deps.rooms.members(room));
    // Every session that has a DM (the sender's included) had all earlier ones too: each device's
    // offline catch-up resumes after the newest. Ids grow through the batch, so the last one wins.
    const delivered = new Map<Session, string>();
    for (let i = 0; i < stored.length; i++) {
      const p = batch[i]!;
      const m = stored[i]!;
      p.session.send({ type: 'ack', re: p.re, msgId: m.id, ts: m.ts });
      if (m.kind !== 'dm') continue;
      this.newestDirect.appended(m.from, m.to, m.id);
      for (const s of fanOutDirect(deps, m, p.session)) delivered.set(s, m.id);
    }
    // Part of the commit (the next one waits for them, so does shutdown), though nothing waits to be sent.
    return Promise.all(
      [...delivered].map(([session, id]) =>
        advanceCursor(deps.store, session, id).catch((error: unknown) => deps.logger.error('store_cursor_failed', { error })),
      ),
    );
  }
}

function isDelete(m: AppendedMessage): m is Extract<AppendedMessage, { kind: 'room' }> & { ref: { kind: 'delete'; msgId: string } } {
  return m.kind === 'room' && m.ref?.kind === 'delete';
}

/** A stored delete takes its message's text (and that of its edits) out of the store. */
async function redactDeleted(deps: Pick<MessageBatchDeps, 'store' | 'logger'>, stored: readonly AppendedMessage[]): Promise<void> {
  for (const m of stored) {
    if (!isDelete(m)) continue;
    try {
      await deps.store.redactRoomMessage(m.room, m.ref.msgId);
    } catch (error) {
      deps.logger.error('store_redact_failed', { error, msgId: m.ref.msgId });
    }
  }
}

/** Queues a DM for its online recipients (not the sending session), each device only its entry; returns the sessions that now have it. */
function fanOutDirect(
  deps: Pick<MessageBatchDeps, 'online' | 'fanout'>,
  m: Extract<StoredMessage, { kind: 'dm' }>,
  sender: Session,
): Session[] {
  const recipient = deps.online.get(m.to);
  const self = deps.online.get(m.from);
  const users = recipient && recipient !== self ? [recipient] : [];
  if (self) users.push(self);
  deps.fanout.broadcastEach((session) => wireMessage(m, sessionDevice(session)), users, sender);
  return [sender, ...users.flatMap((u) => [...u.sessions])];
}
