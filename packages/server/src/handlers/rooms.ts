// room_create / room_join / room_part / room_list / room_topic / room_members / users_list.
import type { ClientMessageOf } from '@hush/protocol';
import type { ListPage, RoomKind } from '../store/types.js';
import { RequestError } from '../errors.js';
import { notMember, requireMember, requireRoom, requireUser, roleRank, roomInfo } from './membership.js';
import { replyBudget, takeWithin } from './replies.js';
import type { HushdConfig } from '../config.js';
import type { OnlineUsers } from '../online-users.js';
import type { RoomRegistry } from '../rooms.js';
import type { AsyncStore } from '../store/async-store.js';
import type { Fanout } from './fanout.js';
import type { MessageBatch } from './message-batch.js';
import type { PresenceBatch } from './presence-batch.js';
import type { Session } from './session.js';

/**
 * The kind of a room created without one (and of the default room when the server first makes it,
 * unless the admin lists it in config.openRooms): every room is end-to-end encrypted by default.
 */
export const DEFAULT_ROOM_KIND: RoomKind = 'e2e';

/** What the room requests work with. */
export interface RoomHandlerDeps {
  store: AsyncStore;
  /** The live configuration (the default room, the frame limit lists are cut to). */
  config: Pick<HushdConfig, 'defaultRoom' | 'limits'>;
  online: Pick<OnlineUsers<Session>, 'get'>;
  rooms: RoomRegistry<Session>;
  fanout: Pick<Fanout, 'broadcast'>;
  batch: Pick<MessageBatch, 'roomEvent' | 'roomNotice'>;
  presence: Pick<PresenceBatch, 'of'>;
  now(): number;
}

export class RoomHandlers {
  constructor(private readonly deps: RoomHandlerDeps) {}

  async create(session: Session, m: ClientMessageOf<'room_create'>): Promise<void> {
    const { deps } = this;
    const user = requireUser(session);
    if (await deps.rooms.room(m.room)) throw new RequestError('ALREADY_EXISTS', `#${m.room} exists`);
    // An open room is readable by the server: a server admin's decision, never a member's.
    if (m.kind === 'open' && user.role !== 'admin') throw new RequestError('FORBIDDEN', 'only a server admin creates an open room');
    const now = deps.now();
    await deps.rooms.create(m.room, m.topic ?? '', user.name, now, m.kind ?? DEFAULT_ROOM_KIND);
    await deps.store.addMember(m.room, user.name, 'owner');
    deps.rooms.adjustCount(m.room, 1);
    user.rooms.set(m.room, { room: m.room, user: user.name, role: 'owner', mutedUntil: null });
    deps.rooms.enter(m.room, user);
    session.send({ type: 'ok', re: m.id });
    deps.fanout.broadcast({ type: 'room_event', room: m.room, event: 'create', user: user.name, role: 'owner', ts: now }, [user]);
  }

  async join(session: Session, m: ClientMessageOf<'room_join'>): Promise<void> {
    const { deps } = this;
    const user = requireUser(session);
    await requireRoom(deps, m.room);
    if (user.rooms.has(m.room)) {
      session.send({ type: 'ok', re: m.id });
      return;
    }
    await deps.store.addMember(m.room, user.name, 'member');
    deps.rooms.adjustCount(m.room, 1);
    // From the store: a mute the user left with (part or kick) comes back with them.
    const member = (await deps.store.getMember(m.room, user.name)) ?? {
      room: m.room,
      user: user.name,
      role: 'member' as const,
      mutedUntil: null,
    };
    user.rooms.set(m.room, member);
    deps.rooms.enter(m.room, user);
    session.send({ type: 'ok', re: m.id });
    deps.batch.roomNotice(m.room, { type: 'room_event', room: m.room, event: 'join', user: user.name, ts: deps.now() });
  }

  async part(session: Session, m: ClientMessageOf<'room_part'>): Promise<void> {
    const { deps } = this;
    const user = requireUser(session);
    if (m.room === deps.config.defaultRoom) throw new RequestError('FORBIDDEN', `everyone stays in #${m.room}, the server's default room`);
    await requireMember(deps, user, m.room);
    await removeFromRoom(deps, m.room, user.name, () => {
      session.send({ type: 'ok', re: m.id });
      deps.batch.roomEvent({ type: 'room_event', room: m.room, event: 'part', user: user.name, ts: deps.now() });
    });
  }

  async list(session: Session, m: ClientMessageOf<'room_list'>): Promise<void> {
    const { deps } = this;
    const user = requireUser(session);
    const page = await listPage(
      deps,
      m,
      (p) => deps.store.listRooms(p),
      (r) => r.name,
      (r) => roomInfo(deps, r, user.rooms.get(r.name)),
    );
    session.send({ type: 'rooms', re: m.id, rooms: page.items, ...(page.next !== undefined ? { next: page.next } : {}) });
  }

  async topic(session: Session, m: ClientMessageOf<'room_topic'>): Promise<void> {
    const { deps } = this;
    const user = requireUser(session);
    await requireRoom(deps, m.room);
    const member = user.rooms.get(m.room);
    if (user.role !== 'admin' && roleRank(member?.role) < roleRank('op')) {
      if (!member) await notMember(deps, m.room);
      throw new RequestError('FORBIDDEN', `only the operators and the owner of #${m.room} set its topic`);
    }
    await deps.store.setTopic(m.room, m.topic);
    session.send({ type: 'ok', re: m.id });
    deps.batch.roomEvent({
      type: 'room_event',
      room: m.room,
      event: 'topic',
      user: user.name,
      by: user.name,
      topic: m.topic,
      ts: deps.now(),
    });
  }

  async members(session: Session, m: ClientMessageOf<'room_members'>): Promise<void> {
    const { deps } = this;
    const user = requireUser(session);
    if (user.role !== 'admin') await requireMember(deps, user, m.room);
    else await requireRoom(deps, m.room);
    const page = await listPage(
      deps,
      m,
      (p) => deps.store.listMembers(m.room, p),
      (r) => r.user,
      (member) => ({ user: member.user, role: member.role, ...deps.presence.of(member.user) }),
    );
    session.send({
      type: 'members',
      re: m.id,
      room: m.room,
      members: page.items,
      ...(page.next !== undefined ? { next: page.next } : {}),
    });
  }

  async users(session: Session, m: ClientMessageOf<'users_list'>): Promise<void> {
    const { deps } = this;
    requireUser(session);
    const page = await listPage(
      deps,
      m,
      (p) => deps.store.listUsers(p),
      (u) => u.name,
      (u) => ({ user: u.name, ...deps.presence.of(u.name), role: u.role }),
    );
    session.send({ type: 'users', re: m.id, users: page.items, ...(page.next !== undefined ? { next: page.next } : {}) });
  }
}

/**
 * Removes a member in the store, then (`announce`, while they are still in the online index: they
 * hear it too) from the online index (part and kick).
 */
export async function removeFromRoom(
  deps: Pick<RoomHandlerDeps, 'online' | 'rooms' | 'store'>,
  room: string,
  name: string,
  announce: () => void,
): Promise<void> {
  await deps.store.removeMember(room, name);
  announce();
  deps.rooms.adjustCount(room, -1);
  const online = deps.online.get(name);
  if (online) {
    online.rooms.delete(room);
    deps.rooms.leave(room, online);
  }
}

/**
 * Puts `name` (back) into the default room, in the store and the room's count; false if already a
 * member. The caller announces the join once the user may hear it.
 */
export async function addToDefaultRoom(
  deps: Pick<RoomHandlerDeps, 'rooms' | 'store'> & { config: Pick<HushdConfig, 'defaultRoom'> },
  name: string,
): Promise<boolean> {
  const lobby = deps.config.defaultRoom;
  if (await deps.store.getMember(lobby, name)) return false;
  await deps.store.addMember(lobby, name, 'member');
  deps.rooms.adjustCount(lobby, 1);
  return true;
}

const MAX_PAGE = 1000;

/**
 * One page of a name-ordered list: at most `limit` items, cut further to fit one record, and the
 * cursor of the next page (the last name sent) when more remain.
 */
async function listPage<R, W>(
  deps: Pick<RoomHandlerDeps, 'config'>,
  request: { cursor?: string | undefined; limit?: number | undefined },
  fetch: (page: ListPage) => Promise<R[]>,
  name: (row: R) => string,
  wire: (row: R) => W | Promise<W>,
): Promise<{ items: W[]; next?: string }> {
  const limit = Math.min(request.limit ?? MAX_PAGE, MAX_PAGE);
  const rows = await fetch({ ...(request.cursor !== undefined ? { after: request.cursor } : {}), limit: limit + 1 });
  const items = await Promise.all(rows.slice(0, limit).map(wire));
  const kept = takeWithin(items, replyBudget(deps.config.limits));
  const last = rows[kept.length - 1];
  const more = rows.length > kept.length;
  return { items: kept, ...(more && last ? { next: name(last) } : {}) };
}
