// Who may do what: the logged-in user, their room memberships (cached on the online user) and ranks.
import type { OnlineUser, OnlineUsers } from '../online-users.js';
import type { RoomRegistry } from '../rooms.js';
import type { MemberRecord, RoomRecord, RoomRole, Store } from '../store/types.js';
import { RequestError } from '../errors.js';
import type { Session } from './context.js';

export function requireUser(session: Session): OnlineUser<Session> {
  if (!session.user) throw new RequestError('AUTH_REQUIRED', 'log in first');
  return session.user;
}

const RANK: Record<RoomRole, number> = { member: 1, op: 2, owner: 3 };

export function roleRank(role: RoomRole | undefined): number {
  return role ? RANK[role] : 0;
}

/** The room's membership of `user`, or NOT_FOUND / NOT_MEMBER. */
export function requireMember(deps: { store: Pick<Store, 'getRoom'> }, user: OnlineUser<Session>, room: string): MemberRecord {
  const member = user.rooms.get(room);
  if (member) return member;
  if (!deps.store.getRoom(room)) throw new RequestError('NOT_FOUND', `no room #${room}`);
  throw new RequestError('NOT_MEMBER', `not a member of #${room}`);
}

export function requireRoom(deps: { store: Pick<Store, 'getRoom'> }, room: string): RoomRecord {
  const record = deps.store.getRoom(room);
  if (!record) throw new RequestError('NOT_FOUND', `no room #${room}`);
  return record;
}

/** Keeps an online user's cached membership in step with the store. */
export function syncMembership(
  deps: { store: Pick<Store, 'getMember'>; online: Pick<OnlineUsers<Session>, 'get'> },
  room: string,
  name: string,
): void {
  const user = deps.online.get(name);
  if (!user) return;
  const member = deps.store.getMember(room, name);
  if (member) user.rooms.set(room, member);
  else user.rooms.delete(room);
}

export function roomInfo(deps: { rooms: Pick<RoomRegistry<Session>, 'memberCount'> }, room: RoomRecord, member: MemberRecord | undefined) {
  return {
    room: room.name,
    topic: room.topic,
    kind: room.kind,
    members: deps.rooms.memberCount(room.name),
    joined: member !== undefined,
    ...(member ? { role: member.role } : {}),
  };
}
