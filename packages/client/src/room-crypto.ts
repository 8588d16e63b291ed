import { isCryptoError } from '@hush/crypto';
import type { ServerMessageOf } from '@hush/protocol';
import { roomMessage, type IncomingMessage } from './conversation-ledger.js';
import { decodeBody, encodeBody, type DirectBody, type DirectFileInfo } from './direct-body.js';
import { HushError, isHushError } from './errors.js';
import type { RoomDevice, RoomKeyStore } from './room-keys.js';
import type { EmitEvent } from './types.js';
import { b64, unb64 } from './wire.js';

type RoomWire = ServerMessageOf<'message'>;

/**
 * How a room message reached this device: pushed by the server ('live'), fetched by a catch-up
 * ('missed': told like a live one), or in a history page ('page': nothing is said or offered).
 */
export type Arrival = 'live' | 'missed' | 'page';

export interface RoomCryptoHost {
  emit: EmitEvent;
  /** The logged-in user and this account's room key store. */
  keys(): { user: string; store: RoomKeyStore } | undefined;
  /** Every member of `room` (all pages). */
  memberNames(room: string): Promise<string[]>;
  /** The device ids of `user` in the key directory. */
  devicesOf(user: string): Promise<string[]>;
  /** Hands our sender key to every device of `user` (and our other devices) over the device sessions. */
  sendKey(user: string, distribution: Uint8Array): Promise<void>;
  /** A room message that opened after waiting for its sender's key. */
  deliver(chat: IncomingMessage): void;
  /** The sealed half of a room file offer (key, name, size, hash), from its sender. */
  fileOffer(from: string, file: DirectFileInfo): void;
}

/** Said of a place in a sender's chain used again, and of a message opened before that is pushed again. */
const REPLAYED = 'a message was played again by the server: ignored';
/** Opened room messages remembered per process, so an echo or a history page never decrypts twice. */
const OPENED_KEPT = 20_000;
/** Messages held per room while their sender's key has not arrived. */
const WAITING_KEPT = 1_000;
/** How long a live message waits for its sender's key before the device says it cannot open it (yet). */
const KEY_WAIT_MS = 5_000;
/** Members without prekeys are asked again this often, this many rounds in all (~2 s: a login's upload). */
const PREKEY_WAIT_STEP_MS = 250;
const PREKEY_WAIT_ROUNDS = 9;
/** Then skipped at hand-outs for this long, so that the room's messages do not each wait for them. */
const NO_PREKEYS_SKIP_MS = 60_000;

/**
 * End-to-end room messages: sealing with this device's sender key (handed first to every member
 * device lacking it, over the device sessions), opening with the keys other devices handed us, and
 * holding a live message back until its sender's key arrives. The body inside is the same JSON as
 * a DM's (text, action, ref; or a room file's key, name, size and hash).
 */
export class RoomCrypto {
  /** msgId -> what it said, for messages already opened (or sealed) by this process. */
  private readonly opened = new Map<string, DirectBody>();
  /** Envelope -> body of our own messages, until the echo gives them an id. */
  private readonly own = new Map<string, DirectBody>();
  /** msgId -> its decryption under way. */
  private readonly opening = new Map<string, Promise<DirectBody | undefined>>();
  /** room -> live or missed messages whose sender key has not arrived yet, in order (said: their wait was reported). */
  private readonly waiting = new Map<string, { m: RoomWire; arrival: Arrival; said: boolean }[]>();
  /** room -> the timer that reports its messages still waiting. */
  private readonly waitTimers = new Map<string, NodeJS.Timeout>();
  /** room -> its members as last fetched; dropped when someone joins or leaves, and on reconnect. */
  private readonly members = new Map<string, string[]>();
  /** member -> until when a member found without prekeys is skipped at hand-out without asking again. */
  private readonly noPrekeysUntil = new Map<string, number>();

  constructor(private readonly host: RoomCryptoHost) {}

  /**
   * Hands our key for `room` (a fresh one after someone left) to every member device that lacks it.
   * Before `seal`, as the gate of the message's outbox entry: the key travels in DMs that go out ahead of it.
   */
  async distribute(room: string): Promise<void> {
    const { store } = this.requireKeys();
    const members: RoomDevice[] = [];
    let names = this.members.get(room);
    if (!names) {
      names = await this.host.memberNames(room);
      this.members.set(room, names);
    }
    for (const name of names) {
      for (const device of await this.host.devicesOf(name)) members.push({ user: name, device });
    }
    const { distribution, devices } = store.recipientsLacking(room, members);
    // A member none of whose devices has published prekeys cannot be handed the key. A device that
    // just logged in publishes them a moment after its welcome, so such members are asked again for
    // a little while, all in the same rounds (the wait does not grow with their number); one that
    // never does (a client that stopped short of it, any account made over the raw protocol) must
    // not hold the room up: it is skipped, and for a while not asked again, staying without the key
    // until a later message hands it over.
    let waiting = [...new Set(devices.map((d) => d.user))].filter((name) => (this.noPrekeysUntil.get(name) ?? 0) <= Date.now());
    for (let round = 1; waiting.length > 0; round++) {
      const without: string[] = [];
      for (const name of waiting) {
        try {
          await this.host.sendKey(name, distribution);
        } catch (error) {
          if (!isHushError(error, 'E2E_NO_PREKEYS')) throw error;
          without.push(name);
          continue;
        }
        this.noPrekeysUntil.delete(name);
        await store.markHolders(
          room,
          devices.filter((d) => d.user === name),
        );
      }
      if (without.length > 0 && round >= PREKEY_WAIT_ROUNDS) {
        for (const name of without) this.noPrekeysUntil.set(name, Date.now() + NO_PREKEYS_SKIP_MS);
        return;
      }
      if (without.length > 0) await new Promise((resolve) => setTimeout(resolve, PREKEY_WAIT_STEP_MS));
      waiting = without;
    }
  }

  /** Seals `body` for `room` under our current key (after `distribute`). */
  async seal(room: string, body: DirectBody): Promise<string> {
    const { store } = this.requireKeys();
    let sealed: Uint8Array;
    try {
      sealed = await store.seal(room, new TextEncoder().encode(encodeBody(body)));
    } catch (error) {
      throw new HushError('E2E_ROOM_KEY', `#${room}: someone left before this message went out: send it again`, { cause: error });
    }
    const envelope = b64(sealed);
    this.own.set(envelope, body);
    return envelope;
  }

  /** Our own message was stored in `room` under `id`; resolves once that is on disk (see RoomKeyStore.openedBefore). */
  async sent(room: string, envelope: string, id: string): Promise<void> {
    const body = this.own.get(envelope);
    if (body === undefined) return;
    this.own.delete(envelope);
    this.remember(id, body);
    await this.host.keys()?.store.sent(room, id, unb64(envelope));
  }

  /**
   * Opens a room message. Undefined when it cannot be read: sent before we had its sender's key
   * (before we joined, or the key is on its way: a live or missed one then waits for it, see
   * `isHeld`), forged, or replayed (said in a notice); or when it is no text (a room file offer).
   */
  async open(m: RoomWire, arrival: Arrival): Promise<IncomingMessage | undefined> {
    const keys = this.host.keys();
    if (!keys || m.envelope === undefined) return undefined;
    let body = this.opened.get(m.msgId) ?? this.own.get(m.envelope);
    if (body === undefined) {
      // The same message live and in a history page at once: one decryption (a second would be a replay).
      let opening = this.opening.get(m.msgId);
      if (!opening) {
        opening = this.decrypt(m, m.envelope, arrival, keys.store).finally(() => this.opening.delete(m.msgId));
        this.opening.set(m.msgId, opening);
        const fresh = await opening;
        // A room file's sealed half is offered once, as it arrives (a history page only shows text).
        if (fresh && 'file' in fresh && arrival !== 'page') this.host.fileOffer(m.from, fresh.file);
      }
      body = await opening;
      if (body === undefined) return undefined;
    }
    this.remember(m.msgId, body);
    if (!('text' in body)) return undefined;
    return { ...roomMessage(m, body, keys.user), sealed: true };
  }

  /** A live or missed message waits for its sender's key (it is delivered once the key comes). */
  isHeld(m: RoomWire): boolean {
    return this.waiting.get(m.room)?.some((e) => e.m.msgId === m.msgId) ?? false;
  }

  private async decrypt(m: RoomWire, envelope: string, arrival: Arrival, store: RoomKeyStore): Promise<DirectBody | undefined> {
    const told = arrival !== 'page';
    const bytes = unb64(envelope);
    if (store.openedBefore(m.room, m.msgId, bytes)) {
      // Opened by an earlier run of this device (its key has moved on): fetched again it is known
      // (shown then); pushed again, the server plays it again.
      if (arrival === 'live') this.warn(m, REPLAYED);
      return undefined;
    }
    let body: DirectBody | undefined;
    try {
      const opened = await store.open(m.room, m.from, bytes, m.msgId);
      body = decodeBody(new TextDecoder('utf-8', { fatal: true }).decode(opened.plaintext));
      if (opened.order === 'ahead' && told)
        // A message the server refused (the sender was muted, say) keeps its place in the chain, as
        // no place is used twice: the gap alone cannot tell that from one the server held back.
        this.warn(
          m,
          'messages of this sender are missing before this one: refused when sent (the sender was told) or lost, or held back by the server',
        );
      if (opened.order === 'late' && told) this.warn(m, 'a message of this sender arrived out of its order');
    } catch (error) {
      if (isCryptoError(error, 'SENDER_KEY_UNKNOWN')) {
        // Our own device's message whose text this process no longer holds (sealed by a process that
        // died before it was stored as sent, an upload's offer): no key will come for it.
        if (told && !store.sealedHere(bytes)) this.wait(m, arrival);
        return undefined;
      }
      if (told) this.warn(m, isCryptoError(error, 'MESSAGE_REPLAYED') ? REPLAYED : 'a message did not open (forged or damaged): ignored');
      return undefined;
    }
    if (body === undefined || 'roomKey' in body) {
      if (told) this.warn(m, 'a message did not open (not a room message): ignored');
      return undefined;
    }
    return body;
  }

  /** A sender key another device handed us; that sender's messages of the room waiting for it are tried again. */
  async accept(from: RoomDevice, distribution: Uint8Array): Promise<void> {
    const keys = this.host.keys();
    if (!keys) return;
    const room = await keys.store.acceptDistribution(from, distribution);
    // Only that sender's messages can open now; the others keep waiting (and stay said if they were).
    const held = this.waiting.get(room) ?? [];
    const others = held.filter((e) => e.m.from !== from.user);
    if (others.length > 0) this.waiting.set(room, others);
    else this.waiting.delete(room);
    for (const { m, arrival } of held.filter((e) => e.m.from === from.user)) {
      const chat = await this.open(m, arrival);
      if (chat) this.host.deliver(chat);
    }
  }

  /** Someone joined `room`: the next message fetches its members again. */
  memberAdded(room: string): void {
    this.members.delete(room);
  }

  /** Someone left the room: our next message there goes out under a fresh key. */
  memberRemoved(room: string): Promise<void> {
    this.members.delete(room);
    return this.host.keys()?.store.memberRemoved(room) ?? Promise.resolve();
  }

  /** After an outage: join and part events may have been missed. */
  forgetMembers(): void {
    this.members.clear();
  }

  private wait(m: RoomWire, arrival: Arrival): void {
    const list = this.waiting.get(m.room) ?? [];
    list.push({ m, arrival, said: false });
    this.waiting.set(m.room, list.slice(-WAITING_KEPT));
    if (!this.waitTimers.has(m.room)) {
      const timer = setTimeout(() => this.sayWaiting(m.room), KEY_WAIT_MS);
      timer.unref();
      this.waitTimers.set(m.room, timer);
    }
  }

  /**
   * Says, per sender, how many of the room's messages still wait for a key that never came (sent
   * before we joined or after we left, or the server withholds the key or made the message up).
   * They keep waiting: a late key still opens them.
   */
  private sayWaiting(room: string): void {
    this.waitTimers.delete(room);
    const bySender = new Map<string, RoomWire[]>();
    for (const entry of this.waiting.get(room) ?? []) {
      if (entry.said) continue;
      entry.said = true;
      bySender.set(entry.m.from, [...(bySender.get(entry.m.from) ?? []), entry.m]);
    }
    for (const [, held] of bySender) {
      const count = held.length === 1 ? 'a message' : `${held.length} messages`;
      this.warn(
        held[0]!,
        `${count} could not be opened yet: the sender's key has not reached this device (sent before it joined or after it left, or the server withholds the key)`,
      );
    }
  }

  private remember(id: string, body: DirectBody): void {
    if (this.opened.size >= OPENED_KEPT) this.opened.delete(this.opened.keys().next().value!);
    this.opened.set(id, body);
  }

  private warn(m: RoomWire, text: string): void {
    this.host.emit('notice', { level: 'warn', code: 'E2E_ROOM_MESSAGE', text: `#${m.room}, from ${m.from}: ${text}` });
  }

  private requireKeys(): { user: string; store: RoomKeyStore } {
    const keys = this.host.keys();
    if (!keys) throw new HushError('NOT_LOGGED_IN');
    return keys;
  }
}
