// @hush/crypto: every public export is named here. Pure: bytes in, bytes out.

export { CRYPTO_ERROR_CODES, CryptoError, isCryptoError } from './errors.js';
export { sha512, hmacSha512, hkdf } from './kdf.js';
export { TOKEN_VERSION, sealToken, openToken, tokenTimestamp, tokenToText, tokenFromText } from './token.js';
export {
  SessionCipher,
  RECORD_VERSION,
  RECORD_HEADER_LENGTH,
  RECORD_TAG_LENGTH,
  RECORD_OVERHEAD,
  DEFAULT_REKEY_AFTER_RECORDS,
  DEFAULT_REKEY_AFTER_BYTES,
} from './session-cipher.js';
export { MAX_VERSIONS, ServerIdentity, ClientHandshake, ServerHandshake } from './handshake.js';
export { fingerprint, shortFingerprint, checkPin, safetyNumber, SAFETY_NUMBER_ITERATIONS } from './fingerprint.js';
export { DeviceIdentity, verifyBundle, deviceId, signDeviceLogin, verifyDeviceLogin } from './device.js';
export { SequenceTracker } from './sequence.js';
export { FILE_KEY_LENGTH, FILE_NONCE_PREFIX_LENGTH, FILE_CHUNK_OVERHEAD, FileSealer, FileOpener, createFileSealer } from './file.js';
export { PASSWORD_DEFAULTS, hashPassword, verifyPassword, passwordNeedsRehash } from './password.js';
export {
  PREKEY_BUNDLE_VERSION,
  MAX_ONE_TIME_PREKEYS,
  DEFAULT_PREKEY_POLICY,
  generateSignedPrekey,
  generateOneTimePrekeys,
  publicSignedPrekey,
  verifySignedPrekey,
  verifyPrekeyBundle,
  encodeSignedPrekey,
  decodeSignedPrekey,
  encodePrekeyBundle,
  decodePrekeyBundle,
  planSignedPrekeys,
  oneTimePrekeysToAdd,
} from './prekeys.js';
export { X3DH_INFO } from './x3dh.js';
export {
  MAX_SKIP,
  MAX_SKIPPED_KEYS,
  SESSION_MESSAGE_VERSION,
  SESSION_STATE_VERSION,
  RatchetSession,
  decodeSessionMessage,
} from './ratchet.js';
export {
  SENDER_KEY_MESSAGE_VERSION,
  SENDER_KEY_DISTRIBUTION_VERSION,
  SENDER_KEY_STATE_VERSION,
  SENDER_KEY_MAX_SKIP,
  SENDER_KEY_MAX_SKIPPED,
  OutboundSenderKey,
  InboundSenderKey,
  encodeSenderKeyDistribution,
  decodeSenderKeyDistribution,
  decodeSenderKeyMessage,
} from './sender-keys.js';

export type { CryptoErrorCode } from './errors.js';
export type { SealTokenOptions, OpenTokenOptions } from './token.js';
export type { SessionCipherOptions } from './session-cipher.js';
export type {
  ClientHello,
  ServerHello,
  ClientFinished,
  HandshakeResult,
  HandshakeCipherOptions,
  ClientHandshakeOptions,
  ServerHandshakeOptions,
} from './handshake.js';
export type { DeviceBundle } from './device.js';
export type { SequenceStatus, SequenceTrackerState, SequenceTrackerOptions } from './sequence.js';
export type { FileSealerOptions } from './file.js';
export type { PasswordHashOptions } from './password.js';
export type {
  RandomBytes,
  SignedPrekey,
  SignedPrekeyPair,
  OneTimePrekey,
  OneTimePrekeyPair,
  PrekeyBundle,
  PrekeyLookup,
  PrekeyPolicy,
  SignedPrekeyPlan,
} from './prekeys.js';
export type { X3dhHeader } from './x3dh.js';
export type { SessionMessage, DecryptOptions } from './ratchet.js';
export type { SenderKeyDistribution, SenderKeyMessage, SenderKeyOrder, OpenedSenderKeyMessage } from './sender-keys.js';
