// Who is online: one entry per logged-in user with their sessions, their room memberships (cached
// from the store so a send needs no query) and their presence. In memory only.
import type { MemberRecord, ServerRole } from './store/types.js';

/** What the registry needs from a session (a Connection). */
export interface SessionLike {
  sendLine(line: string): void;
}

export interface OnlineUser<S extends SessionLike = SessionLike> {
  readonly name: string;
  role: ServerRole;
  readonly sessions: Set<S>;
  /** Room name -> membership, mirrored from the store for every room the user is in. */
  readonly rooms: Map<string, MemberRecord>;
  state: 'online' | 'away';
  status: string;
  /** Typing throttle: conversation key -> [last sent at, last active flag]. */
  readonly typing: Map<string, { at: number; active: boolean }>;
}

export class OnlineUsers<S extends SessionLike = SessionLike> {
  private readonly users = new Map<string, OnlineUser<S>>();

  get(name: string): OnlineUser<S> | undefined {
    return this.users.get(name);
  }

  /** Adds a session; returns the user entry and whether the user just came online. */
  add(name: string, role: ServerRole, rooms: readonly MemberRecord[], session: S): { user: OnlineUser<S>; first: boolean } {
    let user = this.users.get(name);
    const first = user === undefined;
    if (!user) {
      user = {
        name,
        role,
        sessions: new Set(),
        rooms: new Map(rooms.map((m) => [m.room, m])),
        state: 'online',
        status: '',
        typing: new Map(),
      };
      this.users.set(name, user);
    }
    user.sessions.add(session);
    return { user, first };
  }

  /** Removes a session; returns true when it was the user's last one (the user went offline). */
  remove(user: OnlineUser<S>, session: S): boolean {
    user.sessions.delete(session);
    if (user.sessions.size > 0) return false;
    this.users.delete(user.name);
    return true;
  }

  all(): IterableIterator<OnlineUser<S>> {
    return this.users.values();
  }

  get size(): number {
    return this.users.size;
  }
}
