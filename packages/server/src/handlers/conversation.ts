// The rules for room messages that refer to another (replies, edits, deletes, reactions). Direct
// conversations carry the same references inside the sealed envelope: their clients apply them.
import type { ClientMessageOf } from '@hush/protocol';
import type { OnlineUser } from '../online-users.js';
import type { RoomRegistry } from '../rooms.js';
import type { AsyncStore } from '../store/async-store.js';
import type { MessageRef } from '../store/types.js';
import { RequestError } from '../errors.js';
import { requireMember, roleRank } from './membership.js';
import type { Session } from './session.js';

/**
 * Throws unless `user` (a member of `m.room`) may send `m`: the referred message must be a message
 * of the same room (a reply or reaction to one elsewhere, or one never stored, is NOT_FOUND), not a
 * reference itself; only its author edits it; its author or a room operator deletes it. Returns the
 * text to store ('' for a delete or reaction).
 */
export async function checkRoomSend(
  deps: { rooms: Pick<RoomRegistry<Session>, 'room'>; store: Pick<AsyncStore, 'roomMessage'> },
  user: OnlineUser<Session>,
  m: ClientMessageOf<'send'>,
): Promise<string> {
  const text = roomSendText(m);
  const ref: MessageRef | undefined = m.ref;
  if (!ref) return text;
  const target = await deps.store.roomMessage(m.room, ref.msgId);
  if (!target || target.ref?.kind === 'edit' || target.ref?.kind === 'delete' || target.ref?.kind === 'react') {
    throw new RequestError('NOT_FOUND', `no message ${ref.msgId} in #${m.room}`);
  }
  if (target.deleted) throw new RequestError('NOT_FOUND', `message ${ref.msgId} was deleted`);
  if (ref.kind === 'edit' && target.from !== user.name) throw new RequestError('FORBIDDEN', 'only its author edits a message');
  if (ref.kind === 'delete' && target.from !== user.name && user.role !== 'admin') {
    const role = (await requireMember(deps, user, m.room)).role;
    if (roleRank(role) < roleRank('op')) throw new RequestError('FORBIDDEN', 'only its author or a room operator deletes a message');
  }
  return text;
}

/** The text a room send stores: a delete or reaction carries none, anything else must. */
export function roomSendText(m: ClientMessageOf<'send'>): string {
  const bodiless = m.ref?.kind === 'delete' || m.ref?.kind === 'react';
  if (bodiless && m.text !== undefined) throw new RequestError('BAD_REQUEST', `a ${m.ref!.kind} carries no text`);
  if (!bodiless && m.text === undefined) throw new RequestError('BAD_REQUEST', 'a message needs text');
  return m.text ?? '';
}
