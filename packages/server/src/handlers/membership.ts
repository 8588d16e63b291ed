// Who may do what: the logged-in user, their room memberships (cached on the online user) and ranks.
import type { OnlineUser, OnlineUsers } from '../online-users.js';
import type { RoomRegistry } from '../rooms.js';
import type { AsyncStore } from '../store/async-store.js';
import type { MemberRecord, RoomRecord, RoomRole } from '../store/types.js';
import { RequestError } from '../errors.js';
import type { Session } from './session.js';

export function requireUser(session: Session): OnlineUser<Session> {
  if (!session.user) throw new RequestError('AUTH_REQUIRED', 'log in first');
  return session.user;
}

const RANK: Record<RoomRole, number> = { member: 1, op: 2, owner: 3 };

export function roleRank(role: RoomRole | undefined): number {
  return role ? RANK[role] : 0;
}

type Rooms = { rooms: Pick<RoomRegistry<Session>, 'room'> };

/** The room's membership of `user` (from memory), or NOT_FOUND / NOT_MEMBER. */
export async function requireMember(deps: Rooms, user: OnlineUser<Session>, room: string): Promise<MemberRecord> {
  return user.rooms.get(room) ?? notMember(deps, room);
}

/** Why a user who is not in `room` cannot act there: NOT_FOUND or NOT_MEMBER. */
export async function notMember(deps: Rooms, room: string): Promise<never> {
  if (!(await deps.rooms.room(room))) throw new RequestError('NOT_FOUND', `no room #${room}`);
  throw new RequestError('NOT_MEMBER', `not a member of #${room}`);
}

export async function requireRoom(deps: Rooms, room: string): Promise<RoomRecord> {
  const record = await deps.rooms.room(room);
  if (!record) throw new RequestError('NOT_FOUND', `no room #${room}`);
  return record;
}

/** Keeps an online user's cached membership in step with the store. */
export async function syncMembership(
  deps: { store: Pick<AsyncStore, 'getMember'>; online: Pick<OnlineUsers<Session>, 'get'> },
  room: string,
  name: string,
): Promise<void> {
  if (!deps.online.get(name)) return;
  const member = await deps.store.getMember(room, name);
  // Looked up again: the user may have gone offline (or come back) while the store answered.
  const user = deps.online.get(name);
  if (!user) return;
  if (member) user.rooms.set(room, member);
  else user.rooms.delete(room);
}

export async function roomInfo(
  deps: { rooms: Pick<RoomRegistry<Session>, 'memberCount'> },
  room: RoomRecord,
  member: MemberRecord | undefined,
) {
  return {
    room: room.name,
    topic: room.topic,
    kind: room.kind,
    members: await deps.rooms.memberCount(room.name),
    joined: member !== undefined,
    ...(member ? { role: member.role } : {}),
  };
}
