// The words of a person's own account: /devices remove logs a lost device out for good, /passwd
// changes the password; both with the account's current password (ChatController asks; the server
// checks it as at a login).
import { describeError, errorText } from './sdk.js';

const DEVICE_ID = /^[A-Za-z0-9_-]{22}$/;
const thisDevice = (id: string): string => `${id} is this device: remove it from another of your devices, or ask the server's admin`;

/** Why `id` cannot be removed, known before the password is asked (no password spent on a typo); undefined when it may be. */
export function refusalBeforeAsking(id: string, thisDeviceId: string | undefined): string | undefined {
  if (!DEVICE_ID.test(id)) return `${id} is not a device id (22 letters, digits, - and _): /devices lists yours`;
  return id === thisDeviceId ? thisDevice(id) : undefined;
}

/** Why `id` cannot be removed, by the account's device list (before the server is asked); undefined when it can. */
export function removalRefusal(id: string, devices: readonly { id: string; thisDevice: boolean }[]): string | undefined {
  const device = devices.find((d) => d.id === id);
  if (!device) return `your account has no device ${id}: /devices lists yours`;
  return device.thisDevice ? thisDevice(id) : undefined;
}

/** Said instead of asking a password the server cannot check now. */
export const NOT_CONNECTED = 'not connected: this needs the server; try again once hush says connected';

/** The yes/no question, its details first. */
export function removalQuestion(id: string): { question: string; details: string[] } {
  return {
    question: `Remove the device ${id} from your account?`,
    details: [
      `the device ${id} is logged out at once and can log in again only with your password`,
      'your contacts are told that your devices changed',
    ],
  };
}

export const passwordQuestion = (id: string): string => `your password (it is not shown), to remove the device ${id}:`;

export const removalKept = (id: string, why: string): string => `the device ${id} stays: ${why}`;

export const removalDone = (id: string): string =>
  `removed the device ${id}: it is logged out and can log in again only with your password (if it may know your password, change it too with /passwd)`;

/** A refusal of a request that carried the password, in words: the password's as at the login form, the server's own otherwise. */
function passwordRefusal(err: unknown): string {
  const { code } = describeError(err);
  const retry = (err as { retryAfterMs?: unknown }).retryAfterMs;
  if (code === 'AUTH_FAILED') return 'wrong password';
  if (code === 'RATE_LIMITED' && typeof retry === 'number') {
    return `too many wrong passwords: try again in ${Math.max(1, Math.ceil(retry / 1000))} s`;
  }
  return errorText(err);
}

export const removalFailed = (id: string, err: unknown): string => removalKept(id, passwordRefusal(err));

export const PASSWORD_QUESTIONS = {
  current: 'your current password (it is not shown):',
  next: 'the new password (it is not shown):',
  again: 'the new password again:',
} as const;

export const passwordKept = (why: string): string => `your password stays as it was: ${why}`;

export const passwordChangeFailed = (err: unknown): string => passwordKept(passwordRefusal(err));

export const PASSWORD_CHANGED =
  'password changed: new devices log in with it; your devices already logged in stay so (/devices lists them, /devices remove id logs one out)';
