// @hush/client: every public export is named here.
export { HushClient } from './client.js';
export { HushError, isHushError, CLIENT_ERROR_CODES } from './errors.js';
export { defaultPaths, defaultDownloadsDir } from './paths.js';
export { parseKnownServers, serverKey, decidePin } from './known-servers.js';
export { conversationKey } from './conversation.js';
export { byteCount, formatSize } from './sizes.js';
/** The protocol's longest message text (a server may accept less: `client.limits.maxTextLength`). */
export { MAX_TEXT_LENGTH } from '@hush/protocol';

export type { HushErrorCode, ClientErrorCode } from './errors.js';
export type { ClientPaths } from './paths.js';
export type { KnownServerEntry, PinDecision } from './known-servers.js';
export type { ClientLimits } from './limits.js';
export type { ServerAddress } from './server-addresses.js';
export type {
  ChatMessage,
  ClientEvents,
  ConnectionState,
  ConnectOptions,
  FileOffer,
  MemberInfo,
  MessageChange,
  MessageUpdate,
  PendingSend,
  PresenceState,
  Reaction,
  RoomInfo,
  RoomKind,
  RoomRole,
  SearchResult,
  Target,
  TrustPrompt,
  UserInfo,
} from './types.js';
