// room_create / room_join / room_part / room_list / room_topic / room_members / users_list.
import type { ClientMessageOf } from '@hush/protocol';
import {
  broadcast, replyBudget, RequestError, requireMember, requireRoom, requireUser, roleRank, roomInfo, takeWithin,
  type ServerContext, type Session,
} from './context.js';

export function handleRoomCreate(ctx: ServerContext, session: Session, m: ClientMessageOf<'room_create'>): void {
  const user = requireUser(session);
  if (ctx.store.getRoom(m.room)) throw new RequestError('ALREADY_EXISTS', `#${m.room} exists`);
  const now = ctx.now();
  ctx.store.createRoom(m.room, m.topic ?? '', user.name, now);
  ctx.store.addMember(m.room, user.name, 'owner');
  ctx.rooms.adjustCount(m.room, 1);
  user.rooms.set(m.room, { room: m.room, user: user.name, role: 'owner', mutedUntil: null });
  ctx.rooms.enter(m.room, user);
  session.send({ type: 'ok', re: m.id });
  broadcast(ctx, { type: 'room_event', room: m.room, event: 'create', user: user.name, role: 'owner', ts: now }, [user]);
}

export function handleRoomJoin(ctx: ServerContext, session: Session, m: ClientMessageOf<'room_join'>): void {
  const user = requireUser(session);
  requireRoom(ctx, m.room);
  if (user.rooms.has(m.room)) {
    session.send({ type: 'ok', re: m.id });
    return;
  }
  ctx.store.addMember(m.room, user.name, 'member');
  ctx.rooms.adjustCount(m.room, 1);
  user.rooms.set(m.room, { room: m.room, user: user.name, role: 'member', mutedUntil: null });
  ctx.rooms.enter(m.room, user);
  session.send({ type: 'ok', re: m.id });
  broadcast(ctx, { type: 'room_event', room: m.room, event: 'join', user: user.name, ts: ctx.now() }, ctx.rooms.members(m.room));
}

export function handleRoomPart(ctx: ServerContext, session: Session, m: ClientMessageOf<'room_part'>): void {
  const user = requireUser(session);
  if (m.room === ctx.config.defaultRoom) throw new RequestError('FORBIDDEN', 'everyone stays in the default room');
  requireMember(ctx, user, m.room);
  session.send({ type: 'ok', re: m.id });
  broadcast(ctx, { type: 'room_event', room: m.room, event: 'part', user: user.name, ts: ctx.now() }, ctx.rooms.members(m.room));
  removeFromRoom(ctx, m.room, user.name);
}

/** Removes a member in the store and from the online index (part and kick). */
export function removeFromRoom(ctx: ServerContext, room: string, name: string): void {
  ctx.store.removeMember(room, name);
  ctx.rooms.adjustCount(room, -1);
  const online = ctx.online.get(name);
  if (online) {
    online.rooms.delete(room);
    ctx.rooms.leave(room, online);
  }
}

export function handleRoomList(ctx: ServerContext, session: Session, m: ClientMessageOf<'room_list'>): void {
  const user = requireUser(session);
  const rooms = ctx.store.listRooms().slice(0, 10_000).map((r) => roomInfo(ctx, r, user.rooms.get(r.name)));
  session.send({ type: 'rooms', re: m.id, rooms: takeWithin(rooms, replyBudget(ctx)) });
}

export function handleRoomTopic(ctx: ServerContext, session: Session, m: ClientMessageOf<'room_topic'>): void {
  const user = requireUser(session);
  requireRoom(ctx, m.room);
  const member = user.rooms.get(m.room);
  if (user.role !== 'admin' && roleRank(member?.role) < roleRank('op')) {
    throw new RequestError(member ? 'FORBIDDEN' : 'NOT_MEMBER', 'only ops and owners set the topic');
  }
  ctx.store.setTopic(m.room, m.topic);
  session.send({ type: 'ok', re: m.id });
  broadcast(ctx, {
    type: 'room_event', room: m.room, event: 'topic', user: user.name, by: user.name, topic: m.topic, ts: ctx.now(),
  }, ctx.rooms.members(m.room));
}

export function handleRoomMembers(ctx: ServerContext, session: Session, m: ClientMessageOf<'room_members'>): void {
  const user = requireUser(session);
  if (user.role !== 'admin') requireMember(ctx, user, m.room);
  else requireRoom(ctx, m.room);
  const all = ctx.store.listMembers(m.room).map((member) => {
    const online = ctx.online.get(member.user);
    return {
      user: member.user,
      role: member.role,
      state: online ? online.state : ('offline' as const),
      status: online ? online.status : '',
    };
  });
  all.sort((a, b) => Number(a.state === 'offline') - Number(b.state === 'offline'));
  session.send({ type: 'members', re: m.id, room: m.room, members: takeWithin(all.slice(0, 100_000), replyBudget(ctx)) });
}

export function handleUsersList(ctx: ServerContext, session: Session, m: ClientMessageOf<'users_list'>): void {
  requireUser(session);
  const all = ctx.store.listUsers().map((u) => {
    const online = ctx.online.get(u.name);
    return { user: u.name, state: online ? online.state : ('offline' as const), status: online ? online.status : '', role: u.role };
  });
  // Online users first, so a cut list (past the frame limit) still shows who is here.
  all.sort((a, b) => Number(a.state === 'offline') - Number(b.state === 'offline'));
  session.send({ type: 'users', re: m.id, users: takeWithin(all.slice(0, 100_000), replyBudget(ctx)) });
}
