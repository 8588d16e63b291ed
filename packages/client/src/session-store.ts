import { createHash } from 'node:crypto';
import { appendFileSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  deviceId,
  generateOneTimePrekeys,
  generateSignedPrekey,
  oneTimePrekeysToAdd,
  planSignedPrekeys,
  RatchetSession,
  type DeviceIdentity,
  type OneTimePrekeyPair,
  type PrekeyLookup,
  type SignedPrekeyPair,
} from '@hush/crypto';
import { fileSafe } from './paths.js';
import { readOptional, writePrivateFile } from './secure-fs.js';
import { b64, unb64 } from './wire.js';

// This device's forward-secret state for one server + account, in one private file (0600) that is
// replaced atomically: <server home>/state/<user>.sessions.json. Sessions, prekey secrets
// and the journal of opened messages change together in one write, so a crash leaves either the
// state before a message or the state after it, never half of each.
// Beside it, <user>.shown lists the DMs already handed to the application, one server id a line,
// appended as each is shown: a DM the server offers again after a crash (its catch-up
// cursor was not saved yet) is then not shown twice.

/** How long a message key skipped over is kept (then the message it belongs to cannot open). */
export const SKIPPED_KEY_TTL_MS = 30 * 24 * 3600 * 1000;
/** Opened and sent direct messages remembered by server id (re-offered ones are not decrypted twice). */
const JOURNAL_LIMIT = 2000;
/** Base keys of sessions accepted, remembered to refuse a replayed session start. */
const BASE_KEY_LIMIT = 4000;
/** DMs remembered as shown; the file is rewritten with these once it holds twice as many lines. */
export const SHOWN_LIMIT = JOURNAL_LIMIT;

interface StoredPrekey {
  id: number;
  createdAt?: number;
  publicKey: string;
  secretKey: string;
  signature?: string;
}

interface SessionFile {
  version: 1;
  nextPrekeyId: number;
  signedPrekeys: StoredPrekey[];
  oneTimePrekeys: StoredPrekey[];
  /** device id -> [current session, previous session?] (the previous one stays while both sides start at once). */
  sessions: Record<string, string[]>;
  baseKeys: string[];
  /** server message id -> a direct message this device opened or sent (a bare string: its inner text, as written before senders were kept). */
  journal: Record<string, JournalEntry | string>;
  /** envelope digest -> a DM this device sent (its inner text, and its server id once known). */
  sent: Record<string, { inner: string; msgId?: string }>;
}

/** A DM this device opened or sent: its inner text, and for one it opened, the device that sent it (base64url sign key). */
export interface JournalEntry {
  inner: string;
  sender?: string;
}

/** What a prekey upload should carry, and what to remember once the server has it. */
export interface PrekeyUpload {
  signedPrekey: { id: number; createdAt: number; publicKey: string; signature: string };
  oneTimePrekeys: { id: number; publicKey: string }[];
}

export class SessionStore {
  private nextPrekeyId = 1;
  private signed: SignedPrekeyPair[] = [];
  private oneTime = new Map<number, OneTimePrekeyPair>();
  private readonly sessions = new Map<string, RatchetSession[]>();
  private baseKeys: string[] = [];
  private readonly baseKeySet = new Set<string>();
  private readonly journal = new Map<string, JournalEntry>();
  private readonly sent = new Map<string, { inner: string; msgId?: string }>();
  private saving: Promise<void> = Promise.resolve();
  private readonly shown = new Set<string>();
  private shownLines = 0;

  private constructor(
    private readonly path: string,
    private readonly shownPath: string,
  ) {}

  static async load(stateDir: string, user: string): Promise<SessionStore> {
    const base = join(stateDir, fileSafe(user));
    const store = new SessionStore(`${base}.sessions.json`, `${base}.shown`);
    const shown = (await readOptional(store.shownPath))?.split('\n').filter((id) => id !== '') ?? [];
    for (const id of shown.slice(-SHOWN_LIMIT)) store.shown.add(id);
    store.shownLines = shown.length;
    const text = await readOptional(store.path);
    if (text === undefined) return store;
    const f = JSON.parse(text) as SessionFile;
    if (f.version !== 1) throw new Error(`unknown session state version in ${store.path}`);
    store.nextPrekeyId = f.nextPrekeyId;
    store.signed = f.signedPrekeys.map((p) => ({
      id: p.id,
      createdAt: p.createdAt ?? 0,
      publicKey: unb64(p.publicKey),
      secretKey: unb64(p.secretKey),
      signature: unb64(p.signature ?? ''),
    }));
    for (const p of f.oneTimePrekeys) store.oneTime.set(p.id, { id: p.id, publicKey: unb64(p.publicKey), secretKey: unb64(p.secretKey) });
    for (const [device, states] of Object.entries(f.sessions)) {
      const kept: RatchetSession[] = [];
      for (const state of states) {
        try {
          kept.push(RatchetSession.fromBytes(unb64(state)));
        } catch {
          // SESSION_STATE_INVALID: dropped; the next message starts a new session
        }
      }
      if (kept.length > 0) store.sessions.set(device, kept);
    }
    for (const key of f.baseKeys) store.rememberBaseKey(key);
    for (const [id, entry] of Object.entries(f.journal)) store.journal.set(id, typeof entry === 'string' ? { inner: entry } : entry);
    for (const [digest, entry] of Object.entries(f.sent ?? {})) store.sent.set(digest, entry);
    return store;
  }

  // ---- prekeys ----

  /**
   * Rotates the signed prekey when it is due (keeping replaced ones for their grace period) and
   * returns what to upload. Persisted before the caller uploads, so a key the server hands out
   * always has its secret here.
   */
  async prepareSignedPrekey(device: DeviceIdentity, now: number): Promise<PrekeyUpload> {
    const plan = planSignedPrekeys(this.signed, now);
    this.signed = plan.keep;
    if (plan.rotate) this.signed.unshift(generateSignedPrekey(device, { id: this.takeIds(1), now }));
    await this.save();
    return { signedPrekey: this.currentSignedPrekey(), oneTimePrekeys: [] };
  }

  /** New one-time prekeys when the server holds `remaining` (none when enough are left); persisted first. */
  async prepareOneTimePrekeys(remaining: number): Promise<PrekeyUpload | undefined> {
    const count = oneTimePrekeysToAdd(remaining);
    if (count === 0 || this.signed.length === 0) return undefined;
    const fresh = generateOneTimePrekeys({ firstId: this.takeIds(count), count });
    for (const p of fresh) this.oneTime.set(p.id, p);
    await this.save();
    return { signedPrekey: this.currentSignedPrekey(), oneTimePrekeys: fresh.map((p) => ({ id: p.id, publicKey: b64(p.publicKey) })) };
  }

  /** How RatchetSession.accept finds this device's prekey secrets. */
  prekeyLookup(): PrekeyLookup {
    return {
      signedPrekey: (id) => this.signed.find((p) => p.id === id),
      oneTimePrekey: (id) => this.oneTime.get(id),
    };
  }

  /** Forgets a one-time prekey for good (saved with the session it started). */
  useOneTimePrekey(id: number): void {
    this.oneTime.delete(id);
  }

  // ---- sessions ----

  /** Sessions with a device, newest first. */
  sessionsWith(signKey: Uint8Array): readonly RatchetSession[] {
    return this.sessions.get(deviceId(signKey)) ?? [];
  }

  /** Makes `session` the current one with its device; the one before it is kept as the previous. */
  setSession(session: RatchetSession): void {
    const id = deviceId(session.peerIdentity.signKey);
    const others = (this.sessions.get(id) ?? []).filter((s) => s !== session);
    this.sessions.set(id, [session, ...others].slice(0, 2));
    this.rememberBaseKey(b64(session.baseKey));
  }

  /** Drops every session with a device (broken: the next message starts a new one). */
  dropSessions(signKey: Uint8Array): void {
    this.sessions.delete(deviceId(signKey));
  }

  hasSeenBaseKey(baseKey: Uint8Array): boolean {
    return this.baseKeySet.has(b64(baseKey));
  }

  // ---- journal ----

  journalled(msgId: string): JournalEntry | undefined {
    return this.journal.get(msgId);
  }

  /** Journals DM `msgId`: its inner text, and the device that sent it when a session opened it. */
  remember(msgId: string, inner: string, sender?: Uint8Array): void {
    this.journal.delete(msgId);
    this.journal.set(msgId, sender === undefined ? { inner } : { inner, sender: b64(sender) });
    while (this.journal.size > JOURNAL_LIMIT) this.journal.delete(this.journal.keys().next().value as string);
  }

  /**
   * A DM this device is about to send (saved with the sessions it advanced): the server plays it
   * back to this device at catch-up, where no session can open it.
   */
  noteSent(envelope: string, inner: string): void {
    this.sent.set(envelopeDigest(envelope), { inner });
    while (this.sent.size > JOURNAL_LIMIT) this.sent.delete(this.sent.keys().next().value as string);
  }

  /**
   * The inner text of this device's own DM `envelope` arriving as `msgId`: undefined when this
   * device did not send it, 'replay' when it already arrived under another id.
   */
  ownSent(envelope: string, msgId: string): string | 'replay' | undefined {
    const entry = this.sent.get(envelopeDigest(envelope));
    if (!entry) return undefined;
    if (entry.msgId !== undefined && entry.msgId !== msgId) return 'replay';
    entry.msgId = msgId;
    this.remember(msgId, entry.inner);
    return entry.inner;
  }

  // ---- shown ----

  /** True when DM `msgId` was handed to the application (by this run or one before a crash). */
  wasShown(msgId: string): boolean {
    return this.shown.has(msgId);
  }

  /**
   * Records that DM `msgId` was handed to the application, at once: one synchronous append right
   * after the event, so only a crash inside that write shows it again. Not synced to the disk: a
   * power cut may show a DM twice, never lose one.
   */
  markShown(msgId: string): void {
    if (this.shown.has(msgId)) return;
    this.shown.add(msgId);
    if (this.shown.size > SHOWN_LIMIT) this.shown.delete(this.shown.values().next().value as string);
    mkdirSync(dirname(this.shownPath), { recursive: true, mode: 0o700 });
    if (++this.shownLines <= 2 * SHOWN_LIMIT) {
      appendFileSync(this.shownPath, `${msgId}\n`, { mode: 0o600 });
      return;
    }
    const tmp = `${this.shownPath}.tmp`;
    writeFileSync(tmp, [...this.shown].map((id) => `${id}\n`).join(''), { mode: 0o600 });
    renameSync(tmp, this.shownPath);
    this.shownLines = this.shown.size;
  }

  /** Serialised atomic writes of the whole state (the last call's state wins). */
  save(): Promise<void> {
    const now = Date.now();
    const sessions: Record<string, string[]> = {};
    for (const [id, list] of this.sessions) {
      for (const s of list) s.evictSkippedKeys(now - SKIPPED_KEY_TTL_MS);
      sessions[id] = list.map((s) => b64(s.toBytes()));
    }
    const file: SessionFile = {
      version: 1,
      nextPrekeyId: this.nextPrekeyId,
      signedPrekeys: this.signed.map((p) => ({
        id: p.id,
        createdAt: p.createdAt,
        publicKey: b64(p.publicKey),
        secretKey: b64(p.secretKey),
        signature: b64(p.signature),
      })),
      oneTimePrekeys: [...this.oneTime.values()].map((p) => ({ id: p.id, publicKey: b64(p.publicKey), secretKey: b64(p.secretKey) })),
      sessions,
      baseKeys: this.baseKeys,
      journal: Object.fromEntries(this.journal),
      sent: Object.fromEntries(this.sent),
    };
    const text = `${JSON.stringify(file)}\n`;
    this.saving = this.saving.catch(() => undefined).then(() => writePrivateFile(this.path, text));
    return this.saving;
  }

  private currentSignedPrekey(): PrekeyUpload['signedPrekey'] {
    const p = this.signed[0]!;
    return { id: p.id, createdAt: p.createdAt, publicKey: b64(p.publicKey), signature: b64(p.signature) };
  }

  private takeIds(count: number): number {
    const first = this.nextPrekeyId;
    this.nextPrekeyId += count;
    return first;
  }

  private rememberBaseKey(key: string): void {
    if (this.baseKeySet.has(key)) return;
    this.baseKeySet.add(key);
    this.baseKeys.push(key);
    while (this.baseKeys.length > BASE_KEY_LIMIT) this.baseKeySet.delete(this.baseKeys.shift()!);
  }
}

function envelopeDigest(envelope: string): string {
  return createHash('sha256').update(envelope).digest('base64url').slice(0, 22);
}
