// Inbound messages of one event-loop turn are stored together: one transaction, then every ack
// (only after the store returned: the message is durable) and the fan-out of each message.
import type { NewMessage, StoredMessage } from '../store/types.js';
import { advanceCursor, broadcast, type ServerContext, type Session, wireMessage } from './context.js';
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

  /** Stores everything pending in one transaction, then acks and fans out. */
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
    // Every session that has a DM (the sender's included) had all earlier ones too: each device's
    // offline catch-up resumes after the newest. Ids grow through the batch, so the last one wins.
    const delivered = new Map<Session, string>();
    for (let i = 0; i < batch.length; i++) {
      const p = batch[i]!;
      const m = stored[i]!;
      if (m.kind === 'dm') this.newestDirect.appended(m.from, m.to, m.id);
      p.session.send({ type: 'ack', re: p.re, msgId: m.id, ts: m.ts });
      for (const s of fanOut(ctx, m, p.session)) delivered.set(s, m.id);
    }
    for (const [session, id] of delivered) advanceCursor(ctx, session, id);
  }
}

/** Queues the message for its online recipients; returns the sessions that now have a DM. */
function fanOut(ctx: ServerContext, m: StoredMessage, sender: Session): Session[] {
  const wire = wireMessage(m);
  if (m.kind === 'room') {
    broadcast(ctx, wire, ctx.rooms.members(m.room), sender);
    return [];
  }
  const recipient = ctx.online.get(m.to);
  const self = ctx.online.get(m.from);
  const users = recipient && recipient !== self ? [recipient] : [];
  if (self) users.push(self);
  broadcast(ctx, wire, users, sender);
  return [sender, ...users.flatMap((u) => [...u.sessions])];
}
