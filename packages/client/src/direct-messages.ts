import { randomBytes } from 'node:crypto';
import {
  decodeSealedDirect, deviceId, encodeSealedDirect, openDirect, safetyNumber, sealDirect, sha512, verifyBundle,
  type DeviceBundle, type DeviceIdentity, type DirectInner,
} from '@hush/crypto';
import type { ServerMessageOf, ServerMessageType } from '@hush/protocol';
import { decodeBody, encodeBody, type DirectBody, type DirectFileInfo } from './direct-body.js';
import { HushError } from './errors.js';
import type { RequestBody } from './requests.js';
import type { SendQueue } from './send-queue.js';
import type { ChatMessage, EmitEvent } from './types.js';
import type { UserState } from './user-state.js';
import { b64, bundleFromWire, unb64 } from './wire.js';

type DirectWire = ServerMessageOf<'dm'>;

/** The logged-in account: who we are, this device's keys, and the persisted end-to-end state. */
export interface Account {
  user: string;
  device: DeviceIdentity;
  state: UserState;
}

export interface DirectHost {
  emit: EmitEvent;
  account(): Account | undefined;
  /** A key lookup; must not wait for 'ready' while a reconnect catches up (it would wait for itself). */
  request<T extends ServerMessageType>(body: RequestBody, expect: readonly T[]): Promise<ServerMessageOf<T>>;
  /** The send queue: paced, kept across outages, settled by the server's ack. */
  queueSend(...args: Parameters<SendQueue['add']>): ReturnType<SendQueue['add']>;
  reportError(error: unknown): void;
}

/** What an opened direct message holds: a line of chat or a file offer. */
export type OpenedDirect = { chat: ChatMessage } | { file: DirectFileInfo };

/**
 * End-to-end direct messages: sealing to every device of both accounts, opening with the sender's
 * verified device bundle, replay and gap checks per sending device, and the contacts' key sets
 * (cache, key-change warnings, safety numbers, verification).
 */
export class DirectMessages {
  private readonly keyCache = new Map<string, DeviceBundle[]>();

  constructor(private readonly host: DirectHost) {}

  /**
   * Queued like a room send. The envelope is sealed once, when it first goes out, so every attempt
   * carries the same sequence number.
   */
  async send(user: string, body: DirectBody): Promise<{ id: string; ts: number }> {
    const { user: me, device, state } = this.requireAccount();
    let seq = 0;
    const ack = await this.host.queueSend(
      { target: { user }, text: 'text' in body ? body.text : '', action: 'text' in body && body.action, listed: 'text' in body },
      async (key) => {
        const theirs = await this.keysOf(user);
        if (theirs.length === 0) throw new HushError('E2E_NO_DEVICES', `${user} has no device keys yet`);
        const verified = state.verified.get(user);
        if (verified !== undefined && verified !== keySetDigest(theirs)) {
          throw new HushError('E2E_KEY_CHANGED', `the keys of ${user} changed since you verified them: compare the safety number and verify again`);
        }
        const mine = user === me ? [] : await this.keysOf(me);
        const inner: DirectInner = {
          from: me,
          to: user,
          id: randomBytes(12).toString('base64url'),
          seq: await state.nextSeq(user),
          sentAt: Date.now(),
          body: encodeBody(body),
        };
        seq = inner.seq;
        const sealed = sealDirect(device, [...theirs, ...mine, device.bundle()], inner);
        return { type: 'dm_send', to: user, envelope: b64(encodeSealedDirect(sealed)), key };
      },
    );
    // Record our own sequence number too: a server that later plays this envelope back to us
    // (under a new id) is then caught as a replay like any other.
    state.checkSequence(sequenceStream(me, device.signPublicKey, user), seq);
    // Everything queued to us before this ack arrived before it: since can move past our own DM.
    state.noteDm(ack.msgId);
    this.saveState(state);
    return { id: ack.msgId, ts: ack.ts };
  }

  /**
   * Opens a sealed DM with the sender's device bundle (fetched if unknown, refetched once on failure),
   * checks the inner routing against the server's, and (live) the sending device's sequence.
   */
  async open(m: DirectWire, live: boolean): Promise<OpenedDirect | undefined> {
    const account = this.host.account();
    if (!account) return undefined;
    const { user: me, device, state } = account;
    const peer = m.from === me ? m.to : m.from;
    const warn = (kind: 'replay' | 'gap' | 'undecryptable', missing?: number) => {
      if (live) this.host.emit('dmWarning', { user: peer, kind, ...(missing === undefined ? {} : { missing }) });
    };
    let inner: DirectInner | undefined;
    let senderKey: Uint8Array | undefined;
    try {
      const sealed = decodeSealedDirect(unb64(m.envelope));
      senderKey = sealed.sender;
      for (const force of [false, true]) {
        const bundles = await this.keysOf(m.from, force);
        const bundle = bundles.find((b) => Buffer.compare(Buffer.from(b.signKey), Buffer.from(sealed.sender)) === 0);
        if (!bundle) continue;
        try {
          inner = openDirect(device, sealed, bundle);
          break;
        } catch {
          // stale bundle? refetch once
        }
      }
    } catch {
      inner = undefined;
    }
    if (!inner || !senderKey || inner.from !== m.from || inner.to !== m.to || (m.to !== me && m.from !== me)) {
      warn('undecryptable');
      return undefined;
    }
    if (live) {
      const status = state.checkSequence(sequenceStream(inner.from, senderKey, inner.to), inner.seq);
      this.saveState(state);
      if (status.status === 'replay') {
        warn('replay');
        return undefined;
      }
      if (status.status === 'gap') warn('gap', status.missing);
    }
    const body = decodeBody(inner.body);
    if (!body) {
      warn('undecryptable');
      return undefined;
    }
    if ('file' in body) return { file: body.file };
    return {
      chat: { kind: 'dm', id: m.msgId, ts: m.ts, from: m.from, peer, text: body.text, action: body.action, mine: m.from === me },
    };
  }

  /** A DM was handled (opened or not): the next device login asks only for newer ones. */
  handled(id: string): void {
    const state = this.host.account()?.state;
    if (state?.noteDm(id)) this.saveState(state);
  }

  /** 60 digits to compare out of band; covers every device of both accounts. */
  async safetyNumber(user: string): Promise<string> {
    const { user: me } = this.requireAccount();
    const [mine, theirs] = await Promise.all([this.keysOf(me, true), this.keysOf(user, true)]);
    if (theirs.length === 0 || mine.length === 0) throw new HushError('E2E_NO_DEVICES');
    return safetyNumber(me, keySetKey(mine), user, keySetKey(theirs));
  }

  /** Marks the contact's current keys as verified (persisted). */
  async verify(user: string): Promise<void> {
    const { state } = this.requireAccount();
    const keys = await this.keysOf(user, true);
    if (keys.length === 0) throw new HushError('E2E_NO_DEVICES');
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
      this.host.emit('notice', { level: 'warn', code: 'E2E_BAD_KEYS', text: `ignored ${bundles.length - valid.length} invalid device key(s) of ${user}` });
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
}

/** The sequence stream of a DM: one sending device to one user (the unit replays and gaps are counted in). */
function sequenceStream(from: string, senderKey: Uint8Array, to: string): string {
  return `${from}/${deviceId(senderKey)}>${to}`;
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
