// In-memory index of online members per room (for fan-out without a query) and member counts.
// The store stays the source of truth for membership and roles; this mirrors it for online users.
import type { OnlineUser, SessionLike } from './online-users.js';
import type { Store } from './store/types.js';

export class RoomRegistry<S extends SessionLike = SessionLike> {
  private readonly online = new Map<string, Set<OnlineUser<S>>>();
  private readonly counts = new Map<string, number>();

  constructor(private readonly store: Store) {}

  /** Online members of `room`. */
  members(room: string): ReadonlySet<OnlineUser<S>> {
    return this.online.get(room) ?? EMPTY;
  }

  enter(room: string, user: OnlineUser<S>): void {
    let set = this.online.get(room);
    if (!set) this.online.set(room, (set = new Set()));
    set.add(user);
  }

  leave(room: string, user: OnlineUser<S>): void {
    const set = this.online.get(room);
    if (!set) return;
    set.delete(user);
    if (set.size === 0) this.online.delete(room);
  }

  /** Member count of a room (all members, online or not), cached after the first lookup. */
  memberCount(room: string): number {
    let count = this.counts.get(room);
    if (count === undefined) {
      count = this.store.listMembers(room).length;
      this.counts.set(room, count);
    }
    return count;
  }

  /** Keeps the cached count true after adding (+1) or removing (-1) a member in the store. */
  adjustCount(room: string, delta: number): void {
    const count = this.counts.get(room);
    if (count !== undefined) this.counts.set(room, Math.max(0, count + delta));
  }
}

const EMPTY: ReadonlySet<never> = new Set();
