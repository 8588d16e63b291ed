// kick / ban / unban / mute / unmute / role_set. Room moderation needs op or owner rank above the
// target's; server admins may moderate anywhere. Bans are for admins only.
import type { ClientMessageOf } from '@hush/protocol';
import { normalizeAddress } from '../rate-limit.js';
import type { MemberRecord } from '../store/types.js';
import type { OnlineUser } from '../online-users.js';
import { RequestError } from '../errors.js';
import { requireRoom, requireUser, roleRank, syncMembership } from './membership.js';
import type { ServerContext } from './context.js';
import type { Session } from './session.js';
import { removeFromRoom } from './rooms.js';

const FOREVER_MS = 100 * 365 * 24 * 3600 * 1000;

/** The target's membership, after checking the actor may act on it with at least `minRank`. */
async function authorize(
  ctx: Pick<ServerContext, 'rooms' | 'store'>,
  actor: OnlineUser<Session>,
  room: string,
  target: string,
  minRank: number,
): Promise<MemberRecord> {
  await requireRoom(ctx, room);
  const member = await ctx.store.getMember(room, target);
  if (actor.role !== 'admin') {
    const own = roleRank(actor.rooms.get(room)?.role);
    if (own < minRank) throw new RequestError('FORBIDDEN', 'not allowed in this room');
    if (member && roleRank(member.role) >= own && target !== actor.name) {
      throw new RequestError('FORBIDDEN', 'the target ranks as high as you');
    }
  }
  if (!member) throw new RequestError('NOT_MEMBER', `${target} is not in #${room}`);
  return member;
}

/** The sessions here of a banned account or address, closed with the reason. */
export function closeBanned(
  sessions: Iterable<Session>,
  ban: { user?: string | undefined; address?: string | undefined },
  reason: string,
): void {
  for (const s of [...sessions]) {
    if ((ban.user !== undefined && s.user?.name === ban.user) || (ban.address !== undefined && s.address === ban.address)) {
      s.close('BANNED', reason);
    }
  }
}

function requireAdmin(user: OnlineUser<Session>): void {
  if (user.role !== 'admin') throw new RequestError('FORBIDDEN', 'server admins only');
}

export async function handleKick(
  ctx: Pick<ServerContext, 'batch' | 'now' | 'online' | 'rooms' | 'store'>,
  session: Session,
  m: ClientMessageOf<'kick'>,
): Promise<void> {
  const actor = requireUser(session);
  await authorize(ctx, actor, m.room, m.user, roleRank('op'));
  await removeFromRoom(ctx, m.room, m.user, () => {
    session.send({ type: 'ok', re: m.id });
    ctx.batch.roomEvent({
      type: 'room_event',
      room: m.room,
      event: 'kick',
      user: m.user,
      by: actor.name,
      ...(m.reason !== undefined ? { reason: m.reason } : {}),
      ts: ctx.now(),
    });
  });
}

export async function handleBan(
  ctx: Pick<ServerContext, 'batch' | 'cluster' | 'logger' | 'now' | 'online' | 'rooms' | 'sessions' | 'store'>,
  session: Session,
  m: ClientMessageOf<'ban'>,
): Promise<void> {
  const actor = requireUser(session);
  requireAdmin(actor);
  if (m.user === undefined && m.address === undefined) throw new RequestError('BAD_REQUEST', 'name a user or an address');
  const now = ctx.now();
  const until = m.seconds !== undefined ? now + m.seconds * 1000 : Number.POSITIVE_INFINITY;
  const reason = m.reason ?? null;
  if (m.user !== undefined && !(await ctx.store.getUser(m.user))) throw new RequestError('NOT_FOUND', `no user ${m.user}`);
  if (m.user !== undefined) {
    await ctx.store.setUserBan(m.user, until, reason);
    ctx.logger.info('user_banned', { user: m.user, by: actor.name });
    // A banned account leaves every room, as on a kick: members of end-to-end rooms rotate their
    // sender keys on the event, so nothing said afterwards opens for it, banned for a while or not.
    const user = m.user;
    for (const { room } of await ctx.store.roomsOf(user)) {
      await removeFromRoom(ctx, room, user, () =>
        ctx.batch.roomEvent({
          type: 'room_event',
          room,
          event: 'ban',
          user,
          by: actor.name,
          ...(reason !== null ? { reason } : {}),
          ts: now,
        }),
      );
    }
  }
  if (m.address !== undefined) {
    await ctx.store.banAddress(normalizeAddress(m.address), Number.isFinite(until) ? until : now + FOREVER_MS, reason);
    ctx.logger.info('address_banned', { by: actor.name });
  }
  session.send({ type: 'ok', re: m.id });
  const ban = { user: m.user, address: m.address !== undefined ? normalizeAddress(m.address) : undefined };
  const said = reason ?? 'banned by an administrator';
  closeBanned(ctx.sessions, ban, said);
  ctx.cluster.banned({
    ...(ban.user !== undefined ? { user: ban.user } : {}),
    ...(ban.address !== undefined ? { address: ban.address } : {}),
    reason: said,
  });
}

export async function handleUnban(ctx: Pick<ServerContext, 'store'>, session: Session, m: ClientMessageOf<'unban'>): Promise<void> {
  requireAdmin(requireUser(session));
  if (m.user === undefined && m.address === undefined) throw new RequestError('BAD_REQUEST', 'name a user or an address');
  if (m.user !== undefined) {
    if (!(await ctx.store.getUser(m.user))) throw new RequestError('NOT_FOUND', `no user ${m.user}`);
    await ctx.store.setUserBan(m.user, null, null);
  }
  if (m.address !== undefined) await ctx.store.unbanAddress(normalizeAddress(m.address));
  session.send({ type: 'ok', re: m.id });
}

export async function handleMute(
  ctx: Pick<ServerContext, 'batch' | 'now' | 'online' | 'rooms' | 'store'>,
  session: Session,
  m: ClientMessageOf<'mute'>,
): Promise<void> {
  const actor = requireUser(session);
  await authorize(ctx, actor, m.room, m.user, roleRank('op'));
  const now = ctx.now();
  await ctx.store.setMute(m.room, m.user, now + (m.seconds !== undefined ? m.seconds * 1000 : FOREVER_MS));
  await syncMembership(ctx, m.room, m.user);
  session.send({ type: 'ok', re: m.id });
  ctx.batch.roomEvent({ type: 'room_event', room: m.room, event: 'mute', user: m.user, by: actor.name, ts: now });
}

export async function handleUnmute(
  ctx: Pick<ServerContext, 'batch' | 'now' | 'online' | 'rooms' | 'store'>,
  session: Session,
  m: ClientMessageOf<'unmute'>,
): Promise<void> {
  const actor = requireUser(session);
  await authorize(ctx, actor, m.room, m.user, roleRank('op'));
  await ctx.store.setMute(m.room, m.user, null);
  await syncMembership(ctx, m.room, m.user);
  session.send({ type: 'ok', re: m.id });
  ctx.batch.roomEvent({ type: 'room_event', room: m.room, event: 'unmute', user: m.user, by: actor.name, ts: ctx.now() });
}

export async function handleRoleSet(
  ctx: Pick<ServerContext, 'batch' | 'now' | 'online' | 'rooms' | 'store'>,
  session: Session,
  m: ClientMessageOf<'role_set'>,
): Promise<void> {
  const actor = requireUser(session);
  await requireRoom(ctx, m.room);
  if (actor.role !== 'admin' && actor.rooms.get(m.room)?.role !== 'owner') {
    throw new RequestError('FORBIDDEN', 'only the owner or a server admin sets roles');
  }
  if (!(await ctx.store.getMember(m.room, m.user))) throw new RequestError('NOT_MEMBER', `${m.user} is not in #${m.room}`);
  await ctx.store.setMemberRole(m.room, m.user, m.role);
  await syncMembership(ctx, m.room, m.user);
  session.send({ type: 'ok', re: m.id });
  ctx.batch.roomEvent({
    type: 'room_event',
    room: m.room,
    event: 'role',
    user: m.user,
    by: actor.name,
    role: m.role,
    ts: ctx.now(),
  });
}
