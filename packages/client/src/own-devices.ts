import { requestInVersion, schemas } from '@hush/protocol';
import { HushError } from './errors.js';
import type { RequestBody } from './requests.js';

/** What this device says when its own account's device set changed since it last looked. */
export interface OwnDevicesNotice {
  level: 'info' | 'warn';
  code: 'OWN_DEVICE_ADDED' | 'OWN_DEVICE_REMOVED';
  text: string;
}

/**
 * Said on this device when, removed from the account, it logs in again with the password: what was
 * sealed for the account's devices meanwhile was sealed without it, and stays closed to it.
 */
export const DEVICE_READDED_NOTICE = {
  level: 'warn',
  code: 'DEVICE_READDED',
  text: 'this device had been removed from your account and is on it again: what was sent to you while it was removed stays closed to it',
} as const;

/**
 * The account's device ids before (undefined: never seen from this device) and now. An added device
 * is a warning: whoever logged in with the password reads from now on. A removed one (by the admin)
 * is said plainly. Nothing at first sight.
 */
export function ownDevicesNotice(before: readonly string[] | undefined, now: readonly string[]): OwnDevicesNotice | undefined {
  if (before === undefined) return undefined;
  const added = now.filter((id) => !before.includes(id));
  if (added.length > 0) {
    return {
      level: 'warn',
      code: 'OWN_DEVICE_ADDED',
      text: `a new device was added to your account: if it was not you, remove it and change your password (both ask your current password); ${added.length === 1 ? 'its id' : 'their ids'}: ${added.join(', ')}`,
    };
  }
  const left = now.length;
  if (left < before.length) {
    return {
      level: 'info',
      code: 'OWN_DEVICE_REMOVED',
      text: `a device was removed from your account: it is logged out and can log in again only with the password (${left} ${left === 1 ? 'device' : 'devices'} left)`,
    };
  }
  return undefined;
}

/**
 * The `remove_device` request for the device `id` (as listDevices gives it), on a connection that
 * negotiated protocol `version`; throws HushError when the server cannot take it or the id is no id.
 */
export function removeDeviceRequest(id: string, password: string, version: number): RequestBody {
  requireInVersion('remove_device', version, 'this server cannot remove devices yet: ask its admin (hushd user remove-device)');
  if (!schemas.removeDevice.shape.device.safeParse(id).success) {
    throw new HushError('NOT_FOUND', 'that is not a device id: the ids are 22 letters, digits, - and _, as the device list shows them');
  }
  return { type: 'remove_device', device: id, password };
}

/** The `password_change` request: the account's password changed with the current one. */
export function passwordChangeRequest(current: string, next: string, version: number): RequestBody {
  requireInVersion('password_change', version, 'this server cannot change passwords yet: ask its admin (hushd user passwd)');
  return { type: 'password_change', password: current, newPassword: next };
}

/** Requests added by a later protocol version are refused before they are sent, in words. */
function requireInVersion(type: 'remove_device' | 'password_change', version: number, refusal: string): void {
  if (!requestInVersion(type, version)) throw new HushError('UNSUPPORTED_VERSION', refusal);
}
