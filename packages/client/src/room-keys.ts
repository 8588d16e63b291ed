import { createHash } from 'node:crypto';
import { join } from 'node:path';
import {
  CryptoError,
  InboundSenderKey,
  OutboundSenderKey,
  decodeSenderKeyDistribution,
  encodeSenderKeyDistribution,
  type SenderKeyOrder,
} from '@hush/crypto';
import { fileSafe } from './paths.js';
import { readOptional, writePrivateFile } from './secure-fs.js';
import type { RoomKind } from './types.js';
import { b64, unb64 } from './wire.js';

// This device's sender keys for end-to-end rooms, in one private file (0600) replaced atomically:
// <server home>/state/<user>.roomkeys.json. Per room: our own outbound key, the member
// devices that already hold it, the keys other devices gave us, and the room's kind as we last saw
// it. The chain advanced by a message is saved before that message leaves (`seal` resolves after
// the write), so a crash never reuses an iteration.
//
// Rules a room relies on, kept here in one place:
// - a device is given our key before our first message to it (`recipientsLacking`);
// - after anyone leaves, is kicked or banned, our next message goes out under a fresh key
//   (`memberRemoved`, or a holder missing from the member list `recipientsLacking` is given),
//   handed only to the devices still in the room;
// - a room we saw end-to-end never silently becomes open (`noteKind` says 'downgrade').

/** A member device as the room sees it: the account and the device id (@hush/crypto deviceId). */
export interface RoomDevice {
  user: string;
  device: string;
}

/** Earlier keys of one sender device kept, so its messages sent just before a rotation still open. */
const PREVIOUS_INBOUND_KEYS = 3;
/**
 * Messages remembered per room as opened by this device (id and envelope digest), saved with the
 * chain they advanced: a catch-up after a restart may fetch again the newest few (its cursor is
 * saved a moment later than the chain), and those are then known, not taken for a replay.
 */
const OPENED_IDS_KEPT = 64;
const ENVELOPE_VERSION = 1;

interface StoredRoom {
  kind?: RoomKind;
  outbound?: string;
  holders: string[];
  rotate: boolean;
  /** "user/device" -> inbound key states, newest first */
  inbound: Record<string, string[]>;
  /** [message id, envelope digest] of the messages this device opened (or sent) last, oldest first. */
  opened?: [string, string][];
}

interface RoomKeyFile {
  version: 1;
  rooms: Record<string, StoredRoom>;
}

interface RoomState {
  kind?: RoomKind;
  outbound?: OutboundSenderKey;
  /** "user/device" that hold our current outbound key. */
  holders: Set<string>;
  /** Rotate before the next message: someone left since the key was handed out. */
  rotate: boolean;
  inbound: Map<string, InboundSenderKey[]>;
  /** message id -> envelope digest, oldest first (see OPENED_IDS_KEPT). */
  opened: Map<string, string>;
}

const deviceKey = (d: RoomDevice): string => `${d.user}/${d.device}`;

/** What opening a room envelope gives: the text bytes and how it stands in its sender's chain. */
export interface OpenedRoomMessage {
  plaintext: Uint8Array;
  device: string;
  order: SenderKeyOrder;
}

/** A room envelope: u8 version | u16 length + sender device id | sender-key message. */
export function encodeRoomEnvelope(device: string, message: Uint8Array): Uint8Array {
  const id = new TextEncoder().encode(device);
  if (id.length > 0xffff) throw new CryptoError('INVALID_ARGUMENT');
  const out = new Uint8Array(3 + id.length + message.length);
  out[0] = ENVELOPE_VERSION;
  out[1] = id.length >>> 8;
  out[2] = id.length & 0xff;
  out.set(id, 3);
  out.set(message, 3 + id.length);
  return out;
}

export function decodeRoomEnvelope(bytes: Uint8Array): { device: string; message: Uint8Array } {
  if (bytes.length < 3 || bytes[0] !== ENVELOPE_VERSION) throw new CryptoError('BOX_OPEN_FAILED');
  const length = (bytes[1]! << 8) | bytes[2]!;
  if (bytes.length < 3 + length) throw new CryptoError('BOX_OPEN_FAILED');
  return { device: new TextDecoder().decode(bytes.subarray(3, 3 + length)), message: bytes.subarray(3 + length) };
}

export class RoomKeyStore {
  private readonly rooms = new Map<string, RoomState>();
  private saving: Promise<void> = Promise.resolve();

  private constructor(
    private readonly path: string,
    /** This device: the sender device named in our messages. */
    readonly self: RoomDevice,
  ) {}

  static async load(stateDir: string, self: RoomDevice): Promise<RoomKeyStore> {
    const store = new RoomKeyStore(join(stateDir, `${fileSafe(self.user)}.roomkeys.json`), self);
    const text = await readOptional(store.path);
    if (text === undefined) return store;
    const f = JSON.parse(text) as RoomKeyFile;
    if (f.version !== 1) throw new Error(`unknown room key state version in ${store.path}`);
    for (const [room, r] of Object.entries(f.rooms)) {
      const inbound = new Map<string, InboundSenderKey[]>();
      for (const [sender, states] of Object.entries(r.inbound))
        inbound.set(
          sender,
          states.map((s) => InboundSenderKey.fromBytes(unb64(s))),
        );
      store.rooms.set(room, {
        ...(r.kind ? { kind: r.kind } : {}),
        ...(r.outbound ? { outbound: OutboundSenderKey.fromBytes(unb64(r.outbound)) } : {}),
        holders: new Set(r.holders),
        rotate: r.rotate,
        inbound,
        opened: new Map(r.opened ?? []),
      });
    }
    return store;
  }

  get file(): string {
    return this.path;
  }

  private room(room: string): RoomState {
    let r = this.rooms.get(room);
    if (!r) {
      r = { holders: new Set(), rotate: false, inbound: new Map(), opened: new Map() };
      this.rooms.set(room, r);
    }
    return r;
  }

  /**
   * Remembers the kind the server reports. 'downgrade' when a room this device saw end-to-end is now
   * reported open: the caller must refuse to send in clear and warn (the kind stays e2e here).
   */
  noteKind(room: string, kind: RoomKind): 'ok' | 'downgrade' {
    const r = this.room(room);
    if (r.kind === 'e2e' && kind === 'open') return 'downgrade';
    if (r.kind !== kind) {
      r.kind = kind;
      // Each save writes the whole state: a failed one here is repeated by the next.
      this.save().catch(() => undefined);
    }
    return 'ok';
  }

  kindOf(room: string): RoomKind | undefined {
    return this.rooms.get(room)?.kind;
  }

  /** Someone left, was kicked or banned: our next message goes out under a fresh key. */
  memberRemoved(room: string): Promise<void> {
    const r = this.room(room);
    r.rotate = true;
    return this.save();
  }

  /** We left the room (or were removed): every key of it is forgotten. */
  forgetRoom(room: string): Promise<void> {
    this.rooms.delete(room);
    return this.save();
  }

  /**
   * Our current key for `room` (rotated first when a member was removed), and the member devices
   * that do not hold it yet: hand them `distribution` over the device sessions, then `markHolders`.
   */
  recipientsLacking(room: string, members: readonly RoomDevice[]): { distribution: Uint8Array; devices: RoomDevice[] } {
    const r = this.room(room);
    // A holder no longer among the members left without our hearing of it (an event missed in an
    // outage, a device removed): rotate all the same.
    const current = new Set(members.map(deviceKey));
    if ([...r.holders].some((h) => !current.has(h))) r.rotate = true;
    if (!r.outbound || r.rotate) {
      r.outbound = OutboundSenderKey.create(room, this.self.device);
      r.holders.clear();
      r.rotate = false;
    }
    const selfKey = deviceKey(this.self);
    const devices = members.filter((m) => deviceKey(m) !== selfKey && !r.holders.has(deviceKey(m)));
    return { distribution: encodeSenderKeyDistribution(r.outbound.distribution()), devices };
  }

  /** These devices now hold our current key of `room`. */
  markHolders(room: string, devices: readonly RoomDevice[]): Promise<void> {
    const r = this.room(room);
    for (const d of devices) r.holders.add(deviceKey(d));
    return this.save();
  }

  /**
   * Encrypts one room message under our current key; resolves once the advanced chain is on disk.
   * Call `recipientsLacking` first (it creates or rotates the key).
   */
  async seal(room: string, plaintext: Uint8Array): Promise<Uint8Array> {
    const r = this.rooms.get(room);
    if (!r?.outbound || r.rotate) throw new Error(`no current sender key for ${room}: hand it out first`);
    const envelope = encodeRoomEnvelope(this.self.device, r.outbound.encrypt(plaintext));
    await this.save();
    return envelope;
  }

  /**
   * A key another device handed us over its device session. `from` must be the authenticated peer of
   * that session. The newest key of a sender goes first; a few older ones stay for late messages.
   */
  acceptDistribution(from: RoomDevice, bytes: Uint8Array): Promise<string> {
    const d = decodeSenderKeyDistribution(bytes);
    const inbound = InboundSenderKey.fromDistribution(d, from.device, d.room);
    const r = this.room(d.room);
    const list = (r.inbound.get(deviceKey(from)) ?? []).filter((k) => k.keyId !== d.keyId);
    r.inbound.set(deviceKey(from), [inbound, ...list].slice(0, 1 + PREVIOUS_INBOUND_KEYS));
    return this.save().then(() => d.room);
  }

  /**
   * Opens a room envelope `from` sent. Throws a CryptoError: SENDER_KEY_UNKNOWN (sent before we got
   * its key: e.g. before we joined), SENDER_SIGNATURE_INVALID (forged), MESSAGE_REPLAYED, ...
   * With `msgId` (the server's id of the message), it is remembered as opened, in the same save as
   * the chain it advanced (see `openedBefore`).
   */
  async open(room: string, from: string, envelope: Uint8Array, msgId?: string): Promise<OpenedRoomMessage> {
    const { device, message } = decodeRoomEnvelope(envelope);
    const keys = this.rooms.get(room)?.inbound.get(`${from}/${device}`) ?? [];
    let lastError: unknown = new CryptoError('SENDER_KEY_UNKNOWN');
    for (const key of keys) {
      try {
        const opened = key.decrypt(message);
        if (msgId !== undefined) this.rememberOpened(room, msgId, envelope);
        await this.save();
        return { plaintext: opened.plaintext, device, order: opened.order };
      } catch (err) {
        lastError = err;
        // another key id: try the sender's older keys; anything else is this key's verdict
        if (!(err instanceof CryptoError && err.code === 'SENDER_KEY_UNKNOWN')) break;
      }
    }
    throw lastError;
  }

  /** Whether `envelope` was sealed by this device (it holds no inbound key of its own chain). */
  sealedHere(envelope: Uint8Array): boolean {
    return decodeRoomEnvelope(envelope).device === this.self.device;
  }

  /** Our own message `envelope` was stored under `msgId`: it counts as opened (see `openedBefore`). */
  sent(room: string, msgId: string, envelope: Uint8Array): Promise<void> {
    this.rememberOpened(room, msgId, envelope);
    return this.save();
  }

  /**
   * This device opened (or sent) this very message, under this id, before: its key has moved on, so
   * opening it again would fail as a replay. Another envelope under a known id is not it.
   */
  openedBefore(room: string, msgId: string, envelope: Uint8Array): boolean {
    return this.rooms.get(room)?.opened.get(msgId) === digestOf(envelope);
  }

  private rememberOpened(room: string, msgId: string, envelope: Uint8Array): void {
    const { opened } = this.room(room);
    opened.set(msgId, digestOf(envelope));
    for (const id of opened.keys()) {
      if (opened.size <= OPENED_IDS_KEPT) break;
      opened.delete(id);
    }
  }

  /** Resolves once every save asked for so far has finished (close waits for it). */
  flushed(): Promise<void> {
    return this.saving.catch(() => undefined);
  }

  /** Serialised atomic writes of the whole state (the last call's state wins). */
  save(): Promise<void> {
    const rooms: Record<string, StoredRoom> = {};
    for (const [room, r] of this.rooms) {
      const inbound: Record<string, string[]> = {};
      for (const [sender, keys] of r.inbound) inbound[sender] = keys.map((k) => b64(k.toBytes()));
      rooms[room] = {
        ...(r.kind ? { kind: r.kind } : {}),
        ...(r.outbound ? { outbound: b64(r.outbound.toBytes()) } : {}),
        holders: [...r.holders],
        rotate: r.rotate,
        inbound,
        ...(r.opened.size > 0 ? { opened: [...r.opened] } : {}),
      };
    }
    const file: RoomKeyFile = { version: 1, rooms };
    const text = `${JSON.stringify(file)}\n`;
    this.saving = this.saving.catch(() => undefined).then(() => writePrivateFile(this.path, text));
    return this.saving;
  }
}

/** A short digest of an envelope: tells the message opened under an id from another one under it. */
function digestOf(envelope: Uint8Array): string {
  return createHash('sha256').update(envelope).digest().subarray(0, 16).toString('base64url');
}
