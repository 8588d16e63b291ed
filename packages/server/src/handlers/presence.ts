// presence_set and typing notices.
import type { ClientMessageOf } from '@hush/protocol';
import { RequestError } from '../errors.js';
import { targetKey } from './history.js';
import { notMember, requireUser } from './membership.js';
import type { ServerContext } from './context.js';
import type { Session } from './session.js';

export function handlePresenceSet(ctx: Pick<ServerContext, 'presence'>, session: Session, m: ClientMessageOf<'presence_set'>): void {
  const user = requireUser(session);
  user.state = m.state;
  if (m.status !== undefined) user.status = m.status;
  session.send({ type: 'ok', re: m.id });
  ctx.presence.changed(user.name, user.state, user.status);
}

/**
 * Typing notices go to the room's online members or the DM peer, at most one per interval per
 * target. Answered from memory (no store round trip) unless the target is someone offline.
 */
export function handleTyping(
  ctx: Pick<ServerContext, 'cluster' | 'config' | 'fanout' | 'now' | 'online' | 'rooms' | 'store'>,
  session: Session,
  m: ClientMessageOf<'typing'>,
): void | Promise<void> {
  const user = requireUser(session);
  if (!session.signal()) return;
  const key = targetKey(m.target);
  const now = ctx.now();
  const last = user.typing.get(key);
  // A change of state always goes through (so "stopped" is never lost); repeats are throttled.
  if (last && last.active === m.active && now - last.at < ctx.config.limits.typingIntervalMs) return;
  user.typing.set(key, { at: now, active: m.active });
  if ('room' in m.target) {
    if (!user.rooms.has(m.target.room)) return notMember(ctx, m.target.room);
    const others = [...ctx.rooms.members(m.target.room)].filter((u) => u !== user);
    ctx.fanout.broadcast({ type: 'typing_notice', from: user.name, target: m.target, active: m.active }, others);
    ctx.cluster.typing(user.name, m.target, m.active);
    return;
  }
  // The peer may be online on another node.
  if (m.target.user !== user.name) ctx.cluster.typing(user.name, m.target, m.active);
  const peer = ctx.online.get(m.target.user);
  if (!peer) return requireKnownUser(ctx, m.target.user);
  if (peer !== user) {
    ctx.fanout.broadcast({ type: 'typing_notice', from: user.name, target: { user: user.name }, active: m.active }, [peer]);
  }
}

/** NOT_FOUND unless `name` has an account (an offline user's notice is simply not relayed). */
async function requireKnownUser(ctx: Pick<ServerContext, 'store'>, name: string): Promise<void> {
  if (!(await ctx.store.getUser(name))) throw new RequestError('NOT_FOUND', `no user ${name}`);
}
