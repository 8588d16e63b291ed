// One entry point from a connection to the handlers: an exhaustive switch over client messages,
// each case calling the handler group that owns the request. HushServer builds each group once,
// with the parts it works with.
import { requestInVersion, type ClientMessage } from '@hush/protocol';
import { RequestError } from '../errors.js';
import type { FileRelay } from '../files.js';
import type { AccountHandlers } from './accounts.js';
import type { DeviceHandlers } from './devices.js';
import type { HistoryHandlers } from './history.js';
import type { MessageHandlers } from './messages.js';
import type { ModerationHandlers } from './moderation.js';
import type { PrekeyHandlers } from './prekeys.js';
import type { PresenceHandlers } from './presence.js';
import type { RoomHandlers } from './rooms.js';
import type { Session } from './session.js';

/** The handler groups, one per kind of request. */
export interface Handlers {
  accounts: AccountHandlers;
  devices: DeviceHandlers;
  rooms: RoomHandlers;
  messages: MessageHandlers;
  moderation: ModerationHandlers;
  presence: PresenceHandlers;
  prekeys: PrekeyHandlers;
  history: HistoryHandlers;
  /** The file relay takes the file requests itself. */
  files: Pick<FileRelay, 'offer' | 'chunk' | 'accept' | 'decline' | 'cancel' | 'pending' | 'received'>;
}

/** Handles one message of a session past the handshake. Throws RequestError for refusals. */
export function dispatch(handlers: Handlers, session: Session, m: ClientMessage): void | Promise<void> {
  // As a server of the older version would: it has no such type.
  if (!requestInVersion(m.type, session.version))
    throw new RequestError('UNKNOWN_TYPE', `${m.type} is not part of protocol version ${session.version}`);
  switch (m.type) {
    case 'client_hello':
    case 'client_finished':
      throw new RequestError('BAD_REQUEST', 'the handshake is already done');
    case 'ping':
      session.send({ type: 'pong', ...(m.nonce !== undefined ? { nonce: m.nonce } : {}) });
      return;
    case 'pong':
      return;
    case 'register':
      return handlers.accounts.register(session, m);
    case 'login':
      return handlers.accounts.login(session, m);
    case 'device_login':
      return handlers.accounts.deviceLogin(session, m);
    case 'logout':
      return handlers.accounts.logout(session, m);
    case 'room_create':
      return handlers.rooms.create(session, m);
    case 'room_join':
      return handlers.rooms.join(session, m);
    case 'room_part':
      return handlers.rooms.part(session, m);
    case 'room_list':
      return handlers.rooms.list(session, m);
    case 'room_topic':
      return handlers.rooms.topic(session, m);
    case 'room_members':
      return handlers.rooms.members(session, m);
    case 'users_list':
      return handlers.rooms.users(session, m);
    case 'send':
      return handlers.messages.send(session, m);
    case 'dm_send':
      return handlers.messages.dmSend(session, m);
    case 'keys_get':
      return handlers.messages.keysGet(session, m);
    case 'devices_get':
      return handlers.devices.list(session, m);
    case 'remove_device':
      return handlers.devices.remove(session, m);
    case 'password_change':
      return handlers.accounts.changePassword(session, m);
    case 'prekeys_upload':
      return handlers.prekeys.upload(session, m);
    case 'prekey_bundle_get':
      return handlers.prekeys.bundleGet(session, m);
    case 'presence_set':
      return handlers.presence.set(session, m);
    case 'typing':
      return handlers.presence.typing(session, m);
    case 'read':
      return handlers.history.read(session, m);
    case 'read_markers_get':
      return handlers.history.readMarkers(session, m);
    case 'history':
      return handlers.history.page(session, m);
    case 'file_offer':
      return handlers.files.offer(session, m);
    case 'file_chunk':
      return handlers.files.chunk(session, m);
    case 'file_accept':
      return handlers.files.accept(session, m);
    case 'file_decline':
      return handlers.files.decline(session, m);
    case 'file_cancel':
      return handlers.files.cancel(session, m);
    case 'files_pending':
      return handlers.files.pending(session, m);
    case 'file_received':
      return handlers.files.received(session, m);
    case 'kick':
      return handlers.moderation.kick(session, m);
    case 'ban':
      return handlers.moderation.ban(session, m);
    case 'unban':
      return handlers.moderation.unban(session, m);
    case 'mute':
      return handlers.moderation.mute(session, m);
    case 'unmute':
      return handlers.moderation.unmute(session, m);
    case 'role_set':
      return handlers.moderation.roleSet(session, m);
    default: {
      const never: never = m;
      throw new RequestError('BAD_REQUEST', `unhandled ${(never as { type: string }).type}`);
    }
  }
}

/** Messages a session may send before it is logged in. */
export const ANONYMOUS_TYPES: ReadonlySet<ClientMessage['type']> = new Set(['register', 'login', 'device_login', 'ping', 'pong']);
