// An in-memory ChatClient: records calls, lets tests emit events.
import { EventEmitter } from 'node:events';
import type {
  ChatClient,
  ChatMessage,
  ClientEventMap,
  ConnectionState,
  FileOffer,
  MemberInfo,
  PendingSend,
  RoomInfo,
  SearchResult,
  Target,
  UserInfo,
} from '../../src/sdk.js';
import type { UiHooks } from '../../src/controller.js';

/** UI hooks that answer nothing: no question is answered yes, a file prompt says "later". */
export function quietUi(): UiHooks {
  return {
    bell: () => undefined,
    ask: async () => null,
    secrets: async () => null,
    confirm: async () => false,
    choose: async () => 'l',
    quit: () => undefined,
  };
}

export class FakeClient implements ChatClient {
  private readonly ee = new EventEmitter();
  user: string | null = 'me';
  state: ConnectionState = 'ready';
  pendingSends: PendingSend[] = [];
  fingerprint = 'SHA512:fake';
  shortFingerprint = '1234 5678';
  rooms = new Map<string, RoomInfo>([['lobby', { room: 'lobby', topic: 'welcome', kind: 'open', members: 2, joined: true }]]);
  limits = { messagesPerSecond: 10, messageBurst: 40, signalsPerSecond: 5, signalBurst: 10, maxTextLength: 4000 };
  calls: Array<[string, ...unknown[]]> = [];
  /** While set, sends stay pending (an outage) until release() settles them in order. */
  holdSends = false;
  /** The next sends are refused with this error. */
  refuseSends: Error | null = null;
  private held: Array<() => void> = [];
  membersOf: Record<string, MemberInfo[]> = {
    lobby: [
      { user: 'me', role: 'member', state: 'online', status: '' },
      { user: 'bob', role: 'op', state: 'online', status: '' },
    ],
  };
  historyOf: Record<string, ChatMessage[]> = {};
  verified = new Set<string>();
  nextId = 1;
  failWith: Record<string, Error> = {};

  on<K extends keyof ClientEventMap>(event: K, listener: (...args: ClientEventMap[K]) => void): this {
    this.ee.on(event, listener as (...args: unknown[]) => void);
    return this;
  }
  off<K extends keyof ClientEventMap>(event: K, listener: (...args: ClientEventMap[K]) => void): this {
    this.ee.off(event, listener as (...args: unknown[]) => void);
    return this;
  }
  emit<K extends keyof ClientEventMap>(event: K, ...args: ClientEventMap[K]): void {
    this.ee.emit(event, ...args);
  }
  listenerTotal(): number {
    return this.ee.eventNames().reduce((n, e) => n + this.ee.listenerCount(e), 0);
  }

  private record(name: string, ...args: unknown[]): void {
    this.calls.push([name, ...args]);
    const err = this.failWith[name];
    if (err) throw err;
  }
  private sent(): { id: string; ts: number } {
    return { id: `s${this.nextId++}`, ts: 1_700_000_000_000 + this.nextId };
  }

  async createRoom(room: string, topic?: string, kind?: string): Promise<void> {
    this.record('createRoom', room, topic, kind);
  }
  async joinRoom(room: string): Promise<void> {
    this.record('joinRoom', room);
    this.rooms.set(room, { room, topic: `topic of ${room}`, kind: 'open', members: 1, joined: true });
  }
  async partRoom(room: string): Promise<void> {
    this.record('partRoom', room);
    this.rooms.delete(room);
  }
  async listRooms(): Promise<RoomInfo[]> {
    this.record('listRooms');
    return [...this.rooms.values(), { room: 'other', topic: 'x', kind: 'open', members: 3, joined: false }];
  }
  async setTopic(room: string, topic: string): Promise<void> {
    this.record('setTopic', room, topic);
  }
  async members(room: string): Promise<MemberInfo[]> {
    this.record('members', room);
    return this.membersOf[room] ?? [];
  }
  async listUsers(): Promise<UserInfo[]> {
    this.record('listUsers');
    return [{ user: 'bob', state: 'away', status: 'lunch', role: 'user' }];
  }
  /** Like the SDK: the acknowledged line comes back as a 'message' event (mine), then the promise settles. */
  private ack(target: { room: string } | { user: string }, text: string, action: boolean): Promise<{ id: string; ts: number }> {
    return new Promise((resolve, reject) => {
      const settle = (): void => {
        if (this.refuseSends) return reject(this.refuseSends);
        const r = this.sent();
        this.emit(
          'message',
          'room' in target
            ? { kind: 'room', id: r.id, ts: r.ts, from: this.user ?? 'me', room: target.room, text, action, mine: true }
            : { kind: 'dm', id: r.id, ts: r.ts, from: this.user ?? 'me', peer: target.user, text, action, mine: true },
        );
        resolve(r);
      };
      if (this.holdSends) this.held.push(settle);
      else settle();
    });
  }
  /** The outage ends: held sends settle in order. */
  release(): void {
    this.holdSends = false;
    for (const settle of this.held.splice(0)) settle();
  }
  send(room: string, text: string) {
    this.record('send', room, text);
    return this.ack({ room }, text, false);
  }
  action(room: string, text: string) {
    this.record('action', room, text);
    return this.ack({ room }, text, true);
  }
  sendDirect(user: string, text: string, opts?: { action?: boolean }) {
    this.record('sendDirect', user, text, opts);
    return this.ack({ user }, text, opts?.action === true);
  }
  async reply(target: Target, msgId: string, text: string) {
    this.record('reply', target, msgId, text);
    return this.sent();
  }
  async edit(target: Target, msgId: string, text: string) {
    this.record('edit', target, msgId, text);
    return this.sent();
  }
  async delete(target: Target, msgId: string) {
    this.record('delete', target, msgId);
    return this.sent();
  }
  async react(target: Target, msgId: string, emoji: string, on: boolean) {
    this.record('react', target, msgId, emoji, on);
    return this.sent();
  }
  reactions(msgId: string) {
    this.record('reactions', msgId);
    return [];
  }
  searchResults: SearchResult[] = [];
  async search(query: string, opts?: { target?: Target }) {
    this.record('search', query, opts);
    return this.searchResults;
  }
  async setPresence(state: 'online' | 'away', status?: string): Promise<void> {
    this.record('setPresence', state, status);
  }
  setTyping(target: Target, active: boolean): void {
    this.record('setTyping', target, active);
  }
  async markRead(target: Target, msgId: string): Promise<void> {
    this.record('markRead', target, msgId);
  }
  async history(target: Target, opts?: { before?: string; limit?: number }) {
    this.record('history', target, opts);
    const key = 'room' in target ? target.room : `@${target.user}`;
    return { messages: this.historyOf[key] ?? [], hasMore: false };
  }
  async kick(room: string, user: string, reason?: string): Promise<void> {
    this.record('kick', room, user, reason);
  }
  async ban(opts: { user?: string; address?: string; reason?: string; seconds?: number }): Promise<void> {
    this.record('ban', opts);
  }
  async unban(opts: { user?: string; address?: string }): Promise<void> {
    this.record('unban', opts);
  }
  async mute(room: string, user: string, seconds?: number): Promise<void> {
    this.record('mute', room, user, seconds);
  }
  async unmute(room: string, user: string): Promise<void> {
    this.record('unmute', room, user);
  }
  async setRole(room: string, user: string, role: 'owner' | 'op' | 'member'): Promise<void> {
    this.record('setRole', room, user, role);
  }
  async safetyNumber(user: string): Promise<string> {
    this.record('safetyNumber', user);
    return '11111 22222 33333';
  }
  async verifyContact(user: string): Promise<void> {
    this.record('verifyContact', user);
    this.verified.add(user);
  }
  isVerified(user: string): boolean {
    return this.verified.has(user);
  }
  devices: Record<string, { id: string; thisDevice: boolean }[]> = {};
  async listDevices(user?: string): Promise<{ id: string; thisDevice: boolean }[]> {
    this.record('listDevices', user);
    return this.devices[user ?? this.user ?? ''] ?? [];
  }
  async removeDevice(deviceId: string, _password: string): Promise<void> {
    this.record('removeDevice', deviceId); // never the password
  }
  deviceId: string | undefined = 'thisdevicethisdevice01';
  async changePassword(_current: string, _next: string): Promise<void> {
    this.record('changePassword'); // never the passwords
  }
  async sendFile(target: Target, path: string): Promise<{ fileId: string }> {
    this.record('sendFile', target, path);
    this.emit('fileSending', { fileId: 'up1', target, path, size: 10 });
    this.emit('fileProgress', { fileId: 'up1', direction: 'up', bytes: 5, size: 10 });
    return { fileId: 'up1' };
  }
  async acceptFile(fileId: string, directory?: string): Promise<string> {
    this.record('acceptFile', fileId, directory);
    return `${directory}/saved.txt`;
  }
  async declineFile(fileId: string): Promise<void> {
    this.record('declineFile', fileId);
  }
  async cancelFile(fileId: string): Promise<void> {
    this.record('cancelFile', fileId);
  }
  pendingFiles(): FileOffer[] {
    return [];
  }
  /** room -> the newest message id the previous run had seen there. */
  lastRun: Record<string, string> = {};
  seenInLastRun(room: string): string | undefined {
    return this.lastRun[room];
  }
  /** "#room" / "@user" -> the newest message the account read there (on any device). */
  lastReads: Record<string, string> = {};
  lastRead(target: Target): string | undefined {
    return this.lastReads['room' in target ? `#${target.room}` : `@${target.user}`];
  }
  async close(): Promise<void> {
    this.record('close');
    this.state = 'closed';
  }
}
