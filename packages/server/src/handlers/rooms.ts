// room_create / room_join / room_part / room_list / room_topic / room_members / users_list.
import type { ClientMessageOf } from '@hush/protocol';
import type { ListPage, RoomKind } from '../store/types.js';
import { RequestError } from '../errors.js';
import { requireMember, requireRoom, requireUser, roleRank, roomInfo } from './membership.js';
import { replyBudget, takeWithin } from './replies.js';
import type { ServerContext } from './context.js';
import type { Session } from './session.js';

/**
 * The kind of a room created without one (and of the default room when the server first makes it,
 * unless the admin lists it in config.openRooms): every room is end-to-end encrypted by default.
 */
export const DEFAULT_ROOM_KIND: RoomKind = 'e2e';

export async function handleRoomCreate(
  ctx: Pick<ServerContext, 'fanout' | 'now' | 'rooms' | 'store'>,
  session: Session,
  m: ClientMessageOf<'room_create'>,
): Promise<void> {
  const user = requireUser(session);
  if (await ctx.rooms.room(m.room)) throw new RequestError('ALREADY_EXISTS', `#${m.room} exists`);
  // An open room is readable by the server: a server admin's decision, never a member's.
  if (m.kind === 'open' && user.role !== 'admin') throw new RequestError('FORBIDDEN', 'only a server admin creates an open room');
  const now = ctx.now();
  await ctx.rooms.create(m.room, m.topic ?? '', user.name, now, m.kind ?? DEFAULT_ROOM_KIND);
  await ctx.store.addMember(m.room, user.name, 'owner');
  ctx.rooms.adjustCount(m.room, 1);
  user.rooms.set(m.room, { room: m.room, user: user.name, role: 'owner', mutedUntil: null });
  ctx.rooms.enter(m.room, user);
  session.send({ type: 'ok', re: m.id });
  ctx.fanout.broadcast({ type: 'room_event', room: m.room, event: 'create', user: user.name, role: 'owner', ts: now }, [user]);
}

export async function handleRoomJoin(
  ctx: Pick<ServerContext, 'batch' | 'now' | 'rooms' | 'store'>,
  session: Session,
  m: ClientMessageOf<'room_join'>,
): Promise<void> {
  const user = requireUser(session);
  await requireRoom(ctx, m.room);
  if (user.rooms.has(m.room)) {
    session.send({ type: 'ok', re: m.id });
    return;
  }
  await ctx.store.addMember(m.room, user.name, 'member');
  ctx.rooms.adjustCount(m.room, 1);
  // From the store: a mute the user left with (part or kick) comes back with them.
  const member = (await ctx.store.getMember(m.room, user.name)) ?? {
    room: m.room,
    user: user.name,
    role: 'member' as const,
    mutedUntil: null,
  };
  user.rooms.set(m.room, member);
  ctx.rooms.enter(m.room, user);
  session.send({ type: 'ok', re: m.id });
  ctx.batch.roomNotice(m.room, { type: 'room_event', room: m.room, event: 'join', user: user.name, ts: ctx.now() });
}

export async function handleRoomPart(
  ctx: Pick<ServerContext, 'batch' | 'config' | 'now' | 'online' | 'rooms' | 'store'>,
  session: Session,
  m: ClientMessageOf<'room_part'>,
): Promise<void> {
  const user = requireUser(session);
  if (m.room === ctx.config.defaultRoom) throw new RequestError('FORBIDDEN', 'everyone stays in the default room');
  await requireMember(ctx, user, m.room);
  await removeFromRoom(ctx, m.room, user.name, () => {
    session.send({ type: 'ok', re: m.id });
    ctx.batch.roomEvent({ type: 'room_event', room: m.room, event: 'part', user: user.name, ts: ctx.now() });
  });
}

/**
 * Removes a member in the store, then (`announce`, while they are still in the online index: they
 * hear it too) from the online index (part and kick).
 */
export async function removeFromRoom(
  ctx: Pick<ServerContext, 'online' | 'rooms' | 'store'>,
  room: string,
  name: string,
  announce: () => void,
): Promise<void> {
  await ctx.store.removeMember(room, name);
  announce();
  ctx.rooms.adjustCount(room, -1);
  const online = ctx.online.get(name);
  if (online) {
    online.rooms.delete(room);
    ctx.rooms.leave(room, online);
  }
}

const MAX_PAGE = 1000;

/**
 * One page of a name-ordered list: at most `limit` items, cut further to fit one record, and the
 * cursor of the next page (the last name sent) when more remain.
 */
async function listPage<R, W>(
  ctx: Pick<ServerContext, 'config'>,
  request: { cursor?: string | undefined; limit?: number | undefined },
  fetch: (page: ListPage) => Promise<R[]>,
  name: (row: R) => string,
  wire: (row: R) => W | Promise<W>,
): Promise<{ items: W[]; next?: string }> {
  const limit = Math.min(request.limit ?? MAX_PAGE, MAX_PAGE);
  const rows = await fetch({ ...(request.cursor !== undefined ? { after: request.cursor } : {}), limit: limit + 1 });
  const items = await Promise.all(rows.slice(0, limit).map(wire));
  const kept = takeWithin(items, replyBudget(ctx.config.limits));
  const last = rows[kept.length - 1];
  const more = rows.length > kept.length;
  return { items: kept, ...(more && last ? { next: name(last) } : {}) };
}

export async function handleRoomList(
  ctx: Pick<ServerContext, 'config' | 'rooms' | 'store'>,
  session: Session,
  m: ClientMessageOf<'room_list'>,
): Promise<void> {
  const user = requireUser(session);
  const page = await listPage(
    ctx,
    m,
    (p) => ctx.store.listRooms(p),
    (r) => r.name,
    (r) => roomInfo(ctx, r, user.rooms.get(r.name)),
  );
  session.send({ type: 'rooms', re: m.id, rooms: page.items, ...(page.next !== undefined ? { next: page.next } : {}) });
}

export async function handleRoomTopic(
  ctx: Pick<ServerContext, 'batch' | 'now' | 'rooms' | 'store'>,
  session: Session,
  m: ClientMessageOf<'room_topic'>,
): Promise<void> {
  const user = requireUser(session);
  await requireRoom(ctx, m.room);
  const member = user.rooms.get(m.room);
  if (user.role !== 'admin' && roleRank(member?.role) < roleRank('op')) {
    throw new RequestError(member ? 'FORBIDDEN' : 'NOT_MEMBER', 'only ops and owners set the topic');
  }
  await ctx.store.setTopic(m.room, m.topic);
  session.send({ type: 'ok', re: m.id });
  ctx.batch.roomEvent({
    type: 'room_event',
    room: m.room,
    event: 'topic',
    user: user.name,
    by: user.name,
    topic: m.topic,
    ts: ctx.now(),
  });
}

export async function handleRoomMembers(
  ctx: Pick<ServerContext, 'config' | 'presence' | 'rooms' | 'store'>,
  session: Session,
  m: ClientMessageOf<'room_members'>,
): Promise<void> {
  const user = requireUser(session);
  if (user.role !== 'admin') await requireMember(ctx, user, m.room);
  else await requireRoom(ctx, m.room);
  const page = await listPage(
    ctx,
    m,
    (p) => ctx.store.listMembers(m.room, p),
    (r) => r.user,
    (member) => ({ user: member.user, role: member.role, ...ctx.presence.of(member.user) }),
  );
  session.send({
    type: 'members',
    re: m.id,
    room: m.room,
    members: page.items,
    ...(page.next !== undefined ? { next: page.next } : {}),
  });
}

export async function handleUsersList(
  ctx: Pick<ServerContext, 'config' | 'presence' | 'store'>,
  session: Session,
  m: ClientMessageOf<'users_list'>,
): Promise<void> {
  requireUser(session);
  const page = await listPage(
    ctx,
    m,
    (p) => ctx.store.listUsers(p),
    (u) => u.name,
    (u) => ({ user: u.name, ...ctx.presence.of(u.name), role: u.role }),
  );
  session.send({ type: 'users', re: m.id, users: page.items, ...(page.next !== undefined ? { next: page.next } : {}) });
}
