// The device (base64url sign key) each session logged in with: direct-message delivery cursors
// are per device. Kept beside the session rather than on it so Connection needs no new field.
import type { AsyncStore } from '../store/async-store.js';
import type { Session } from './session.js';

const sessionDevices = new WeakMap<Session, string>();

/** Records the device a session logged in with (login, register, device_login). */
export function bindSessionDevice(session: Session, signKey: string): void {
  sessionDevices.set(session, signKey);
}

/** The sign key of the device `session` logged in with, if it has logged in. */
export function sessionDevice(session: Session): string | undefined {
  return sessionDevices.get(session);
}

/** Moves the delivery cursor of the session's device to `msgId` (it has been sent everything up to it). */
export async function advanceCursor(store: Pick<AsyncStore, 'advanceDeviceCursor'>, session: Session, msgId: string): Promise<void> {
  const signKey = sessionDevice(session);
  if (session.user && signKey !== undefined) await store.advanceDeviceCursor(session.user.name, signKey, msgId);
}
