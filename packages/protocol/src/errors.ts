/**
 * One table of error codes for the whole protocol: decoding failures found locally and the codes a
 * server sends in `error` messages. The wire carries the code; the message is for humans.
 */
export const PROTOCOL_ERROR_CODES = {
  // Framing and decoding
  FRAME_TOO_LARGE: 'frame length exceeds the maximum frame size',
  MALFORMED_JSON: 'record is not valid UTF-8 JSON',
  SCHEMA_VIOLATION: 'message does not match its schema',
  UNKNOWN_TYPE: 'unknown message type',
  BAD_RECORD: 'record could not be authenticated',
  // Connection lifecycle
  HANDSHAKE_REQUIRED: 'the handshake must complete first',
  HANDSHAKE_FAILED: 'handshake failed',
  HANDSHAKE_TIMEOUT: 'handshake took too long',
  UNSUPPORTED_VERSION: 'no protocol version in common',
  IDLE_TIMEOUT: 'connection idle for too long',
  SERVER_SHUTDOWN: 'server is shutting down',
  QUEUE_OVERFLOW: 'peer is not reading fast enough',
  TOO_MANY_CONNECTIONS: 'too many connections from this address',
  // Accounts
  AUTH_REQUIRED: 'log in first',
  AUTH_FAILED: 'invalid username or password',
  ALREADY_AUTHENTICATED: 'already logged in',
  REGISTRATION_CLOSED: 'registration is closed on this server',
  INVALID_INVITE: 'invite code is not valid',
  USERNAME_TAKEN: 'username is taken',
  USERNAME_INVALID: 'username is not allowed',
  PASSWORD_WEAK: 'password is too short',
  DEVICE_UNKNOWN: 'this device is not registered for the account',
  // Requests
  BAD_REQUEST: 'request cannot be carried out',
  NOT_FOUND: 'no such room, user or file',
  ALREADY_EXISTS: 'already exists',
  NOT_MEMBER: 'not a member of that room',
  FORBIDDEN: 'not allowed',
  RATE_LIMITED: 'too many requests, slow down',
  MUTED: 'you are muted in this room',
  BANNED: 'banned',
  KICKED: 'kicked',
  FILE_TOO_LARGE: 'file exceeds the size limit',
  FILE_CANCELLED: 'file transfer cancelled',
  INTERNAL: 'internal server error',
} as const;

export type ProtocolErrorCode = keyof typeof PROTOCOL_ERROR_CODES;

export const PROTOCOL_ERROR_CODE_LIST = Object.keys(PROTOCOL_ERROR_CODES) as [ProtocolErrorCode, ...ProtocolErrorCode[]];

export interface ProtocolErrorOptions {
  /** Offending path inside a message, for SCHEMA_VIOLATION. */
  path?: string;
  /** The id of the refused request, when it had a well-formed one: the error answers it. */
  re?: string;
  cause?: unknown;
}

export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  readonly code: ProtocolErrorCode;
  readonly path: string | undefined;
  readonly re: string | undefined;

  constructor(code: ProtocolErrorCode, detail?: string, options: ProtocolErrorOptions = {}) {
    super(detail ? `${PROTOCOL_ERROR_CODES[code]}: ${detail}` : PROTOCOL_ERROR_CODES[code], { cause: options.cause });
    this.code = code;
    this.path = options.path;
    this.re = options.re;
  }
}

export function isProtocolError(value: unknown): value is ProtocolError {
  return value instanceof ProtocolError;
}
