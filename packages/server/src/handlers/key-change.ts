// Who hears of a user's new device list (key_change), here and on the other nodes alike.
import type { OnlineUser, OnlineUsers } from '../online-users.js';
import type { RoomRegistry } from '../rooms.js';
import type { AsyncStore } from '../store/async-store.js';
import type { Session } from './session.js';

/**
 * Who here learns of `name`'s new device list: everyone online sharing a room with them, everyone
 * they exchanged direct messages with, and themselves.
 */
export async function keyChangeAudience(
  deps: {
    online: Pick<OnlineUsers<Session>, 'get'>;
    rooms: Pick<RoomRegistry<Session>, 'members'>;
    store: Pick<AsyncStore, 'dmPeers' | 'roomsOf'>;
  },
  name: string,
): Promise<Set<OnlineUser<Session>>> {
  const self = deps.online.get(name);
  const [peers, rooms] = await Promise.all([
    deps.store.dmPeers(name),
    self ? Promise.resolve([...self.rooms.keys()]) : deps.store.roomsOf(name).then((ms) => ms.map((m) => m.room)),
  ]);
  const users = new Set<OnlineUser<Session>>();
  for (const room of rooms) for (const u of deps.rooms.members(room)) users.add(u);
  for (const peer of peers) {
    const online = deps.online.get(peer);
    if (online) users.add(online);
  }
  if (self) users.add(self);
  return users;
}
