// send / dm_send / keys_get. Messages are not stored here: they join the turn's batch
// (MessageBatch), which acks them once stored and fans them out.
import { parseDirectEnvelope, toBase64Url, type ClientMessageOf } from '@hush/protocol';
import type { NewMessage } from '../store/types.js';
import { checkRoomSend } from './conversation.js';
import { RequestError } from '../errors.js';
import { requireMember, requireUser } from './membership.js';
import { wireBundle } from './replies.js';
import type { ServerContext, Session } from './context.js';
import { sessionDevice } from './session-devices.js';

export function handleSend(ctx: Pick<ServerContext, 'batch' | 'now' | 'store'>, session: Session, m: ClientMessageOf<'send'>): void {
  const user = requireUser(session);
  const now = ctx.now();
  const allowed = () => {
    const member = requireMember(ctx, user, m.room);
    if (member.mutedUntil !== null && member.mutedUntil > now) {
      throw new RequestError('MUTED', `muted in #${m.room}`, member.mutedUntil - now);
    }
  };
  let text = '';
  let envelope: string | undefined;
  if (
    !repeatOrAllowed(ctx, session, m, () => {
      allowed();
      envelope = sealedBody(ctx, m);
      if (envelope === undefined) text = checkRoomSend(ctx, user, m);
    })
  )
    return;
  // The sender is the session's user, never a field of the request.
  const message =
    envelope === undefined
      ? ({
          kind: 'room',
          ts: now,
          from: user.name,
          room: m.room,
          text,
          action: m.action ?? false,
          ...(m.ref ? { ref: m.ref } : {}),
        } as const)
      : ({ kind: 'room', ts: now, from: user.name, room: m.room, text: '', action: false, envelope } as const);
  ctx.batch.add(withKey(message, m.key), session, m.id);
}

/**
 * The envelope of a send to an e2e room, or undefined for an open room (whose sends carry text).
 * Each kind refuses the other's fields: an e2e room never stores readable text, whatever a client
 * sends, and an open room never stores what it cannot show.
 */
function sealedBody(ctx: Pick<ServerContext, 'store'>, m: ClientMessageOf<'send'>): string | undefined {
  if (ctx.store.getRoom(m.room)?.kind !== 'e2e') {
    if (m.envelope !== undefined) throw new RequestError('BAD_REQUEST', `#${m.room} is an open room: send text, not an envelope`);
    return undefined;
  }
  if (m.envelope === undefined || m.text !== undefined || m.action !== undefined || m.ref !== undefined) {
    throw new RequestError(
      'BAD_REQUEST',
      `#${m.room} is end-to-end encrypted: send only a sealed envelope (text, action and ref go inside it)`,
    );
  }
  return m.envelope;
}

export function handleDmSend(ctx: Pick<ServerContext, 'batch' | 'now' | 'store'>, session: Session, m: ClientMessageOf<'dm_send'>): void {
  const user = requireUser(session);
  const allowed = () => {
    if (!ctx.store.getUser(m.to)) throw new RequestError('NOT_FOUND', `no user ${m.to}`);
    checkDirectEnvelope(ctx, session, m);
  };
  if (!repeatOrAllowed(ctx, session, m, allowed)) return;
  ctx.batch.add(withKey({ kind: 'dm', ts: ctx.now(), from: user.name, to: m.to, envelope: m.envelope }, m.key), session, m.id);
}

/**
 * The envelope's public framing must be whole, come from the sending session's device, and hold
 * one entry per device at most, each for a current device of the recipient or of the sender: the
 * server hands each device only its own entry, so an entry for anyone else would be lost or leak.
 */
function checkDirectEnvelope(ctx: Pick<ServerContext, 'store'>, session: Session, m: ClientMessageOf<'dm_send'>): void {
  const envelope = parseDirectEnvelope(m.envelope);
  if (typeof envelope === 'string') throw new RequestError('BAD_REQUEST', `malformed direct message: ${envelope}`);
  if (toBase64Url(envelope.sender) !== sessionDevice(session)) {
    throw new RequestError('BAD_REQUEST', 'direct message envelope names another sending device than this session');
  }
  const user = requireUser(session);
  const devices = new Set([...ctx.store.listDevices(m.to), ...ctx.store.listDevices(user.name)].map((d) => d.signKey));
  for (const key of envelope.entries.keys()) {
    if (!devices.has(key))
      throw new RequestError('BAD_REQUEST', `direct message has an entry for a device that is neither ${m.to}'s nor yours`);
  }
}

/**
 * Runs `allowed` (which throws when the send is not allowed). A refused send whose key was stored
 * before is answered with its ack instead: it went through then (say, before a mute), and a resend
 * must not make the sender think it was lost. Returns whether to go on and store the message.
 */
function repeatOrAllowed(
  ctx: Pick<ServerContext, 'store'>,
  session: Session,
  m: ClientMessageOf<'send' | 'dm_send'>,
  allowed: () => void,
): boolean {
  try {
    allowed();
    return true;
  } catch (error) {
    const stored = m.key === undefined ? undefined : ctx.store.messageByKey(requireUser(session).name, m.key);
    if (!stored) throw error;
    session.send({ type: 'ack', re: m.id, msgId: stored.id, ts: stored.ts });
    return false;
  }
}

function withKey<M extends NewMessage>(message: M, key: string | undefined): M {
  return key === undefined ? message : { ...message, key };
}

export function handleKeysGet(ctx: Pick<ServerContext, 'store'>, session: Session, m: ClientMessageOf<'keys_get'>): void {
  requireUser(session);
  if (!ctx.store.getUser(m.user)) throw new RequestError('NOT_FOUND', `no user ${m.user}`);
  const devices = ctx.store.listDevices(m.user).slice(-32).map(wireBundle);
  session.send({ type: 'keys', re: m.id, user: m.user, devices });
}
