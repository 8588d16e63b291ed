// Who hears of a user's new device list (key_change), here and on the other nodes alike; and the
// sessions of a device removed from its account.
import type { ClusterSender } from '../cluster-sender.js';
import type { OnlineUser, OnlineUsers } from '../online-users.js';
import type { RoomRegistry } from '../rooms.js';
import type { AsyncStore } from '../store/async-store.js';
import type { Fanout } from './fanout.js';
import { wireBundle } from './replies.js';
import type { Session } from './session.js';
import { sessionDevice } from './session-devices.js';

type AudienceDeps = {
  online: Pick<OnlineUsers<Session>, 'get'>;
  rooms: Pick<RoomRegistry<Session>, 'members'>;
  store: Pick<AsyncStore, 'dmPeers' | 'roomsOf'>;
};

/**
 * `name`'s device list changed: its contacts who are online (everyone sharing a room with them and
 * everyone they have exchanged direct messages with) and its own devices learn the new bundle list,
 * here and on the other nodes. Offline contacts notice when they next fetch keys.
 */
export async function announceKeyChange(
  deps: AudienceDeps & {
    store: Pick<AsyncStore, 'listDevices'>;
    fanout: Pick<Fanout, 'broadcast'>;
    cluster: Pick<ClusterSender, 'keyChange'>;
  },
  name: string,
): Promise<void> {
  const devices = (await deps.store.listDevices(name)).slice(-32).map(wireBundle);
  const change = { type: 'key_change' as const, user: name, devices };
  deps.cluster.keyChange(change);
  deps.fanout.broadcast(change, await keyChangeAudience(deps, name));
}

/**
 * Devices of `name` were deleted from the store (by `hushd user remove-device` or by the account
 * itself): their sessions close here and on the other nodes, and everyone concerned learns the
 * devices left.
 */
export async function devicesRemoved(
  deps: Parameters<typeof announceKeyChange>[0] & { cluster: Pick<ClusterSender, 'devicesChanged'> },
  name: string,
): Promise<void> {
  await closeRemovedDevices(deps, name);
  deps.cluster.devicesChanged(name);
  await announceKeyChange(deps, name);
}

/** The sessions here of `name`'s devices that are no longer registered, closed. */
export async function closeRemovedDevices(
  deps: { online: Pick<OnlineUsers<Session>, 'get'>; store: Pick<AsyncStore, 'listDevices'> },
  name: string,
): Promise<void> {
  const online = deps.online.get(name);
  if (!online) return;
  const kept = new Set((await deps.store.listDevices(name)).map((d) => d.signKey));
  for (const s of [...online.sessions]) {
    const device = sessionDevice(s);
    if (device !== undefined && !kept.has(device)) s.close('DEVICE_UNKNOWN', 'this device was removed from the account');
  }
}

/**
 * Who here learns of `name`'s new device list: everyone online sharing a room with them, everyone
 * they exchanged direct messages with, and themselves.
 */
export async function keyChangeAudience(deps: AudienceDeps, name: string): Promise<Set<OnlineUser<Session>>> {
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
