export { PROTOCOL_VERSION, SUPPORTED_VERSIONS, requestInVersion } from './version.js';
export {
  ProtocolError,
  PROTOCOL_ERROR_CODES,
  PROTOCOL_ERROR_CODE_LIST,
  isProtocolError,
} from './errors.js';
export {
  encodeFrame,
  FrameDecoder,
  FRAME_HEADER_SIZE,
  HANDSHAKE_MAX_FRAME_SIZE,
  DEFAULT_MAX_FRAME_SIZE,
} from './framing.js';
export { encode, decode, validate, serialize } from './codec.js';
export { MessageChannel } from './channel.js';
export { groupPieces, sealPieces } from './records.js';
export {
  toBase64Url,
  fromBase64Url,
  handshakeToWire,
  handshakeFromWire,
  bundleToWire,
  bundleFromWire,
} from './wire.js';
export { messagesJsonSchema } from './json-schema.js';
export { DIRECT_ENVELOPE_TAG, MAX_ENVELOPE_DEVICES, encodeDirectEnvelope, parseDirectEnvelope } from './direct-envelope.js';
export { fileNameProblem } from './file-name.js';
export { messageRef, reaction, MAX_REACTION_LENGTH, MAX_DISTINCT_REACTIONS } from './conversation.js';
export * as schemas from './messages.js';
export {
  clientMessageSchema,
  serverMessageSchema,
  CLIENT_MESSAGE_TYPES,
  SERVER_MESSAGE_TYPES,
  MAX_HISTORY_PAGE,
  MAX_READ_MARKERS,
  MAX_ACCOUNT_DEVICES,
} from './messages.js';
export {
  MAX_TEXT_LENGTH,
  MAX_ENVELOPE_BYTES,
  MAX_CHUNK_BYTES,
  clientKey,
  messageId,
} from './fields.js';

export type { ProtocolErrorCode, ProtocolErrorOptions } from './errors.js';
export type { Sender, MessageFrom } from './codec.js';
export type { MessageRef } from './conversation.js';
export type { RecordCipher, MessageChannelOptions } from './channel.js';
export type { RecordPiece } from './records.js';
export type { DirectEnvelope, DirectEnvelopeEntry } from './direct-envelope.js';
export type { ClientHelloBytes, ServerHelloBytes, ClientFinishedBytes, DeviceBundleBytes } from './wire.js';
export type {
  ClientMessage,
  ServerMessage,
  ClientMessageType,
  ServerMessageType,
  ClientMessageOf,
  ServerMessageOf,
  Target,
  DeviceBundleWire,
  RoomMessage,
  DirectMessage,
  HistoryItem,
  Role,
  RoomKind,
  ServerRole,
  PresenceState,
  SessionLimits,
} from './messages.js';
