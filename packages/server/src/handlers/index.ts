// One entry point from a connection to the handlers: an exhaustive switch over client messages.
import type { ClientMessage } from '@hush/protocol';
import { handleDeviceLogin, handleLogin, handleLogout, handleRegister } from './accounts.js';
import { RequestError } from '../errors.js';
import type { ServerContext } from './context.js';
import type { Session } from './session.js';
import { handleFileRequest } from './files.js';
import { handleHistory, handleRead } from './history.js';
import { handleDmSend, handleKeysGet, handleSend } from './messages.js';
import { handleBan, handleKick, handleMute, handleRoleSet, handleUnban, handleUnmute } from './moderation.js';
import { handlePresenceSet, handleTyping } from './presence.js';
import { handlePrekeyBundleGet, handlePrekeysUpload } from './prekeys.js';
import {
  handleRoomCreate,
  handleRoomJoin,
  handleRoomList,
  handleRoomMembers,
  handleRoomPart,
  handleRoomTopic,
  handleUsersList,
} from './rooms.js';

/** Handles one message of a session past the handshake. Throws RequestError for refusals. */
export function dispatch(ctx: ServerContext, session: Session, m: ClientMessage): void | Promise<void> {
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
      return handleRegister(ctx, session, m);
    case 'login':
      return handleLogin(ctx, session, m);
    case 'device_login':
      return handleDeviceLogin(ctx, session, m);
    case 'logout':
      return handleLogout(ctx, session, m);
    case 'room_create':
      return handleRoomCreate(ctx, session, m);
    case 'room_join':
      return handleRoomJoin(ctx, session, m);
    case 'room_part':
      return handleRoomPart(ctx, session, m);
    case 'room_list':
      return handleRoomList(ctx, session, m);
    case 'room_topic':
      return handleRoomTopic(ctx, session, m);
    case 'room_members':
      return handleRoomMembers(ctx, session, m);
    case 'users_list':
      return handleUsersList(ctx, session, m);
    case 'send':
      return handleSend(ctx, session, m);
    case 'dm_send':
      return handleDmSend(ctx, session, m);
    case 'keys_get':
      return handleKeysGet(ctx, session, m);
    case 'prekeys_upload':
      return handlePrekeysUpload(ctx, session, m);
    case 'prekey_bundle_get':
      return handlePrekeyBundleGet(ctx, session, m);
    case 'presence_set':
      return handlePresenceSet(ctx, session, m);
    case 'typing':
      return handleTyping(ctx, session, m);
    case 'read':
      return handleRead(ctx, session, m);
    case 'history':
      return handleHistory(ctx, session, m);
    case 'file_offer':
    case 'file_chunk':
    case 'file_accept':
    case 'file_decline':
    case 'file_cancel':
    case 'files_pending':
    case 'file_received':
      return handleFileRequest(ctx, session, m);
    case 'kick':
      return handleKick(ctx, session, m);
    case 'ban':
      return handleBan(ctx, session, m);
    case 'unban':
      return handleUnban(ctx, session, m);
    case 'mute':
      return handleMute(ctx, session, m);
    case 'unmute':
      return handleUnmute(ctx, session, m);
    case 'role_set':
      return handleRoleSet(ctx, session, m);
    default: {
      const never: never = m;
      throw new RequestError('BAD_REQUEST', `unhandled ${(never as { type: string }).type}`);
    }
  }
}

/** Messages a session may send before it is logged in. */
export const ANONYMOUS_TYPES: ReadonlySet<ClientMessage['type']> = new Set(['register', 'login', 'device_login', 'ping', 'pong']);
