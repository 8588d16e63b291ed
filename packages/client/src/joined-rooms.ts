import type { ServerMessageOf } from '@hush/protocol';
import type { RoomInfo } from './types.js';

/** The rooms the user is in, kept current from the welcome, room lists and room events. */
export class JoinedRooms {
  private readonly rooms = new Map<string, RoomInfo>();
  /** This client's create, join and part calls whose event has not come yet ("part den"). */
  private readonly calls = new Set<string>();

  /** What `HushClient.rooms` shows. */
  get view(): ReadonlyMap<string, RoomInfo> {
    return this.rooms;
  }

  names(): string[] {
    return [...this.rooms.keys()];
  }

  /**
   * A welcome or a room list: the joined ones among `rooms` replace what was known. Returns the
   * difference: the rooms joined now that were not before, and the names of those left.
   */
  replace(rooms: readonly RoomInfo[]): RoomChanges {
    const before = new Set(this.rooms.keys());
    this.rooms.clear();
    for (const r of rooms) if (r.joined) this.rooms.set(r.room, roomInfo(r));
    return {
      joined: [...this.rooms.values()].filter((r) => !before.has(r.room)),
      left: [...before].filter((room) => !this.rooms.has(room)),
    };
  }

  clear(): void {
    this.rooms.clear();
    this.calls.clear();
  }

  /**
   * This client creates, joins or leaves `room`: the event about us that follows is its own doing,
   * not news from another device. Returns the undo, for a call the server refused (no event comes).
   */
  calling(event: OwnMove, room: string): () => void {
    const call = `${event} ${room}`;
    this.calls.add(call);
    return () => this.calls.delete(call);
  }

  /** After a reconnect: an event a call was waiting for may have been lost with the connection. */
  forgetCalls(): void {
    this.calls.clear();
  }

  /**
   * True for a create, join or part of this user that no call of this client asked for and that
   * changes its list (a room not known joined, or a known one left): made on another device of the
   * account. Call it before `apply`.
   */
  madeElsewhere(m: ServerMessageOf<'room_event'>, me: boolean): boolean {
    if (!me || !isOwnMove(m.event)) return false;
    if (this.calls.delete(`${m.event} ${m.room}`)) return false;
    return this.rooms.has(m.room) === (m.event === 'part');
  }

  left(room: string): void {
    this.rooms.delete(room);
  }

  topicSet(room: string, topic: string): void {
    const info = this.rooms.get(room);
    if (info) info.topic = topic;
  }

  /**
   * Follows a room event (`me`: it is about this user). True when this user joined or created a
   * room not known yet (e.g. on another device): the caller fetches the list again for its details,
   * its kind above all.
   */
  apply(m: ServerMessageOf<'room_event'>, me: boolean): boolean {
    const info = this.rooms.get(m.room);
    switch (m.event) {
      case 'join':
      case 'create':
        if (info && !me) info.members++;
        return me && !info;
      case 'part':
      case 'kick':
      case 'ban':
        if (me) this.rooms.delete(m.room);
        else if (info) info.members = Math.max(0, info.members - 1);
        return false;
      case 'topic':
        if (info && m.topic !== undefined) info.topic = m.topic;
        return false;
      case 'role':
        if (info && me && m.role !== undefined) info.role = m.role;
        return false;
      default:
        return false;
    }
  }
}

/** How the joined rooms changed between two lists of them. */
export interface RoomChanges {
  joined: RoomInfo[];
  left: string[];
}

/** The room events a user's own call causes. */
export type OwnMove = 'create' | 'join' | 'part';

function isOwnMove(event: string): event is OwnMove {
  return event === 'create' || event === 'join' || event === 'part';
}

/** A copy with only RoomInfo's fields (the wire object may carry more). */
export function roomInfo(r: RoomInfo): RoomInfo {
  return {
    room: r.room,
    topic: r.topic,
    kind: r.kind,
    members: r.members,
    joined: r.joined,
    ...(r.role === undefined ? {} : { role: r.role }),
  };
}
