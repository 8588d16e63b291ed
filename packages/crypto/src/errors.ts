/**
 * The one table of error codes for @hush/crypto. Messages are deliberately
 * generic: a failure must not tell an attacker which check tripped (Fernet's
 * rule), so detail goes into `cause` for local debugging only.
 */
export const CRYPTO_ERROR_CODES = {
  INVALID_TOKEN: 'invalid token',
  RECORD_REJECTED: 'record rejected (replayed, reordered, dropped or altered)',
  HANDSHAKE_FAILED: 'handshake failed',
  BAD_SIGNATURE: 'server signature is invalid',
  LOW_ORDER_POINT: 'peer sent a low-order public key (all-zero shared secret)',
  VERSION_MISMATCH: 'no common protocol version, or a version downgrade was detected',
  BAD_BUNDLE: 'device key bundle is invalid',
  BOX_OPEN_FAILED: 'sealed message could not be opened',
  BAD_KEY: 'key has the wrong length or format',
  FILE_CORRUPT: 'file is corrupt, reordered or incomplete',
  INVALID_ARGUMENT: 'invalid argument',
  BAD_PREKEY_SIGNATURE: 'signed prekey signature is invalid',
  PREKEY_UNKNOWN: 'the prekey this session was started with is gone (used or expired): start a new session',
  MESSAGE_REPLAYED: 'session message was already received (replayed, or its key was reused)',
  TOO_MANY_SKIPPED: 'session message is too far ahead (more skipped messages than allowed)',
  SESSION_OUT_OF_SYNC: 'session message does not fit this session (state restored or lost, or message altered): start a new session',
  SESSION_MISMATCH: 'session message starts another session: accept it as a new session',
  SESSION_STATE_INVALID: 'stored session state is corrupt or of an unknown version: start a new session',
  SENDER_KEY_UNKNOWN:
    'room message was sent under a sender key this device does not hold (sent before it got the key, or the key has not arrived)',
  SENDER_SIGNATURE_INVALID: 'room message is not signed by the sender key it names (forged or altered)',
} as const;

export type CryptoErrorCode = keyof typeof CRYPTO_ERROR_CODES;

export class CryptoError extends Error {
  readonly code: CryptoErrorCode;

  constructor(code: CryptoErrorCode, options?: { cause?: unknown }) {
    super(CRYPTO_ERROR_CODES[code], options);
    this.name = 'CryptoError';
    this.code = code;
  }
}

/** True when `err` is a CryptoError (optionally with the given code). */
export function isCryptoError(err: unknown, code?: CryptoErrorCode): err is CryptoError {
  return err instanceof CryptoError && (code === undefined || err.code === code);
}
