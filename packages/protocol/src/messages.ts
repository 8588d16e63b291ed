import { z } from 'zod';
import { messageRef } from './conversation.js';
import { PROTOCOL_ERROR_CODE_LIST } from './errors.js';
import {
  bytes,
  bytes64,
  clientKey,
  deviceBundle,
  deviceId,
  envelope,
  oneTimePrekey,
  signedPrekey,
  fileId,
  key32,
  messageId,
  MAX_CHUNK_BYTES,
  MAX_TEXT_LENGTH,
  password,
  presenceState,
  reason,
  requestId,
  role,
  roomKind,
  roomName,
  serverRole,
  statusText,
  target,
  text,
  timestamp,
  topic,
  username,
  usernameInput,
} from './fields.js';

// Every message of the current version, in both directions. Schemas are strict: an unknown key is a schema violation,
// which is also how a client is stopped from choosing the sender (`from` exists only server->client).

const msg = <T extends string, S extends z.ZodRawShape>(type: T, shape: S) => z.strictObject({ type: z.literal(type), ...shape });
const request = <T extends string, S extends z.ZodRawShape>(type: T, shape: S) => msg(type, { id: requestId, ...shape });
const versions = z.array(z.number().int().min(1).max(65535)).min(1).max(16);
const seconds = z
  .number()
  .int()
  .min(1)
  .max(10 * 365 * 24 * 3600);
/** List paging (rooms, members, users): `cursor` is a reply's `next`, opaque to clients. */
const listCursor = z.string().min(1).max(64);
const listPage = { cursor: listCursor.optional(), limit: z.number().int().min(1).max(1000).optional() };

// ---------------------------------------------------------------------------------------------
// Handshake (plaintext frames; see PROTOCOL.md "Handshake")

export const clientHello = msg('client_hello', { versions, ephemeral: key32 });
export const serverHello = msg('server_hello', {
  version: z.number().int().min(1).max(65535),
  versions,
  ephemeral: key32,
  identity: key32,
  signature: bytes64,
  finished: bytes64,
});
export const clientFinished = msg('client_finished', { finished: bytes64 });

// ---------------------------------------------------------------------------------------------
// Client -> server

export const register = request('register', {
  username: usernameInput,
  password,
  device: deviceBundle,
  invite: z.string().max(128).optional(),
});
export const login = request('login', { username: usernameInput, password, device: deviceBundle });
/**
 * A returning device proves its key: signature over the session id and username. `since`: the newest
 * direct message id this device has received; offline delivery starts there if that is earlier.
 */
export const deviceLogin = request('device_login', {
  username: usernameInput,
  signKey: key32,
  signature: bytes64,
  since: messageId.optional(),
});
export const logout = request('logout', {});

/** `kind`: the server's default when absent; only a server admin creates an `open` room. */
export const roomCreate = request('room_create', { room: roomName, topic: topic.optional(), kind: roomKind.optional() });
export const roomJoin = request('room_join', { room: roomName });
export const roomPart = request('room_part', { room: roomName });
export const roomList = request('room_list', listPage);
export const roomTopic = request('room_topic', { room: roomName, topic });
export const roomMembers = request('room_members', { room: roomName, ...listPage });
export const usersList = request('users_list', listPage);

/**
 * A room message; `action` marks a /me action; `key` makes a resend safe (stored once per sender).
 * `ref` makes it a reply, edit, delete or reaction (see PROTOCOL.md "Conversation features"): a
 * delete or a reaction carries no `text`, every other send does. To an e2e room only `envelope` (a
 * sealed sender-key message holding all of that) and `key`.
 */
export const send = request('send', {
  room: roomName,
  text: text.optional(),
  action: z.boolean().optional(),
  key: clientKey.optional(),
  ref: messageRef.optional(),
  envelope: envelope.optional(),
});
/** A direct message: opaque end-to-end envelope plus routing; `key` as for `send`. */
export const dmSend = request('dm_send', { to: username, envelope, key: clientKey.optional() });
export const keysGet = request('keys_get', { user: username });
/**
 * Removes another device of the session's own account (a lost laptop), as `hushd user remove-device`
 * does. The password is asked again: a device logs in with its key, and one stolen device must not
 * remove the owner's others. Since version 5.
 */
export const removeDevice = request('remove_device', { device: deviceId, password });
/**
 * Changes the session's own account password: `password` is the current one (checked as a login's),
 * `newPassword` must meet the server's password rules. Devices stay logged in. Since version 5.
 */
export const passwordChange = request('password_change', { password, newPassword: password });
/** The devices of the session's own account, with when each was added and last logged in. Since version 6. */
export const devicesGet = request('devices_get', {});
/**
 * This device's prekeys (see PROTOCOL.md "Prekeys"): its current signed prekey (the server checks the
 * signature with the session's device key and keeps the newest) and one-time prekeys to add.
 */
export const prekeysUpload = request('prekeys_upload', {
  signedPrekey,
  oneTimePrekeys: z.array(oneTimePrekey).max(1000),
});
/** One prekey bundle per device of `user` that has published a signed prekey. */
export const prekeyBundleGet = request('prekey_bundle_get', { user: username });

export const presenceSet = request('presence_set', {
  state: z.enum(['online', 'away']),
  status: statusText.optional(),
});
export const typing = msg('typing', { target, active: z.boolean() });
export const readMarker = request('read', { target, msgId: messageId });
/** The read markers of the session's account, set on any of its devices (a device back from away catches up). Since version 6. */
export const readMarkersGet = request('read_markers_get', {});
/** The most messages one `history` request may ask for (and one `history_page` carries). */
export const MAX_HISTORY_PAGE = 500;
export const historyQuery = request('history', {
  target,
  before: messageId.optional(),
  after: messageId.optional(),
  limit: z.number().int().min(1).max(MAX_HISTORY_PAGE),
});

export const MAX_FILE_NAME_LENGTH = 255;
/** What a file offer says of the file (`file_offer`, and `file_offered` as relayed). */
const offeredFile = {
  size: z
    .number()
    .int()
    .min(0)
    .max(2 ** 40),
  /** Room files only: a direct file's name travels inside the end-to-end envelope. */
  name: z.string().min(1).max(MAX_FILE_NAME_LENGTH).optional(),
  sha512: bytes64.optional(),
};
export const fileOffer = request('file_offer', { target, ...offeredFile });
export const fileAccept = request('file_accept', { fileId });
export const fileDecline = request('file_decline', { fileId });
/** One chunk of a file, as uploaded (`file_chunk`) and as relayed (`file_data`). */
const fileChunk = {
  fileId,
  index: z
    .number()
    .int()
    .min(0)
    .max(2 ** 32),
  data: bytes(MAX_CHUNK_BYTES),
  final: z.boolean(),
};
export const fileChunkUpload = request('file_chunk', fileChunk);
export const fileCancel = request('file_cancel', { fileId, reason: reason.optional() });
export const filesPending = request('files_pending', {});
/** A recipient saved the file and checked its SHA-512: the uploader is told it was downloaded. */
export const fileReceived = request('file_received', { fileId });

export const kick = request('kick', { room: roomName, user: username, reason: reason.optional() });
export const ban = request('ban', {
  user: username.optional(),
  address: z.string().max(64).optional(),
  reason: reason.optional(),
  seconds: seconds.optional(),
});
export const unban = request('unban', { user: username.optional(), address: z.string().max(64).optional() });
export const mute = request('mute', { room: roomName, user: username, seconds: seconds.optional() });
export const unmute = request('unmute', { room: roomName, user: username });
export const roleSet = request('role_set', { room: roomName, user: username, role });

export const ping = msg('ping', { nonce: z.string().max(32).optional() });
export const pong = msg('pong', { nonce: z.string().max(32).optional() });

// ---------------------------------------------------------------------------------------------
// Server -> client

const re = requestId;
const roomInfo = z.strictObject({
  room: roomName,
  topic,
  kind: roomKind,
  members: z.number().int().nonnegative(),
  joined: z.boolean(),
  role: role.optional(),
});
const memberInfo = z.strictObject({ user: username, role, state: presenceState, status: statusText });
const userInfo = z.strictObject({ user: username, state: presenceState, status: statusText, role: serverRole });
const perSecond = z.number().positive().max(1_000_000);
const burst = z.number().int().min(1).max(1_000_000);
/** What the server enforces on this connection, so a client can pace itself inside it. */
const sessionLimits = z.strictObject({
  messagesPerSecond: perSecond,
  messageBurst: burst,
  signalsPerSecond: perSecond,
  signalBurst: burst,
  maxTextLength: z.number().int().min(1).max(MAX_TEXT_LENGTH),
});

export const welcome = msg('welcome', {
  re,
  user: username,
  role: serverRole,
  rooms: z.array(roomInfo).max(10_000),
  /** Present after a password login: the device is now bound and can use device_login next time. */
  deviceBound: z.boolean(),
  serverTime: timestamp,
  limits: sessionLimits,
});
export const ok = msg('ok', { re });
export const error = msg('error', {
  re: re.optional(),
  code: z.enum(PROTOCOL_ERROR_CODE_LIST),
  message: z.string().max(500),
  path: z.string().max(200).optional(),
  /** For RATE_LIMITED / back-off: when to try again. */
  retryAfterMs: z.number().int().nonnegative().optional(),
});
/** Sent only after the message is durably stored. */
export const ack = msg('ack', { re, msgId: messageId, ts: timestamp });

export const roomMessage = msg('message', {
  room: roomName,
  msgId: messageId,
  ts: timestamp,
  from: username,
  /** Empty for a delete or a reaction, and for a message deleted since (its body is gone). */
  text: z.string().max(MAX_TEXT_LENGTH),
  action: z.boolean(),
  ref: messageRef.optional(),
  /** The message was deleted: `text` is empty. */
  deleted: z.boolean().optional(),
  /** A message of an e2e room: the sealed sender-key message; `text` is empty and `action` false. */
  envelope: envelope.optional(),
});
export const directMessage = msg('dm', { msgId: messageId, ts: timestamp, from: username, to: username, envelope });

/** List replies: `next`, when present, is the `cursor` of the following page. */
export const rooms = msg('rooms', { re, rooms: z.array(roomInfo).max(10_000), next: listCursor.optional() });
export const members = msg('members', {
  re,
  room: roomName,
  members: z.array(memberInfo).max(100_000),
  next: listCursor.optional(),
});
export const users = msg('users', { re, users: z.array(userInfo).max(100_000), next: listCursor.optional() });
export const roomEvent = msg('room_event', {
  room: roomName,
  event: z.enum(['join', 'part', 'kick', 'ban', 'mute', 'unmute', 'topic', 'role', 'create']),
  user: username,
  by: username.optional(),
  topic: topic.optional(),
  role: role.optional(),
  reason: reason.optional(),
  ts: timestamp,
});
export const presence = msg('presence', { user: username, state: presenceState, status: statusText });
export const typingNotice = msg('typing_notice', { from: username, target, active: z.boolean() });
export const readNotice = msg('read_notice', { from: username, target, msgId: messageId });
/** The most read markers one `read_markers` reply carries: the most recently set ones. */
export const MAX_READ_MARKERS = 10_000;
/** Reply to read_markers_get: per conversation, the newest message the account marked read. */
export const readMarkers = msg('read_markers', {
  re,
  markers: z.array(z.strictObject({ target, msgId: messageId })).max(MAX_READ_MARKERS),
});

export const historyItem = z.discriminatedUnion('type', [roomMessage, directMessage]);
export const historyPage = msg('history_page', {
  re,
  target,
  messages: z.array(historyItem).max(MAX_HISTORY_PAGE),
  hasMore: z.boolean(),
});
/** The most devices an account has: a server binds no more (a key directory and a room key hand-out stay bounded). */
export const MAX_ACCOUNT_DEVICES = 32;
export const keys = msg('keys', { re, user: username, devices: z.array(deviceBundle).max(MAX_ACCOUNT_DEVICES) });
/** Reply to prekeys_upload: how many one-time prekeys the server holds for this device. */
export const prekeys = msg('prekeys', { re, remaining: z.number().int().min(0).max(100_000) });
/** Each one-time prekey is handed out once (and deleted); without one a session starts on the signed prekey. */
export const prekeyBundles = msg('prekey_bundles', {
  re,
  user: username,
  bundles: z
    .array(z.strictObject({ device: deviceBundle, signedPrekey, oneTimePrekey: oneTimePrekey.optional() }))
    .max(MAX_ACCOUNT_DEVICES),
});
/** Sent to a device whose one-time prekeys ran low after a hand-out: upload more. */
export const prekeysLow = msg('prekeys_low', { remaining: z.number().int().min(0).max(100_000) });
export const keyChange = msg('key_change', { user: username, devices: z.array(deviceBundle).max(MAX_ACCOUNT_DEVICES) });
/** Reply to devices_get: `lastLogin` is the device's newest login, to the minute. */
export const devices = msg('devices', {
  re,
  devices: z.array(z.strictObject({ device: deviceId, added: timestamp, lastLogin: timestamp })).max(MAX_ACCOUNT_DEVICES),
});

export const fileCreated = msg('file_created', {
  re,
  fileId,
  chunkSize: z
    .number()
    .int()
    .min(1024)
    .max(64 * 1024),
});
export const fileOffered = msg('file_offered', { fileId, from: username, target, ...offeredFile, ts: timestamp });
export const fileChunkDelivery = msg('file_data', fileChunk);
export const fileCancelled = msg('file_cancelled', { fileId, by: username.optional(), reason: reason.optional() });
export const fileStatus = msg('file_status', {
  fileId,
  /** What happened at the other end: who accepted, declined, cancelled or saved (verified) the file. */
  user: username,
  status: z.enum(['accepted', 'declined', 'downloaded', 'cancelled']),
});
export const files = msg('files', { re, files: z.array(fileOffered.omit({ type: true })).max(1000) });

export const notice = msg('notice', {
  level: z.enum(['info', 'warn']),
  code: z.string().max(64).optional(),
  text: z.string().max(1000),
});
/** The server is closing this connection (shutdown, kick, ban, overflow); `code` says why. */
export const goodbye = msg('goodbye', { code: z.enum(PROTOCOL_ERROR_CODE_LIST), message: z.string().max(500) });

// ---------------------------------------------------------------------------------------------
// Unions per direction

export const clientMessageSchema = z.discriminatedUnion('type', [
  clientHello,
  clientFinished,
  register,
  login,
  deviceLogin,
  logout,
  roomCreate,
  roomJoin,
  roomPart,
  roomList,
  roomTopic,
  roomMembers,
  usersList,
  send,
  dmSend,
  keysGet,
  removeDevice,
  passwordChange,
  devicesGet,
  prekeysUpload,
  prekeyBundleGet,
  presenceSet,
  typing,
  readMarker,
  readMarkersGet,
  historyQuery,
  fileOffer,
  fileAccept,
  fileDecline,
  fileChunkUpload,
  fileCancel,
  filesPending,
  fileReceived,
  kick,
  ban,
  unban,
  mute,
  unmute,
  roleSet,
  ping,
  pong,
]);

export const serverMessageSchema = z.discriminatedUnion('type', [
  serverHello,
  welcome,
  ok,
  error,
  ack,
  roomMessage,
  directMessage,
  rooms,
  members,
  users,
  roomEvent,
  presence,
  typingNotice,
  readNotice,
  readMarkers,
  historyPage,
  keys,
  keyChange,
  devices,
  prekeys,
  prekeyBundles,
  prekeysLow,
  fileCreated,
  fileOffered,
  fileChunkDelivery,
  fileCancelled,
  fileStatus,
  files,
  notice,
  goodbye,
  ping,
  pong,
]);

export type ClientMessage = z.infer<typeof clientMessageSchema>;
export type ServerMessage = z.infer<typeof serverMessageSchema>;
export type ClientMessageType = ClientMessage['type'];
export type ServerMessageType = ServerMessage['type'];
export type Target = z.infer<typeof target>;
export type DeviceBundleWire = z.infer<typeof deviceBundle>;
export type RoomMessage = z.infer<typeof roomMessage>;
export type DirectMessage = z.infer<typeof directMessage>;
export type HistoryItem = z.infer<typeof historyItem>;
export type Role = z.infer<typeof role>;
export type RoomKind = z.infer<typeof roomKind>;
export type ServerRole = z.infer<typeof serverRole>;
export type PresenceState = z.infer<typeof presenceState>;
export type SessionLimits = z.infer<typeof sessionLimits>;
/** The message of type `T` sent by clients. */
export type ClientMessageOf<T extends ClientMessageType> = Extract<ClientMessage, { type: T }>;
/** The message of type `T` sent by servers. */
export type ServerMessageOf<T extends ServerMessageType> = Extract<ServerMessage, { type: T }>;

export const CLIENT_MESSAGE_TYPES = clientMessageSchema.options.map((o) => o.shape.type.value) as ClientMessageType[];
export const SERVER_MESSAGE_TYPES = serverMessageSchema.options.map((o) => o.shape.type.value) as ServerMessageType[];
