// The rooms hushd itself makes at start: the default room, and the rooms the admin lists as open.
import type { HushdConfig } from './config.js';
import { ConfigError, StoreError } from './errors.js';
import { DEFAULT_ROOM_KIND } from './handlers/rooms.js';
import type { AsyncStore } from './store/async-store.js';

/**
 * Creates the default room and every room of config.openRooms that does not exist yet: the listed
 * ones open, the default room end-to-end unless listed. A listed room that already exists
 * end-to-end stops the start: a room never drops from encrypted to open.
 */
export async function ensureServerRooms(store: Pick<AsyncStore, 'createRoom' | 'getRoom'>, config: HushdConfig): Promise<void> {
  const open = new Set(config.openRooms);
  for (const name of config.openRooms) {
    const room = await store.getRoom(name);
    if (room && room.kind !== 'open') {
      throw new ConfigError(
        `room #${name} is listed in openRooms but is end-to-end encrypted: a room never drops from encrypted to open (take it off openRooms, or pick a new name for the open room)`,
      );
    }
  }
  for (const name of new Set([config.defaultRoom, ...config.openRooms])) {
    if (await store.getRoom(name)) continue;
    try {
      await store.createRoom(name, '', null, Date.now(), open.has(name) ? 'open' : DEFAULT_ROOM_KIND);
    } catch (err) {
      // Another node starting on the same database created it a moment ago.
      if (!(err instanceof StoreError && err.code === 'ALREADY_EXISTS')) throw err;
    }
  }
}
