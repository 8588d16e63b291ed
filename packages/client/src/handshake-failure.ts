// Why a handshake failed, in words a user can act on. The crypto layer's codes stay in `cause`.
import { isCryptoError } from '@hush/crypto';
import { HushError } from './errors.js';

const INTERCEPTED = 'someone may be intercepting the connection';

/** Plain-words reasons per @hush/crypto error code raised by ClientHandshake.receive. */
const REASONS: Readonly<Record<string, string>> = {
  BAD_SIGNATURE: `the server's signature does not verify: ${INTERCEPTED}`,
  LOW_ORDER_POINT: `the server offered a low-order key (one that would make the session key guessable): ${INTERCEPTED}`,
  VERSION_MISMATCH: `a protocol version was removed in transit (downgrade): ${INTERCEPTED}`,
  HANDSHAKE_FAILED: `the server's handshake confirmation does not match: the handshake was altered in transit, ${INTERCEPTED}`,
  BAD_KEY: 'the server sent a malformed key in its handshake',
};

/** HANDSHAKE_FAILED whose message names the reason (the CryptoError stays in `cause`). */
export function handshakeFailure(cause: unknown): HushError {
  const reason = isCryptoError(cause) ? REASONS[cause.code] : undefined;
  return new HushError('HANDSHAKE_FAILED', `handshake refused: ${reason ?? 'the server failed to authenticate the handshake'}`, { cause });
}
