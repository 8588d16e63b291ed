// send / dm_send / keys_get. Messages are not stored here: they join the turn's batch
// (MessageBatch), which acks them once stored and fans them out.
import { parseDirectEnvelope, toBase64Url, type ClientMessageOf } from '@hush/protocol';
import type { DeviceRecord, MemberRecord, NewMessage, RoomKind } from '../store/types.js';
import { checkRoomSend, roomSendText } from './conversation.js';
import { RequestError } from '../errors.js';
import { requireMember, requireUser } from './membership.js';
import { wireBundle } from './replies.js';
import type { RoomRegistry } from '../rooms.js';
import type { AsyncStore } from '../store/async-store.js';
import type { MessageBatch } from './message-batch.js';
import type { Session } from './session.js';
import { sessionDevice } from './session-devices.js';

/** What the message requests work with. */
export interface MessageHandlerDeps {
  store: AsyncStore;
  rooms: RoomRegistry<Session>;
  batch: Pick<MessageBatch, 'add'>;
  now(): number;
}

export class MessageHandlers {
  constructor(private readonly deps: MessageHandlerDeps) {}

  /**
   * A send whose room is known in memory (the common case: the sender is a member) queues into the
   * turn's batch at once; only a reference to another message, a mute, or a refusal, asks the store.
   */
  send(session: Session, m: ClientMessageOf<'send'>): void | Promise<void> {
    const { deps } = this;
    const user = requireUser(session);
    const now = deps.now();
    const member = user.rooms.get(m.room);
    const kind = deps.rooms.knownKind(m.room);
    if (member === undefined || kind === undefined || m.ref !== undefined || mutedFor(member, now) > 0)
      return sendChecked(deps, session, m, now);
    try {
      const envelope = sealedBody(kind, m);
      queueSend(deps, session, m, now, envelope === undefined ? roomSendText(m) : '', envelope);
    } catch (error) {
      if (m.key === undefined) throw error;
      return answerRepeat(deps, session, m, error);
    }
  }

  async dmSend(session: Session, m: ClientMessageOf<'dm_send'>): Promise<void> {
    const { deps } = this;
    const user = requireUser(session);
    try {
      // One round trip's wait, whichever the store: the three reads go out together.
      const [recipient, theirs, mine] = await Promise.all([
        deps.store.getUser(m.to),
        deps.store.listDevices(m.to),
        deps.store.listDevices(user.name),
      ]);
      if (!recipient) throw new RequestError('NOT_FOUND', `no user ${m.to}`);
      checkDirectEnvelope(session, m, [...theirs, ...mine]);
    } catch (error) {
      return answerRepeat(deps, session, m, error);
    }
    deps.batch.add(withKey({ kind: 'dm', ts: deps.now(), from: user.name, to: m.to, envelope: m.envelope }, m.key), session, m.id);
  }

  async keysGet(session: Session, m: ClientMessageOf<'keys_get'>): Promise<void> {
    const { deps } = this;
    requireUser(session);
    if (!(await deps.store.getUser(m.user))) throw new RequestError('NOT_FOUND', `no user ${m.user}`);
    const devices = (await deps.store.listDevices(m.user)).slice(-32).map(wireBundle);
    session.send({ type: 'keys', re: m.id, user: m.user, devices });
  }
}

/** The slow path of a send: the store is asked for what memory does not hold. */
async function sendChecked(
  deps: Pick<MessageHandlerDeps, 'batch' | 'rooms' | 'store'>,
  session: Session,
  m: ClientMessageOf<'send'>,
  now: number,
): Promise<void> {
  const user = requireUser(session);
  let text = '';
  let envelope: string | undefined;
  try {
    const member = await requireMember(deps, user, m.room);
    // A mute is confirmed in the store before it refuses: one lifted on another node of a cluster
    // may not have reached this node's memory yet.
    checkMute(mutedFor(member, now) > 0 ? ((await deps.store.getMember(m.room, user.name)) ?? member) : member, m.room, now);
    const kind = await deps.rooms.kind(m.room);
    envelope = sealedBody(kind ?? 'open', m);
    if (envelope === undefined) text = await checkRoomSend(deps, user, m);
  } catch (error) {
    return answerRepeat(deps, session, m, error);
  }
  queueSend(deps, session, m, now, text, envelope);
}

/** How long `member` stays muted (0: not muted). */
function mutedFor(member: MemberRecord, now: number): number {
  return member.mutedUntil === null ? 0 : Math.max(0, member.mutedUntil - now);
}

function checkMute(member: MemberRecord, room: string, now: number): void {
  const left = mutedFor(member, now);
  if (left > 0) throw new RequestError('MUTED', `muted in #${room}`, left);
}

function queueSend(
  deps: Pick<MessageHandlerDeps, 'batch'>,
  session: Session,
  m: ClientMessageOf<'send'>,
  now: number,
  text: string,
  envelope: string | undefined,
): void {
  // The sender is the session's user, never a field of the request.
  const from = requireUser(session).name;
  const message =
    envelope === undefined
      ? ({ kind: 'room', ts: now, from, room: m.room, text, action: m.action ?? false, ...(m.ref ? { ref: m.ref } : {}) } as const)
      : ({ kind: 'room', ts: now, from, room: m.room, text: '', action: false, envelope } as const);
  deps.batch.add(withKey(message, m.key), session, m.id);
}

/**
 * The envelope of a send to an e2e room, or undefined for an open room (whose sends carry text).
 * Each kind refuses the other's fields: an e2e room never stores readable text, whatever a client
 * sends, and an open room never stores what it cannot show.
 */
function sealedBody(kind: RoomKind, m: ClientMessageOf<'send'>): string | undefined {
  if (kind !== 'e2e') {
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

/**
 * The envelope's public framing must be whole, come from the sending session's device, and hold
 * one entry per device at most, each for a current device of the recipient or of the sender: the
 * server hands each device only its own entry, so an entry for anyone else would be lost or leak.
 */
function checkDirectEnvelope(session: Session, m: ClientMessageOf<'dm_send'>, current: readonly DeviceRecord[]): void {
  const envelope = parseDirectEnvelope(m.envelope);
  if (typeof envelope === 'string') throw new RequestError('BAD_REQUEST', `malformed direct message: ${envelope}`);
  if (toBase64Url(envelope.sender) !== sessionDevice(session)) {
    throw new RequestError('BAD_REQUEST', 'direct message envelope names another sending device than this session');
  }
  const devices = new Set(current.map((d) => d.signKey));
  for (const key of envelope.entries.keys()) {
    if (!devices.has(key))
      throw new RequestError('BAD_REQUEST', `direct message has an entry for a device that is neither ${m.to}'s nor yours`);
  }
}

/**
 * A refused send whose key was stored before is answered with its ack instead: it went through
 * then (say, before a mute), and a resend must not make the sender think it was lost. Any other
 * refusal is thrown on.
 */
async function answerRepeat(
  deps: Pick<MessageHandlerDeps, 'store'>,
  session: Session,
  m: ClientMessageOf<'send' | 'dm_send'>,
  error: unknown,
): Promise<void> {
  const stored = m.key === undefined ? undefined : await deps.store.messageByKey(requireUser(session).name, m.key);
  if (!stored) throw error;
  session.send({ type: 'ack', re: m.id, msgId: stored.id, ts: stored.ts });
}

function withKey<M extends NewMessage>(message: M, key: string | undefined): M {
  return key === undefined ? message : { ...message, key };
}
