// In-memory index of online members per room (for fan-out without a query), member counts and
// room kinds. The store stays the source of truth; this mirrors what the message path reads, so a
// send costs no store round trip (the store may be a database across the network).
import type { OnlineUser, SessionLike } from './online-users.js';
import type { AsyncStore } from './store/async-store.js';
import type { RoomKind, RoomRecord } from './store/types.js';

export class RoomRegistry<S extends SessionLike = SessionLike> {
  private readonly online = new Map<string, Set<OnlineUser<S>>>();
  private readonly counts = new Map<string, number>();
  /** A room's kind never changes once it is created: each is read from the store once. */
  private readonly kinds = new Map<string, RoomKind>();

  constructor(private readonly store: Pick<AsyncStore, 'createRoom' | 'getRoom' | 'listMembers'>) {}

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

  /** The room as stored (undefined: no such room); notes its kind on the way. */
  async room(name: string): Promise<RoomRecord | undefined> {
    const record = await this.store.getRoom(name);
    if (record) this.kinds.set(name, record.kind);
    return record;
  }

  /** Creates the room in the store (StoreError ALREADY_EXISTS if it exists). */
  async create(name: string, topic: string, createdBy: string | null, now: number, kind: RoomKind): Promise<RoomRecord> {
    const record = await this.store.createRoom(name, topic, createdBy, now, kind);
    this.kinds.set(name, record.kind);
    return record;
  }

  /** The kind of a room read before (every room a logged-in user is in was), else undefined. */
  knownKind(room: string): RoomKind | undefined {
    return this.kinds.get(room);
  }

  /** The kind of `room`, from memory when known; undefined when there is no such room. */
  async kind(room: string): Promise<RoomKind | undefined> {
    return this.kinds.get(room) ?? (await this.room(room))?.kind;
  }

  /** Member count of a room (all members, online or not), cached after the first lookup. */
  async memberCount(room: string): Promise<number> {
    const cached = this.counts.get(room);
    if (cached !== undefined) return cached;
    const count = (await this.store.listMembers(room)).length;
    this.counts.set(room, count);
    return count;
  }

  /** Keeps the cached count true after adding (+1) or removing (-1) a member in the store. */
  adjustCount(room: string, delta: number): void {
    const count = this.counts.get(room);
    if (count !== undefined) this.counts.set(room, Math.max(0, count + delta));
  }
}

const EMPTY: ReadonlySet<never> = new Set();
