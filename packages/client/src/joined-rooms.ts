import type { ServerMessageOf } from '@hush/protocol';
import type { RoomInfo } from './types.js';

/** The rooms the user is in, kept current from the welcome, room lists and room events. */
export class JoinedRooms {
  private readonly rooms = new Map<string, RoomInfo>();

  /** What `HushClient.rooms` shows. */
  get view(): ReadonlyMap<string, RoomInfo> {
    return this.rooms;
  }

  names(): string[] {
    return [...this.rooms.keys()];
  }

  /** A welcome or a room list: the joined ones among `rooms` replace what was known. */
  replace(rooms: readonly RoomInfo[]): void {
    this.rooms.clear();
    for (const r of rooms) if (r.joined) this.rooms.set(r.room, roomInfo(r));
  }

  clear(): void {
    this.rooms.clear();
  }

  left(room: string): void {
    this.rooms.delete(room);
  }

  topicSet(room: string, topic: string): void {
    const info = this.rooms.get(room);
    if (info) info.topic = topic;
  }

  /**
   * Follows a room event (`me`: it is about this user). True when this user joined a room not known
   * yet (elsewhere, e.g. another device): the caller fetches the list again for its details.
   */
  apply(m: ServerMessageOf<'room_event'>, me: boolean): boolean {
    const info = this.rooms.get(m.room);
    switch (m.event) {
      case 'join':
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
