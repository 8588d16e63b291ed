import { PROTOCOL_ERROR_CODES, type ProtocolErrorCode } from '@hush/protocol';

/** Codes the SDK raises itself, on top of the protocol's error codes. */
export const CLIENT_ERROR_CODES = {
  SERVER_KEY_CHANGED: 'the server key changed since it was pinned',
  UNTRUSTED_SERVER: 'the server is not trusted (first contact needs an expected fingerprint or a trust decision)',
  CONNECTION_CLOSED: 'the connection is closed',
  CONNECT_FAILED: 'could not connect to the server',
  TIMEOUT: 'the server did not answer in time',
  NOT_LOGGED_IN: 'log in first',
  DEVICE_IN_USE: "another process on this computer is logged in with this device: one at a time (they would break each other's encryption)",
  PASSWORD_REQUIRED: 'a password is needed (this device is not bound to the account)',
  UNEXPECTED_REPLY: 'the server sent an unexpected reply',
  E2E_KEY_CHANGED: "the contact's keys changed since you verified them: compare the safety number and verify again",
  E2E_NO_DEVICES: 'the user has not logged in on any device yet (no device keys to encrypt to)',
  E2E_BAD_KEYS: 'the key directory returned an invalid device bundle',
  E2E_NO_PREKEYS: "none of the user's devices has published prekeys yet (they log in once with a current client)",
  E2E_ROOM_KEY: 'a member left the end-to-end room before this message went out under the key it was sealed for: send it again',
  E2E_ROOM_DOWNGRADE: 'the room was end-to-end encrypted and the server now calls it open: nothing is sent to it in clear',
  FILE_NOT_FOUND: 'no such file offer',
  FILE_IO: 'file could not be read or written',
  FILE_CORRUPT: 'the received file is corrupt or incomplete',
  TEXT_TOO_LONG: 'the text is longer than the server accepts (client.limits.maxTextLength): split it',
  FILE_NAME_INVALID: 'the file name is empty or unusable',
  NOT_IMPLEMENTED: 'not implemented yet',
} as const;

export type ClientErrorCode = keyof typeof CLIENT_ERROR_CODES;
export type HushErrorCode = ProtocolErrorCode | ClientErrorCode;

/** The one error class of @hush/client: a stable `code` (protocol codes plus CLIENT_ERROR_CODES). */
export class HushError extends Error {
  override readonly name = 'HushError';
  readonly code: HushErrorCode;
  // Declared, not a field: an error without them prints without `retryAfterMs: undefined, [cause]: undefined`.
  declare readonly retryAfterMs?: number;

  constructor(code: HushErrorCode, message?: string, options: { cause?: unknown; retryAfterMs?: number } = {}) {
    super(message ?? defaultMessage(code), options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
  }
}

function defaultMessage(code: HushErrorCode): string {
  return code in CLIENT_ERROR_CODES ? CLIENT_ERROR_CODES[code as ClientErrorCode] : PROTOCOL_ERROR_CODES[code as ProtocolErrorCode];
}

export function isHushError(value: unknown, code?: HushErrorCode): value is HushError {
  return value instanceof HushError && (code === undefined || value.code === code);
}
