import { randomBytes } from 'node:crypto';
import {
  decodeSessionMessage,
  deviceId,
  isCryptoError,
  RatchetSession,
  safetyNumber,
  sha512,
  verifyBundle,
  type DeviceBundle,
  type DeviceIdentity,
} from '@hush/crypto';
import {
  encodeDirectEnvelope,
  MAX_ENVELOPE_DEVICES,
  parseDirectEnvelope,
  type ServerMessageOf,
  type ServerMessageType,
} from '@hush/protocol';
import { listedRef, type IncomingMessage } from './conversation-ledger.js';
import { decodeBody, encodeBody, type DirectBody, type DirectFileInfo, type DirectInner } from './direct-body.js';
import { HushError } from './errors.js';
import { ownDevicesNotice } from './own-devices.js';
import type { RequestBody } from './requests.js';
import type { SendQueue } from './send-queue.js';
import type { SessionStore } from './session-store.js';
import type { RoomDevice } from './room-keys.js';
import type { EmitEvent } from './types.js';
import type { UserState } from './user-state.js';
import { b64, bundleFromWire, unb64 } from './wire.js';

type DirectWire = ServerMessageOf<'dm'>;
type WireBundle = ServerMessageOf<'prekey_bundles'>['bundles'][number];

/** The logged-in account: who we are, this device's keys, and the persisted end-to-end state. */
export interface Account {
  user: string;
  device: DeviceIdentity;
  state: UserState;
  sessions: SessionStore;
}

export interface DirectHost {
  emit: EmitEvent;
  account(): Account | undefined;
  /** A key lookup; must not wait for 'ready' while a reconnect catches up (it would wait for itself). */
  request<T extends ServerMessageType>(body: RequestBody, expect: readonly T[]): Promise<ServerMessageOf<T>>;
  /** The send queue: paced, kept across outages, settled by the server's ack. */
  queueSend(...args: Parameters<SendQueue['add']>): ReturnType<SendQueue['add']>;
  /** Runs `task` once every server event received so far has been handled. */
  afterEvents(task: () => void): void;
  reportError(error: unknown): void;
}

/**
 * `user` has no device in the key directory: an account an admin made that never logged in (or
 * whose every device was removed). Said so, with what works once they log in.
 */
function notLoggedIn(user: string, then: string): HushError {
  return new HushError('E2E_NO_DEVICES', `${user} has not logged in on any device yet: ${then}`);
}

/** What an opened direct message holds: a line of chat, a file offer, or a room's sender key from a device. */
export type OpenedDirect = { chat: IncomingMessage } | { file: DirectFileInfo } | { roomKey: Uint8Array; from: RoomDevice };

/** Why a session message did not open, in the words of a dmWarning. */
type OpenFailure = 'replay' | 'undecryptable' | 'session_reset';

/**
 * End-to-end direct messages over forward-secret sessions (X3DH + Double Ratchet) with every
 * device of the contact and every other device of our own account; replay and gap checks per
 * sending device; the contacts' key sets (cache, key-change warnings, safety numbers, verification).
 */
export class DirectMessages {
  private readonly keyCache = new Map<string, DeviceBundle[]>();

  constructor(private readonly host: DirectHost) {}

  /** Brings this device's prekeys on the server up to date (at login and when told they run low). */
  async publishPrekeys(): Promise<void> {
    const account = this.host.account();
    if (!account) return;
    const upload = await account.sessions.prepareSignedPrekey(account.device, Date.now());
    const reply = await this.host.request({ type: 'prekeys_upload', ...upload }, ['prekeys']);
    const more = await account.sessions.prepareOneTimePrekeys(reply.remaining);
    if (more) await this.host.request({ type: 'prekeys_upload', ...more }, ['prekeys']);
  }

  /**
   * Queued like a room send. The envelope is made once, when it first goes out, so every attempt
   * carries the same ratchet messages and sequence number; the sessions advanced by it are saved
   * before it leaves.
   */
  async send(user: string, body: DirectBody): Promise<{ id: string; ts: number }> {
    const { user: me, device, state, sessions } = this.requireAccount();
    let seq = 0;
    let sent = '';
    const ack = await this.host.queueSend(
      // Only lines someone typed are listed: not a file offer's DM, nor an edit, delete or reaction.
      {
        target: { user },
        text: 'text' in body ? body.text : '',
        action: 'text' in body && body.action,
        listed: 'text' in body && listedRef(body.ref),
        urgent: 'roomKey' in body, // a room message waiting in the outbox needs it first
        // Refused for good, or never sent: its sequence number goes to the next DM (no gap).
        unstored: () => {
          if (seq > 0) state.releaseSeq(user, seq).catch((error: unknown) => this.host.reportError(error));
        },
      },
      async (key) => {
        const theirs = await this.keysOf(user);
        if (theirs.length === 0) throw notLoggedIn(user, 'messages can be sent once they have');
        // A verification gates what is said to that person, not who reads a room (its membership is
        // the server's): a room key hand-out goes to every current device of a verified member all
        // the same (the change was said in a keyChange).
        const verified = state.verified.get(user);
        if (verified !== undefined && !('roomKey' in body) && verified !== keySetDigest(theirs)) {
          throw new HushError(
            'E2E_KEY_CHANGED',
            `the keys of ${user} changed since you verified them: compare the safety number and verify again`,
          );
        }
        // Every device but this one (which keeps its own copy): the recipient's and our other ones.
        const others = (list: readonly DeviceBundle[]) => list.filter((b) => !sameKey(b.signKey, device.signPublicKey));
        const mine = user === me ? [] : others(await this.keysOf(me));
        const targets = await this.sessionsFor(
          [
            { user, devices: others(theirs) },
            { user: me, devices: mine },
          ],
          device,
        );
        if (user !== me && !targets.some((t) => t.user === user)) {
          throw new HushError('E2E_NO_PREKEYS', `none of the devices of ${user} has published prekeys yet`);
        }
        if (targets.length > MAX_ENVELOPE_DEVICES) throw new HushError('E2E_NO_DEVICES', 'too many devices for one direct message');
        const inner: DirectInner = {
          from: me,
          to: user,
          id: randomBytes(12).toString('base64url'),
          seq: await state.nextSeq(user),
          sentAt: Date.now(),
          body: encodeBody(body),
        };
        seq = inner.seq;
        const innerText = JSON.stringify(inner);
        const plaintext = new TextEncoder().encode(innerText);
        const messages = targets.map(({ session }) => {
          const message = session.encrypt(plaintext);
          sessions.setSession(session);
          return { device: session.peerIdentity.signKey, message };
        });
        const envelope = b64(encodeDirectEnvelope(device.signPublicKey, messages));
        sessions.noteSent(envelope, innerText);
        sent = envelope;
        await sessions.save(); // before it leaves: a crash now costs the receiver one skipped key, never a desync
        return { type: 'dm_send', to: user, envelope, key };
      },
    );
    // Record our own sequence number too: a server that later plays this envelope back to us
    // (under a new id) is then caught as a replay like any other.
    state.checkSequence(sequenceStream(me, device.signPublicKey, user), seq);
    // Our own copy under its server id: this device holds no session with itself, so history shows
    // it from here, and the same envelope under another id is a replay.
    sessions.ownSent(sent, ack.msgId);
    this.saveSessions(sessions);
    // Everything queued to us before this ack arrived before it: once those DMs are handled
    // (opened and saved), since can move past our own DM.
    this.host.afterEvents(() => {
      if (state.noteDm(ack.msgId)) this.saveState(state);
    });
    return { id: ack.msgId, ts: ack.ts };
  }

  /**
   * The session to encrypt with for every device of `groups`: the stored one, or a new one from a
   * prekey bundle whose device is that user's device in the key directory (devices that have
   * published no prekeys yet are left out).
   */
  private async sessionsFor(
    groups: readonly { user: string; devices: readonly DeviceBundle[] }[],
    me: DeviceIdentity,
  ): Promise<{ user: string; session: RatchetSession }[]> {
    const { sessions } = this.requireAccount();
    const out: { user: string; session: RatchetSession }[] = [];
    for (const { user, devices } of groups) {
      const missing = devices.filter((d) => sessions.sessionsWith(d.signKey).length === 0);
      const fresh = new Map<string, WireBundle>();
      if (missing.length > 0) {
        const reply = await this.host.request({ type: 'prekey_bundle_get', user }, ['prekey_bundles']);
        for (const b of reply.bundles) fresh.set(b.device.signKey, b);
      }
      for (const d of devices) {
        const current = sessions.sessionsWith(d.signKey)[0];
        if (current) {
          out.push({ user, session: current });
          continue;
        }
        const wire = fresh.get(b64(d.signKey));
        if (!wire) continue;
        const identity = bundleFromWire(wire.device);
        // The bundle must be the very device the key directory lists (box key included).
        if (!sameKey(identity.boxKey, d.boxKey) || !sameKey(identity.signature, d.signature)) {
          this.host.emit('notice', {
            level: 'warn',
            code: 'E2E_BAD_KEYS',
            text: `the server handed out a prekey bundle that is not a device of ${user}: ignored`,
          });
          continue;
        }
        try {
          out.push({
            user,
            session: RatchetSession.start(me, {
              identity,
              signedPrekey: {
                id: wire.signedPrekey.id,
                createdAt: wire.signedPrekey.createdAt,
                publicKey: unb64(wire.signedPrekey.publicKey),
                signature: unb64(wire.signedPrekey.signature),
              },
              ...(wire.oneTimePrekey
                ? { oneTimePrekey: { id: wire.oneTimePrekey.id, publicKey: unb64(wire.oneTimePrekey.publicKey) } }
                : {}),
            }),
          });
        } catch {
          this.host.emit('notice', {
            level: 'warn',
            code: 'E2E_BAD_KEYS',
            text: `the server handed out an invalid prekey bundle for a device of ${user}: ignored`,
          });
        }
      }
    }
    return out;
  }

  /**
   * Opens a DM: the entry for this device, through the session with the sending device (which
   * must be a device of the sender in the key directory). The advanced session, the used one-time
   * prekey and the opened text are saved in one write before the message is shown; a DM offered
   * again (after a crash, or catch-up) is read from that journal, never decrypted twice, and one
   * the application was already shown (see `shown`) is not offered to it again.
   */
  async open(m: DirectWire, live: boolean): Promise<OpenedDirect | undefined> {
    const account = this.host.account();
    if (!account) return undefined;
    const { user: me, device, state, sessions } = account;
    const peer = m.from === me ? m.to : m.from;
    const warn = (kind: OpenFailure | 'gap', missing?: number) => {
      if (live || kind === 'session_reset')
        this.host.emit('dmWarning', { user: peer, kind, ...(missing === undefined ? {} : { missing }) });
    };
    const shown = live && sessions.wasShown(m.msgId);
    const journalled = sessions.journalled(m.msgId);
    if (shown && journalled === undefined) return undefined;
    let innerText = journalled?.inner;
    // The device that sent it, as authenticated by the session that opened it (now, or when it was
    // journalled); none for our own DMs.
    let senderKey = journalled?.sender === undefined ? undefined : unb64(journalled.sender);
    let fresh = false;
    if (innerText === undefined) {
      const parsed = parseDirectEnvelope(m.envelope);
      const envelope = typeof parsed === 'string' ? undefined : parsed;
      const mine = envelope?.entries.get(b64(device.signPublicKey));
      if (envelope && sameKey(envelope.sender, device.signPublicKey)) {
        // This device's own DM, played back (catch-up after a crash lost its ack, or a replay).
        const own = sessions.ownSent(m.envelope, m.msgId);
        if (own === undefined || own === 'replay') {
          warn(own ?? 'undecryptable');
          return undefined;
        }
        await sessions.save();
        innerText = own;
      } else if (envelope && !mine && state.predates(m.ts)) {
        return undefined; // sealed before this device existed (a first login asks from the beginning)
      } else if (!envelope || !mine) {
        warn('undecryptable');
        return undefined;
      } else {
        senderKey = envelope.sender;
        const opened = await this.openSessionMessage(m, envelope.sender, mine);
        if (typeof opened === 'string') {
          warn(opened);
          return undefined;
        }
        innerText = opened.text;
        fresh = true;
      }
    }
    let inner: DirectInner | undefined;
    try {
      inner = JSON.parse(innerText) as DirectInner;
    } catch {
      inner = undefined;
    }
    if (!inner || inner.from !== m.from || inner.to !== m.to || (m.to !== me && m.from !== me) || typeof inner.body !== 'string') {
      if (fresh) await sessions.save(); // the journal has it: offered again, it is refused the same way
      warn('undecryptable');
      return undefined;
    }
    if (fresh) await sessions.save(); // session, used prekey and text in one write, before anything is shown
    if (live && senderKey) {
      // Also for a DM read from the journal: a crash may have lost the sequence state saved after it
      // (our own DMs are counted when sent).
      const status = state.checkSequence(sequenceStream(inner.from, senderKey, inner.to), inner.seq);
      this.saveState(state);
      if (status.status === 'replay' && fresh) {
        warn('replay');
        return undefined;
      }
      if (status.status === 'gap' && !shown) warn('gap', status.missing);
    }
    if (shown) return undefined;
    const body = decodeBody(inner.body);
    if (!body) {
      warn('undecryptable');
      return undefined;
    }
    if ('file' in body) return { file: body.file };
    if ('roomKey' in body) {
      // From the device its session authenticated; our own copy is nothing to do. One read back from
      // the journal is offered again only when a crash came before it was accepted (see `shown`).
      return senderKey ? { roomKey: unb64(body.roomKey), from: { user: m.from, device: deviceId(senderKey) } } : undefined;
    }
    return {
      chat: {
        kind: 'dm',
        id: m.msgId,
        ts: m.ts,
        from: m.from,
        peer,
        text: body.text,
        action: body.action,
        mine: m.from === me,
        ...(body.ref ? { ref: body.ref } : {}),
      },
    };
  }

  /**
   * The session message for this device in DM `m`, from device `senderKey` of its sender: a new
   * session when it starts one (checked against the key directory, refused if its base key was
   * seen), else the stored sessions (current, then previous). Changes the in-memory state only (the
   * caller saves), and journals the text in the same step as the session moves: a save made
   * meanwhile by a send (at any await) must never hold the session without the message.
   */
  private async openSessionMessage(m: DirectWire, senderKey: Uint8Array, bytes: Uint8Array): Promise<{ text: string } | OpenFailure> {
    const { device, sessions } = this.requireAccount();
    let message;
    try {
      message = decodeSessionMessage(bytes);
    } catch {
      return 'undecryptable';
    }
    const known = sessions.sessionsWith(senderKey);
    const now = Date.now();
    const decoder = new TextDecoder('utf-8', { fatal: true });
    const prekey = message.prekey;
    const existing = prekey ? known.find((s) => sameKey(s.baseKey, prekey.ephemeral)) : undefined;
    if (prekey && !existing) {
      if (!sameKey(prekey.identity.signKey, senderKey) || !(await this.isDeviceOf(m.from, prekey.identity))) return 'undecryptable';
      if (sessions.hasSeenBaseKey(prekey.ephemeral)) return 'replay';
      try {
        const { session, plaintext, oneTimePrekeyId } = RatchetSession.accept(device, bytes, sessions.prekeyLookup(), { now });
        const text = decoder.decode(plaintext);
        if (oneTimePrekeyId !== undefined) sessions.useOneTimePrekey(oneTimePrekeyId);
        sessions.setSession(session);
        sessions.remember(m.msgId, text, senderKey);
        return { text };
      } catch (error) {
        if (isCryptoError(error, 'PREKEY_UNKNOWN')) return 'session_reset';
        return 'undecryptable';
      }
    }
    const candidates = existing ? [existing] : known;
    if (candidates.length === 0) return 'session_reset'; // we lost the session (restored backup): the next send starts one
    let failure: OpenFailure = 'undecryptable';
    for (const session of candidates) {
      try {
        const text = decoder.decode(session.decrypt(bytes, { now }));
        if (session !== known[0] && !existing) sessions.setSession(session);
        sessions.remember(m.msgId, text, senderKey);
        return { text };
      } catch (error) {
        if (isCryptoError(error, 'MESSAGE_REPLAYED')) return 'replay';
        if (isCryptoError(error, 'SESSION_OUT_OF_SYNC') || isCryptoError(error, 'SESSION_STATE_INVALID')) failure = 'session_reset';
      }
    }
    if (failure === 'session_reset') sessions.dropSessions(senderKey);
    return failure;
  }

  /** True when `identity` is a device of `user` in the key directory (refetched once if not). */
  private async isDeviceOf(user: string, identity: DeviceBundle): Promise<boolean> {
    for (const force of [false, true]) {
      const devices = await this.keysOf(user, force);
      if (devices.some((d) => sameKey(d.signKey, identity.signKey) && sameKey(d.boxKey, identity.boxKey))) return true;
    }
    return false;
  }

  /**
   * The application has just been shown DM `msgId` (a message, a change or a file offer), or the
   * room key it carried is stored: it is not handled again, even when a crash keeps the server's
   * catch-up from moving past it.
   */
  shown(msgId: string): void {
    try {
      this.host.account()?.sessions.markShown(msgId);
    } catch (error) {
      this.host.reportError(error);
    }
  }

  /**
   * A DM was handled (opened or not): the next device login asks only for newer ones, once every
   * event received before it is handled too. A live DM can come ahead of older ones of a login's
   * offline delivery; were `since` saved past those first, a crash before they are handled would
   * lose them.
   */
  handled(id: string): void {
    const state = this.host.account()?.state;
    if (!state) return;
    this.host.afterEvents(() => {
      if (state.noteDm(id)) this.saveState(state);
    });
  }

  /** 60 digits to compare out of band; covers every device of both accounts. */
  async safetyNumber(user: string): Promise<string> {
    const { user: me } = this.requireAccount();
    const [mine, theirs] = await Promise.all([this.keysOf(me, true), this.keysOf(user, true)]);
    if (theirs.length === 0) throw notLoggedIn(user, 'there is no safety number to compare until they have');
    if (mine.length === 0) throw new HushError('E2E_NO_DEVICES');
    return safetyNumber(me, keySetKey(mine), user, keySetKey(theirs));
  }

  /** Marks the contact's current keys as verified (persisted). */
  async verify(user: string): Promise<void> {
    const { state } = this.requireAccount();
    const keys = await this.keysOf(user, true);
    if (keys.length === 0) throw notLoggedIn(user, 'there is nothing to verify until they have');
    state.verified.set(user, keySetDigest(keys));
    await state.save();
  }

  isVerified(user: string): boolean {
    const state = this.host.account()?.state;
    if (!state) return false;
    const verified = state.verified.get(user);
    return verified !== undefined && verified === state.seenKeys.get(user);
  }

  /** A key_change event: the server pushed a user's new device set. */
  keysChanged(user: string, bundles: DeviceBundle[]): void {
    this.updateKeys(user, bundles);
  }

  /** The device ids of `user` in the key directory (cached). */
  async deviceIdsOf(user: string): Promise<string[]> {
    return (await this.keysOf(user)).map((b) => deviceId(b.signKey));
  }

  /** Cached key sets may be stale (logged out, or key_change events missed during an outage). */
  forgetKeys(): void {
    this.keyCache.clear();
  }

  /** Device bundles of `user` (verified; cached; refetched on demand). */
  private async keysOf(user: string, force = false): Promise<DeviceBundle[]> {
    const cached = this.keyCache.get(user);
    if (cached && !force) return cached;
    const reply = await this.host.request({ type: 'keys_get', user }, ['keys']);
    return this.updateKeys(user, reply.devices.map(bundleFromWire));
  }

  private updateKeys(user: string, bundles: DeviceBundle[]): DeviceBundle[] {
    const valid = bundles.filter((b) => {
      try {
        verifyBundle(b);
        return true;
      } catch {
        return false;
      }
    });
    if (valid.length < bundles.length) {
      this.host.emit('notice', {
        level: 'warn',
        code: 'E2E_BAD_KEYS',
        text: `ignored ${bundles.length - valid.length} invalid device key(s) of ${user}`,
      });
    }
    this.keyCache.set(user, valid);
    const account = this.host.account();
    if (account && valid.length > 0) {
      const { state } = account;
      const digest = keySetDigest(valid);
      const previous = state.seenKeys.get(user);
      if (previous !== digest) {
        state.seenKeys.set(user, digest);
        this.saveState(state);
        if (previous !== undefined && user !== account.user) this.host.emit('keyChange', { user, verified: state.verified.has(user) });
      }
      // Our own devices: one added (maybe not by us) or removed since this device last looked is said.
      const ids = user === account.user ? valid.map((b) => deviceId(b.signKey)).sort() : undefined;
      if (ids && state.ownDevices?.join() !== ids.join()) {
        const notice = ownDevicesNotice(state.ownDevices, ids);
        state.ownDevices = ids;
        this.saveState(state);
        if (notice) this.host.emit('notice', notice);
      }
    }
    return valid;
  }

  private requireAccount(): Account {
    const account = this.host.account();
    if (!account) throw new HushError('NOT_LOGGED_IN');
    return account;
  }

  private saveState(state: UserState): void {
    void state.save().catch((error: unknown) => this.host.reportError(error));
  }

  private saveSessions(sessions: SessionStore): void {
    void sessions.save().catch((error: unknown) => this.host.reportError(error));
  }
}

/** The sequence stream of a DM: one sending device to one user (the unit replays and gaps are counted in). */
function sequenceStream(from: string, senderKey: Uint8Array, to: string): string {
  return `${from}/${deviceId(senderKey)}>${to}`;
}

function sameKey(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;
}

function sortedKeys(bundles: readonly DeviceBundle[]): Uint8Array {
  const keys = bundles.map((b) => Buffer.from(b.signKey)).sort(Buffer.compare);
  return new Uint8Array(Buffer.concat(keys));
}

/** One 32-byte key standing for a user's whole device set (safety numbers of multi-device users). */
export function keySetKey(bundles: readonly DeviceBundle[]): Uint8Array {
  return sha512(sortedKeys(bundles)).subarray(0, 32);
}

/** Comparable text digest of a device set: changes when a device is added, removed or replaced. */
export function keySetDigest(bundles: readonly DeviceBundle[]): string {
  return b64(keySetKey(bundles));
}
