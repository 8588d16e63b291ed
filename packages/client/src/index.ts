// @hush/client: every public export is named here.
export { HushClient } from './client.js';
export { HushError, isHushError, CLIENT_ERROR_CODES } from './errors.js';
export { defaultPaths, defaultDownloadsDir } from './paths.js';
export { parseKnownServers, serverKey, decidePin } from './known-servers.js';

export type { HushErrorCode, ClientErrorCode } from './errors.js';
export type { ClientPaths } from './paths.js';
export type { KnownServerEntry, PinDecision } from './known-servers.js';
export type {
  ChatMessage, ClientEvents, ConnectionState, ConnectOptions, FileOffer, MemberInfo, PresenceState, RoomInfo, RoomRole,
  Target, TrustPrompt, UserInfo,
} from './types.js';
