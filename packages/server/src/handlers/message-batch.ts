// Inbound messages of one event-loop turn are stored together: one transaction, then the fan-out
// and every ack (only after the store returned: the message is durable). A room's messages of the
// turn are encoded once into a shared block queued on every online member's sessions, the sender's
// included (its echo, in server order and ahead of its ack).
import type { NewMessage, StoredMessage } from '../store/types.js';
import { advanceCursor, broadcast, broadcastBlock, type ServerContext, type Session, wireMessage } from './context.js';
import { NewestDirect } from './newest-direct.js';

interface Pending {
  message: NewMessage;
  session: Session;
  re: string;
}

export class MessageBatch {
  private pending: Pending[] = [];
  /** Lets device logins skip the offline query when nothing new is stored for the user. */
  readonly newestDirect = new NewestDirect();

  constructor(
    private readonly context: () => ServerContext,
    /** Makes sure the turn's commit runs (FlushScheduler.wake). */
    private readonly wake: () => void,
  ) {}

  get size(): number {
    return this.pending.length;
  }

  add(message: NewMessage, session: Session, re: string): void {
    this.pending.push({ message, session, re });
    this.wake();
  }

  /** Stores everything pending in one transaction, then fans out and acks. */
  commit(): void {
    if (this.pending.length === 0) return;
    const ctx = this.context();
    const batch = this.pending;
    this.pending = [];
    let stored: StoredMessage[];
    try {
      stored = ctx.store.appendMessages(batch.map((p) => p.message));
    } catch (error) {
      ctx.logger.error('store_append_failed', { error, count: batch.length });
      for (const p of batch) p.session.send({ type: 'error', re: p.re, code: 'INTERNAL', message: 'message not stored' });
      return;
    }
    const rooms = new Map<string, string[]>();
    for (const m of stored) {
      if (m.kind !== 'room') continue;
      let lines = rooms.get(m.room);
      if (!lines) rooms.set(m.room, (lines = []));
      lines.push(JSON.stringify(wireMessage(m)));
    }
    for (const [room, lines] of rooms) broadcastBlock(ctx, lines, ctx.rooms.members(room));
    // Every session that has a DM (the sender's included) had all earlier ones too: each device's
    // offline catch-up resumes after the newest. Ids grow through the batch, so the last one wins.
    const delivered = new Map<Session, string>();
    for (let i = 0; i < batch.length; i++) {
      const p = batch[i]!;
      const m = stored[i]!;
      p.session.send({ type: 'ack', re: p.re, msgId: m.id, ts: m.ts });
      if (m.kind !== 'dm') continue;
      this.newestDirect.appended(m.from, m.to, m.id);
      for (const s of fanOutDirect(ctx, m, p.session)) delivered.set(s, m.id);
    }
    for (const [session, id] of delivered) advanceCursor(ctx, session, id);
  }
}

/** Queues a DM for its online recipients (not the sending session); returns the sessions that now have it. */
function fanOutDirect(ctx: ServerContext, m: Extract<StoredMessage, { kind: 'dm' }>, sender: Session): Session[] {
  const wire = wireMessage(m);
  const recipient = ctx.online.get(m.to);
  const self = ctx.online.get(m.from);
  const users = recipient && recipient !== self ? [recipient] : [];
  if (self) users.push(self);
  broadcast(ctx, wire, users, sender);
  return [sender, ...users.flatMap((u) => [...u.sessions])];
}
