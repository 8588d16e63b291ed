// send / dm_send / keys_get. Messages are not stored here: they join the turn's batch
// (MessageBatch), which acks them once stored and fans them out.
import type { ClientMessageOf } from '@hush/protocol';
import { RequestError, requireMember, requireUser, type ServerContext, type Session, wireBundle } from './context.js';

export function handleSend(ctx: ServerContext, session: Session, m: ClientMessageOf<'send'>): void {
  const user = requireUser(session);
  const member = requireMember(ctx, user, m.room);
  const now = ctx.now();
  if (member.mutedUntil !== null && member.mutedUntil > now) {
    throw new RequestError('MUTED', `muted in #${m.room}`, member.mutedUntil - now);
  }
  // The sender is the session's user, never a field of the request.
  ctx.batch.add({ kind: 'room', ts: now, from: user.name, room: m.room, text: m.text, action: m.action ?? false }, session, m.id);
}

export function handleDmSend(ctx: ServerContext, session: Session, m: ClientMessageOf<'dm_send'>): void {
  const user = requireUser(session);
  if (!ctx.store.getUser(m.to)) throw new RequestError('NOT_FOUND', `no user ${m.to}`);
  ctx.batch.add({ kind: 'dm', ts: ctx.now(), from: user.name, to: m.to, envelope: m.envelope }, session, m.id);
}

export function handleKeysGet(ctx: ServerContext, session: Session, m: ClientMessageOf<'keys_get'>): void {
  requireUser(session);
  if (!ctx.store.getUser(m.user)) throw new RequestError('NOT_FOUND', `no user ${m.user}`);
  const devices = ctx.store.listDevices(m.user).slice(-32).map(wireBundle);
  session.send({ type: 'keys', re: m.id, user: m.user, devices });
}
