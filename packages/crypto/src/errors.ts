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
