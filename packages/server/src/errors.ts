// The server's error classes, in one place. Each says which part of hushd raised it; RequestError
// is the one that reaches clients (as an `error` reply), the others stay on the operator's side.
import { PROTOCOL_ERROR_CODES, type ProtocolErrorCode } from '@hush/protocol';

/** A request that cannot be carried out: becomes an `error` reply with the request's id. */
export class RequestError extends Error {
  constructor(
    readonly code: ProtocolErrorCode,
    message?: string,
    readonly retryAfterMs?: number,
  ) {
    // Words, never the code again: a login refused says "invalid username or password", for a
    // wrong password and an unknown user alike.
    super(message ?? PROTOCOL_ERROR_CODES[code]);
  }
}

/** UNAVAILABLE: the store cannot be reached (a database restart or a network cut); retry later. */
export type StoreErrorCode = 'NOT_FOUND' | 'ALREADY_EXISTS' | 'SCHEMA_TOO_NEW' | 'UNAVAILABLE';

/** The one error class of the store: stable codes callers (admin CLI, handlers) can branch on. */
export class StoreError extends Error {
  override readonly name = 'StoreError';
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export type AccountErrorCode = 'NOT_FOUND' | 'PASSWORD_WEAK' | 'USERNAME_INVALID' | 'USERNAME_TAKEN' | 'RATE_LIMITED';

/** Thrown by the admin-side account methods (setPassword); network paths return result codes instead. */
export class AccountError extends Error {
  override readonly name = 'AccountError';
  constructor(
    readonly code: AccountErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** A configuration value (flag, environment variable or file) that cannot be used. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** A `hushd <subcommand>` command line that does not parse. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The server's identity file is unreadable, corrupt or has unsafe permissions. */
export class IdentityFileError extends Error {
  override readonly name = 'IdentityFileError';
}

/** Too many password hashes are already queued: the login is refused for now. */
export class GateBusyError extends Error {
  override readonly name = 'GateBusyError';
}

/** The data directory holds no server (a mistyped --data-dir), or only part of one (hush.db lost beside identity.key). */
export class ServerDataError extends Error {
  override readonly name = 'ServerDataError';
}
