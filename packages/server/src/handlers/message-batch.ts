// Inbound messages of one event-loop turn are stored together: one transaction, then published on
// the bus (only after the store's commit resolved: the message is durable). The bus hands every
// node's commits back in one id order (`delivered`): that is where this node's sessions get them,
// its own messages included, and where the senders' acks go out, right after their echo. A room's
// messages are encoded once into a shared block queued on every online member's sessions, the
// sender's included (its echo, in server order). Room notices that everyone in a room gets (joins)
// ride in the same block, in order with the messages: a storm of N joins (first logins into the
// default room) costs each member one queue entry per turn, not N. A send whose idempotency key was
// used before is only acked, with the original's id and time (and not published again).
import type { ServerMessageOf } from '@hush/protocol';
import type { Logger } from '../logger.js';
import type { OnlineUsers } from '../online-users.js';
import type { RoomRegistry } from '../rooms.js';
import { type AsyncStore, outcomeNow } from '../store/async-store.js';
import { isStoreUnavailable, STORE_RETRY_AFTER_MS } from '../store/availability.js';
import type { AppendedMessage, NewMessage, StoredMessage } from '../store/types.js';
import type { Session } from './session.js';
import type { Fanout } from './fanout.js';
import { NewestDirect } from './newest-direct.js';
import { wireMessage } from './replies.js';
import { advanceCursor, sessionDevice } from './session-devices.js';

type RoomEventMessage = ServerMessageOf<'room_event'>;

/** What the batch works with. */
export interface MessageBatchDeps {
  store: Pick<AsyncStore, 'appendMessages' | 'redactRoomMessage' | 'advanceDeviceCursor'>;
  logger: Pick<Logger, 'error'>;
  rooms: Pick<RoomRegistry<Session>, 'members'>;
  online: Pick<OnlineUsers<Session>, 'get'>;
  fanout: Fanout;
  /** The bus: what this node committed, for every node (this one included) to deliver. */
  publish(messages: readonly StoredMessage[]): void;
  /** Tells the other nodes of a room event (their members get it too). */
  tell?(event: RoomEventMessage): void;
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
  /** This node's sends committed and not yet delivered back by the bus: acked when they are. */
  private readonly unacked = new Map<string, { session: Session; re: string }>();
  /** Notices to deliver right before (or after) a message of this node, by its id. */
  private readonly noticesAt = new Map<string, { before: Notice[]; after: Notice[] }>();
  /** Delivery cursors being written (shutdown waits for them). */
  private readonly cursorWrites = new Set<Promise<unknown>>();

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
  roomNotice(room: string, notice: RoomEventMessage): void {
    this.deps.tell?.(notice);
    this.notices.push({ room, line: JSON.stringify(notice), after: this.pending.length });
    this.deps.turns.wake();
  }

  /**
   * Sends a room event to the room's online members (as they are now), after the room's notices
   * (joins wait for a commit): a part or a kick must not overtake the join it follows.
   */
  roomEvent(event: RoomEventMessage): void {
    this.deps.tell?.(event);
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
      this.deliver(batch, notices, now.value);
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

  /** Resolves once nothing is stored or waiting (shutdown); this node's sends delivered back by the bus, within `waitMs`. */
  async settled(waitMs = 2000): Promise<void> {
    for (;;) {
      this.commit();
      if (!this.inFlight) break;
      await this.inFlight.done;
    }
    for (const until = Date.now() + waitMs; this.unacked.size > 0 && Date.now() < until; ) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await Promise.all(this.cursorWrites);
  }

  /** The batch in one transaction; on failure each sender gets an error and nothing is stored. */
  private async stored(batch: readonly Pending[], appending: Promise<AppendedMessage[]>): Promise<AppendedMessage[]> {
    const { deps } = this;
    try {
      const stored = await appending;
      await redactDeleted(deps, stored);
      return stored;
    } catch (error) {
      const unavailable = isStoreUnavailable(error);
      // An unreachable store was said once (store_unavailable); its refused sends come back by themselves.
      if (!unavailable) deps.logger.error('store_append_failed', { error, count: batch.length });
      for (const p of batch) {
        p.session.send({
          type: 'error',
          re: p.re,
          code: 'INTERNAL',
          message: `message not stored: ${unavailable ? 'the server cannot reach its database right now' : 'the server could not save it'}; send it again`,
          // Temporary: the same send, with its key, is stored once the database is back.
          ...(unavailable ? { retryAfterMs: STORE_RETRY_AFTER_MS } : {}),
        });
      }
      return [];
    }
  }

  /** Publishes a stored batch (what is new in it) and acks the repeats; the rest is acked when the bus delivers it. */
  private deliver(batch: readonly Pending[], notices: readonly Notice[], stored: readonly AppendedMessage[]): void {
    const fresh: StoredMessage[] = [];
    let nextNotice = 0;
    let last: { before: Notice[]; after: Notice[] } | undefined;
    stored.forEach((m, i) => {
      const p = batch[i]!;
      if (m.kind === 'repeat') {
        p.session.send({ type: 'ack', re: p.re, msgId: m.id, ts: m.ts });
        return;
      }
      // Each notice goes in right before the first message that arrived after it.
      last = { before: [], after: [] };
      for (; nextNotice < notices.length && notices[nextNotice]!.after <= i; nextNotice++) last.before.push(notices[nextNotice]!);
      this.unacked.set(m.id, { session: p.session, re: p.re });
      this.noticesAt.set(m.id, last);
      fresh.push(m);
    });
    const rest = notices.slice(nextNotice);
    if (last) last.after.push(...rest);
    else if (rest.length > 0) this.broadcastNotices(rest);
    if (fresh.length > 0) this.deps.publish(fresh);
  }

  /**
   * What the bus delivers: every node's commits, in id order, once each. Room fan-out and direct
   * messages to this node's sessions; acks to this node's senders, after their echo.
   */
  delivered(messages: readonly StoredMessage[]): void {
    const { deps } = this;
    const rooms = new Map<string, string[]>();
    const add = (room: string, line: string) => {
      const lines = rooms.get(room);
      if (lines) lines.push(line);
      else rooms.set(room, [line]);
    };
    const acks: Array<{ session: Session; re: string; m: StoredMessage }> = [];
    // Every session that has a DM (the sender's included) had all earlier ones too: each device's
    // offline catch-up resumes after the newest. Ids grow through the batch, so the last one wins.
    const cursors = new Map<Session, string>();
    for (const m of messages) {
      const notices = this.noticesAt.get(m.id);
      this.noticesAt.delete(m.id);
      for (const n of notices?.before ?? []) add(n.room, n.line);
      const own = this.unacked.get(m.id);
      if (own) {
        this.unacked.delete(m.id);
        acks.push({ ...own, m });
      }
      if (m.kind === 'room') add(m.room, JSON.stringify(wireMessage(m)));
      else {
        this.newestDirect.appended(m.from, m.to, m.id);
        for (const s of fanOutDirect(deps, m, own?.session)) cursors.set(s, m.id);
      }
      for (const n of notices?.after ?? []) add(n.room, n.line);
    }
    for (const [room, lines] of rooms) deps.fanout.broadcastBlock(lines, deps.rooms.members(room));
    for (const { session, re, m } of acks) session.send({ type: 'ack', re, msgId: m.id, ts: m.ts });
    for (const [session, id] of cursors) {
      const write = advanceCursor(deps.store, session, id)
        .catch((error: unknown) => deps.logger.error('store_cursor_failed', { error }))
        .finally(() => this.cursorWrites.delete(write));
      this.cursorWrites.add(write);
    }
  }

  private broadcastNotices(notices: readonly Notice[]): void {
    const rooms = new Map<string, string[]>();
    for (const n of notices) rooms.set(n.room, [...(rooms.get(n.room) ?? []), n.line]);
    for (const [room, lines] of rooms) this.deps.fanout.broadcastBlock(lines, this.deps.rooms.members(room));
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

/**
 * Queues a DM for this node's online sessions of both users (not the sending session, when it is
 * here), each device only its entry; returns the sessions that now have it.
 */
function fanOutDirect(
  deps: Pick<MessageBatchDeps, 'online' | 'fanout'>,
  m: Extract<StoredMessage, { kind: 'dm' }>,
  sender: Session | undefined,
): Session[] {
  const recipient = deps.online.get(m.to);
  const self = deps.online.get(m.from);
  const users = recipient && recipient !== self ? [recipient] : [];
  if (self) users.push(self);
  deps.fanout.broadcastEach((session) => wireMessage(m, sessionDevice(session)), users, sender);
  const sessions = users.flatMap((u) => [...u.sessions]);
  return sender && !sessions.includes(sender) ? [sender, ...sessions] : sessions;
}
