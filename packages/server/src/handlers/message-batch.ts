// Inbound messages of one event-loop turn are stored together: one transaction, then every ack
// (only after the store returned: the message is durable) and the fan-out of each message.
import type { NewMessage, StoredMessage } from '../store/types.js';
import { broadcast, type ServerContext, type Session, wireMessage } from './context.js';

interface Pending {
  message: NewMessage;
  session: Session;
  re: string;
}

export class MessageBatch {
  private pending: Pending[] = [];

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
    // Direct messages reached these online recipients: offline delivery resumes after them.
    const delivered = new Map<string, string>();
    for (let i = 0; i < batch.length; i++) {
      const p = batch[i]!;
      const m = stored[i]!;
      p.session.send({ type: 'ack', re: p.re, msgId: m.id, ts: m.ts });
      if (fanOut(ctx, m, p.session) && m.kind === 'dm') delivered.set(m.to, m.id);
    }
    for (const [user, id] of delivered) ctx.store.setDeliveryCursor(user, id);
  }
}

/** Queues the message for its online recipients; true when a DM's recipient is online. */
function fanOut(ctx: ServerContext, m: StoredMessage, sender: Session): boolean {
  const wire = wireMessage(m);
  if (m.kind === 'room') {
    broadcast(ctx, wire, ctx.rooms.members(m.room), sender);
    return false;
  }
  const recipient = ctx.online.get(m.to);
  const self = ctx.online.get(m.from);
  const users = recipient && recipient !== self ? [recipient] : [];
  if (self) users.push(self);
  broadcast(ctx, wire, users, sender);
  return recipient !== undefined;
}
