import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SCHEMA_VERSION, SqliteStore, StoreError, type HistoryResult, type NewMessage } from '../src/store/index.js';
import { MIGRATIONS } from '../src/store/schema.js';

let store: SqliteStore;
beforeEach(() => {
  store = SqliteStore.open(':memory:');
});
afterEach(() => store.close());

const roomMsg = (room: string, text: string, ts = 1000, from = 'alice'): Extract<NewMessage, { kind: 'room' }> => ({ kind: 'room', ts, from, room, text, action: false });
const dm = (from: string, to: string, envelope: string, ts = 1000): NewMessage => ({ kind: 'dm', ts, from, to, envelope });

function seedUsers(...names: string[]) {
  for (const n of names) store.createUser(n, `scrypt$hash-of-${n}`, 'user', 1);
}

describe('users', () => {
  it('creates, reads and lists users', () => {
    const u = store.createUser('alice', 'h1', 'user', 5);
    expect(u).toEqual({ name: 'alice', passwordHash: 'h1', role: 'user', createdAt: 5, bannedUntil: null, banReason: null });
    store.createUser('bob', null, 'admin', 6);
    expect(store.getUser('alice')).toEqual(u);
    expect(store.getUser('nobody')).toBeUndefined();
    expect(store.listUsers().map((x) => x.name)).toEqual(['alice', 'bob']);
    expect(store.getUser('bob')?.passwordHash).toBeNull();
  });

  it('refuses a duplicate user with ALREADY_EXISTS', () => {
    store.createUser('alice', 'h', 'user', 1);
    expect(() => store.createUser('alice', 'h', 'user', 2)).toThrow(expect.objectContaining({ code: 'ALREADY_EXISTS' }));
  });

  it('sets password hash and role; unknown users throw NOT_FOUND', () => {
    seedUsers('alice');
    store.setPasswordHash('alice', 'h2');
    store.setServerRole('alice', 'admin');
    expect(store.getUser('alice')).toMatchObject({ passwordHash: 'h2', role: 'admin' });
    expect(() => store.setPasswordHash('ghost', 'x')).toThrow(StoreError);
    expect(() => store.setServerRole('ghost', 'admin')).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
  });

  it('bans for a time, forever, and lifts bans', () => {
    seedUsers('alice');
    store.setUserBan('alice', 5000, 'spam');
    expect(store.getUser('alice')).toMatchObject({ bannedUntil: 5000, banReason: 'spam' });
    store.setUserBan('alice', Number.POSITIVE_INFINITY, 'forever');
    expect(store.getUser('alice')).toMatchObject({ bannedUntil: Number.POSITIVE_INFINITY, banReason: 'forever' });
    store.setUserBan('alice', null, 'ignored');
    expect(store.getUser('alice')).toMatchObject({ bannedUntil: null, banReason: null });
    expect(() => store.setUserBan('ghost', 1, null)).toThrow(StoreError);
  });
});

describe('devices', () => {
  const dev = { user: 'alice', signKey: 'S1', boxKey: 'B1', signature: 'G1' };
  it('upserts, lists, gets and touches devices', () => {
    seedUsers('alice', 'bob');
    expect(store.upsertDevice(dev, 10)).toEqual({ created: true });
    expect(store.upsertDevice({ ...dev, boxKey: 'B2', signature: 'G2' }, 20)).toEqual({ created: false });
    expect(store.getDevice('alice', 'S1')).toEqual({ ...dev, boxKey: 'B2', signature: 'G2', createdAt: 10, lastSeen: 20 });
    store.upsertDevice({ ...dev, signKey: 'S0' }, 30);
    expect(store.listDevices('alice').map((d) => d.signKey)).toEqual(['S1', 'S0']);
    expect(store.listDevices('bob')).toEqual([]);
    store.touchDevice('alice', 'S1', 99);
    expect(store.getDevice('alice', 'S1')?.lastSeen).toBe(99);
    expect(store.getDevice('bob', 'S1')).toBeUndefined();
  });

  it('starts a new device\'s delivery cursor at the newest message and only moves it forward', () => {
    seedUsers('alice', 'bob');
    store.upsertDevice(dev, 1);
    expect(store.getDeviceCursor('alice', 'S1')).toBe('0');
    const s = store.appendMessages([dm('bob', 'alice', 'e1'), dm('bob', 'alice', 'e2')]);
    // A device bound now could not open the DMs sealed before it existed.
    store.upsertDevice({ ...dev, signKey: 'S2' }, 2);
    expect(store.getDeviceCursor('alice', 'S2')).toBe(s[1]!.id);
    store.advanceDeviceCursor('alice', 'S1', s[1]!.id);
    store.advanceDeviceCursor('alice', 'S1', s[0]!.id);
    expect(store.getDeviceCursor('alice', 'S1')).toBe(s[1]!.id);
    // Re-binding a known device keeps its cursor; unknown devices read '0' and are not created.
    store.upsertDevice({ ...dev, boxKey: 'B9' }, 3);
    expect(store.getDeviceCursor('alice', 'S1')).toBe(s[1]!.id);
    store.advanceDeviceCursor('alice', 'nope', '5');
    expect(store.getDeviceCursor('alice', 'nope')).toBe('0');
    expect(store.getDeviceCursor('bob', 'S1')).toBe('0');
  });

  it('refuses a device for an unknown user (foreign key)', () => {
    expect(() => store.upsertDevice({ ...dev, user: 'ghost' }, 1)).toThrow();
  });
});

describe('invites', () => {
  it('consumes an invite exactly once and refuses unknown codes', () => {
    store.createInvite('code-1', null, 1);
    expect(store.consumeInvite('nope', 'alice', 2)).toBe(false);
    expect(store.consumeInvite('code-1', 'alice', 2)).toBe(true);
    expect(store.consumeInvite('code-1', 'bob', 3)).toBe(false);
  });

  it('does not keep invite codes in clear text', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hush-store-'));
    try {
      const file = join(dir, 'hush.db');
      const s = SqliteStore.open(file);
      s.createInvite('secret-invite-code', null, 1);
      s.close();
      const db = new Database(file, { readonly: true });
      const rows = db.prepare('SELECT * FROM invites').all();
      db.close();
      expect(JSON.stringify(rows)).not.toContain('secret-invite-code');
      expect(rows).toHaveLength(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('rooms and members', () => {
  it('creates rooms, sets topics, lists them', () => {
    const r = store.createRoom('lobby', '', null, 1);
    expect(r).toEqual({ name: 'lobby', topic: '', createdAt: 1, createdBy: null });
    seedUsers('alice');
    store.createRoom('dev', 'code', 'alice', 2);
    expect(() => store.createRoom('dev', 'x', null, 3)).toThrow(expect.objectContaining({ code: 'ALREADY_EXISTS' }));
    store.setTopic('dev', 'new topic');
    expect(store.getRoom('dev')).toEqual({ name: 'dev', topic: 'new topic', createdAt: 2, createdBy: 'alice' });
    expect(store.listRooms().map((x) => x.name)).toEqual(['dev', 'lobby']);
    expect(store.getRoom('none')).toBeUndefined();
    expect(() => store.setTopic('none', 't')).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
  });

  it('adds, lists, updates and removes members', () => {
    seedUsers('alice', 'bob');
    store.createRoom('dev', '', 'alice', 1);
    store.createRoom('lobby', '', null, 1);
    store.addMember('dev', 'alice', 'owner');
    store.addMember('dev', 'bob', 'member');
    store.addMember('lobby', 'bob', 'member');
    expect(store.listMembers('dev')).toEqual([
      { room: 'dev', user: 'alice', role: 'owner', mutedUntil: null },
      { room: 'dev', user: 'bob', role: 'member', mutedUntil: null },
    ]);
    expect(store.roomsOf('bob').map((m) => m.room)).toEqual(['dev', 'lobby']);
    store.setMemberRole('dev', 'bob', 'op');
    store.setMute('dev', 'bob', 500);
    expect(store.getMember('dev', 'bob')).toEqual({ room: 'dev', user: 'bob', role: 'op', mutedUntil: 500 });
    // Re-adding keeps the mute and updates the role.
    store.addMember('dev', 'bob', 'member');
    expect(store.getMember('dev', 'bob')).toEqual({ room: 'dev', user: 'bob', role: 'member', mutedUntil: 500 });
    store.setMute('dev', 'bob', null);
    expect(store.getMember('dev', 'bob')?.mutedUntil).toBeNull();
    store.removeMember('dev', 'bob');
    store.removeMember('dev', 'bob'); // idempotent
    expect(store.getMember('dev', 'bob')).toBeUndefined();
    expect(() => store.setMemberRole('dev', 'bob', 'op')).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
    expect(() => store.setMute('dev', 'bob', 1)).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
    expect(() => store.addMember('nope', 'alice', 'member')).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
  });

  it('records a departure (with the mute in force) on removal; re-adding restores the mute and clears it', () => {
    seedUsers('alice', 'bob');
    store.createRoom('dev', '', 'alice', 1);
    expect(store.getDeparture('dev', 'bob')).toBeUndefined();
    store.removeMember('dev', 'bob'); // never a member: nothing to record
    expect(store.getDeparture('dev', 'bob')).toBeUndefined();
    store.addMember('dev', 'bob', 'member');
    store.setMute('dev', 'bob', 900);
    store.removeMember('dev', 'bob');
    expect(store.getDeparture('dev', 'bob')).toEqual({ room: 'dev', user: 'bob', mutedUntil: 900 });
    // Rejoining brings the mute back.
    store.addMember('dev', 'bob', 'member');
    expect(store.getDeparture('dev', 'bob')).toBeUndefined();
    expect(store.getMember('dev', 'bob')).toEqual({ room: 'dev', user: 'bob', role: 'member', mutedUntil: 900 });
    store.setMute('dev', 'bob', null);
    store.removeMember('dev', 'bob');
    expect(store.getDeparture('dev', 'bob')).toEqual({ room: 'dev', user: 'bob', mutedUntil: null });
    store.addMember('dev', 'bob', 'op');
    expect(store.getMember('dev', 'bob')).toEqual({ room: 'dev', user: 'bob', role: 'op', mutedUntil: null });
  });

  it('pages users, rooms and members by name', () => {
    seedUsers('dan', 'alice', 'carol', 'bob');
    for (const r of ['c', 'a', 'b']) store.createRoom(r, '', null, 1);
    for (const u of ['dan', 'alice', 'carol', 'bob']) store.addMember('a', u, 'member');
    expect(store.listUsers({ limit: 2 }).map((u) => u.name)).toEqual(['alice', 'bob']);
    expect(store.listUsers({ after: 'bob', limit: 2 }).map((u) => u.name)).toEqual(['carol', 'dan']);
    expect(store.listUsers({ after: 'dan' })).toEqual([]);
    expect(store.listRooms({ after: 'a' }).map((r) => r.name)).toEqual(['b', 'c']);
    expect(store.listMembers('a', { after: 'alice', limit: 2 }).map((m) => m.user)).toEqual(['bob', 'carol']);
    expect(store.listMembers('b', { limit: 5 })).toEqual([]);
  });
});

describe('messages', () => {
  it('appends a batch and returns ids in order', () => {
    expect(store.lastMessageId()).toBe('0');
    const stored = store.appendMessages([roomMsg('lobby', 'one'), dm('alice', 'bob', 'ENV'), { ...roomMsg('lobby', 'waves'), action: true }]);
    expect(stored.map((m) => m.id)).toEqual(['1', '2', '3']);
    expect(stored[0]).toEqual({ kind: 'room', id: '1', ts: 1000, from: 'alice', room: 'lobby', text: 'one', action: false });
    expect(stored[1]).toEqual({ kind: 'dm', id: '2', ts: 1000, from: 'alice', to: 'bob', envelope: 'ENV' });
    expect(store.lastMessageId()).toBe('3');
    expect(store.history({ room: 'lobby' }, { limit: 10 }).messages).toEqual([stored[0], stored[2]]);
    expect(store.appendMessages([])).toEqual([]);
  });

  it('numbers a large mixed batch (several rows per INSERT) in order, each id matching its row', () => {
    store.appendMessages([roomMsg('lobby', 'first')]);
    const batch: NewMessage[] = Array.from({ length: 100 }, (_, i) => (i % 3 === 0 ? dm('alice', 'bob', `env${i}`) : roomMsg('lobby', `r${i}`)));
    const stored = store.appendMessages(batch);
    expect(stored.map((m) => Number(m.id))).toEqual(Array.from({ length: 100 }, (_, i) => i + 2));
    const rooms = store.history({ room: 'lobby' }, { limit: 200 }).messages;
    const dms = store.history({ dm: ['alice', 'bob'] }, { limit: 200 }).messages;
    const byId = new Map([...rooms, ...dms].map((m) => [m.id, m]));
    for (const m of stored) expect(byId.get(m.id)).toEqual(m);
    expect(store.lastMessageId()).toBe('101');
  });

  it('appends a batch atomically: a failing row rolls back the whole batch', () => {
    store.appendMessages([roomMsg('lobby', 'before')]);
    const bad = { kind: 'room', ts: 1.5, from: 'x', room: 'lobby', text: 'bad', action: false } as NewMessage; // STRICT INTEGER refuses 1.5
    expect(() => store.appendMessages([roomMsg('lobby', 'a'), roomMsg('lobby', 'b'), bad])).toThrow();
    // A bad row in a later INSERT of the batch rolls back the earlier ones too.
    expect(() => store.appendMessages([...Array.from({ length: 40 }, (_, i) => roomMsg('lobby', `c${i}`)), bad])).toThrow();
    const page = store.history({ room: 'lobby' }, { limit: 10 });
    expect(page.messages.map((m) => (m.kind === 'room' ? m.text : ''))).toEqual(['before']);
  });

  describe('history paging', () => {
    let ids: string[];
    beforeEach(() => {
      const batch: NewMessage[] = [];
      for (let i = 1; i <= 10; i++) batch.push(roomMsg('lobby', `m${i}`, i));
      batch.push(roomMsg('other', 'elsewhere'));
      ids = store.appendMessages(batch).slice(0, 10).map((m) => m.id);
    });
    const texts = (r: HistoryResult) => r.messages.map((m) => (m.kind === 'room' ? m.text : `dm:${m.id}`));

    it('returns the newest page oldest-first with hasMore', () => {
      const r = store.history({ room: 'lobby' }, { limit: 3 });
      expect(texts(r)).toEqual(['m8', 'm9', 'm10']);
      expect(r.hasMore).toBe(true);
    });
    it('pages back with before until the start', () => {
      const r1 = store.history({ room: 'lobby' }, { limit: 4, before: ids[7] });
      expect(texts(r1)).toEqual(['m4', 'm5', 'm6', 'm7']);
      expect(r1.hasMore).toBe(true);
      const r2 = store.history({ room: 'lobby' }, { limit: 4, before: r1.messages[0]!.id });
      expect(texts(r2)).toEqual(['m1', 'm2', 'm3']);
      expect(r2.hasMore).toBe(false);
    });
    it('exact page size at the start reports no more', () => {
      const r = store.history({ room: 'lobby' }, { limit: 3, before: ids[3] });
      expect(texts(r)).toEqual(['m1', 'm2', 'm3']);
      expect(r.hasMore).toBe(false);
    });
    it('pages forward with after (catch-up)', () => {
      const r1 = store.history({ room: 'lobby' }, { limit: 4, after: ids[2] });
      expect(texts(r1)).toEqual(['m4', 'm5', 'm6', 'm7']);
      expect(r1.hasMore).toBe(true);
      const r2 = store.history({ room: 'lobby' }, { limit: 4, after: r1.messages[3]!.id });
      expect(texts(r2)).toEqual(['m8', 'm9', 'm10']);
      expect(r2.hasMore).toBe(false);
      const r3 = store.history({ room: 'lobby' }, { limit: 4, after: ids[9] });
      expect(r3).toEqual({ messages: [], hasMore: false });
    });
    it('takes a window with both before and after', () => {
      const r = store.history({ room: 'lobby' }, { limit: 2, after: ids[1], before: ids[6] });
      expect(texts(r)).toEqual(['m5', 'm6']);
      expect(r.hasMore).toBe(true);
    });
    it('handles limit 0, unknown rooms and malformed or huge ids', () => {
      expect(store.history({ room: 'lobby' }, { limit: 0 })).toEqual({ messages: [], hasMore: true });
      expect(store.history({ room: 'nope' }, { limit: 5 })).toEqual({ messages: [], hasMore: false });
      expect(texts(store.history({ room: 'lobby' }, { limit: 2, before: '99999999999999999999' }))).toEqual(['m9', 'm10']);
      expect(store.history({ room: 'lobby' }, { limit: 2, before: 'junk' }).messages).toEqual([]);
    });
  });

  it('keys direct conversations by the sorted pair', () => {
    const s = store.appendMessages([dm('alice', 'bob', 'e1'), dm('bob', 'alice', 'e2'), dm('alice', 'carol', 'e3'), dm('bob', 'alice', 'e4')]);
    const ab = store.history({ dm: ['bob', 'alice'] }, { limit: 10 });
    expect(ab.messages.map((m) => m.id)).toEqual([s[0]!.id, s[1]!.id, s[3]!.id]);
    expect(store.history({ dm: ['alice', 'bob'] }, { limit: 10 })).toEqual(ab);
    expect(store.history({ dm: ['carol', 'alice'] }, { limit: 10 }).messages).toEqual([s[2]]);
    const r = store.history({ dm: ['alice', 'bob'] }, { limit: 1, before: s[3]!.id });
    expect(r.messages.map((m) => m.id)).toEqual([s[1]!.id]);
    expect(r.hasMore).toBe(true);
  });

  it('lists direct messages to a user since an id', () => {
    const s = store.appendMessages([dm('alice', 'bob', 'e1'), dm('bob', 'alice', 'e2'), roomMsg('lobby', 'x'), dm('carol', 'bob', 'e3'), dm('alice', 'bob', 'e4')]);
    expect(store.directMessagesSince('bob', '0', 10).map((m) => m.id)).toEqual([s[0]!.id, s[3]!.id, s[4]!.id]);
    expect(store.directMessagesSince('bob', s[0]!.id, 1).map((m) => m.id)).toEqual([s[3]!.id]);
    expect(store.directMessagesSince('bob', s[4]!.id, 10)).toEqual([]);
    expect(store.directMessagesSince('alice', '0', 10).map((m) => m.id)).toEqual([s[1]!.id]);
  });

  it('lists direct messages to or from a user with includeSent', () => {
    const s = store.appendMessages([
      dm('alice', 'bob', 'e1'), dm('bob', 'alice', 'e2'), roomMsg('lobby', 'x', 1000, 'bob'), dm('carol', 'dave', 'e3'),
      dm('bob', 'bob', 'e4'), dm('bob', 'carol', 'e5'),
    ]);
    const sent = (after: string, limit = 10) => store.directMessagesSince('bob', after, limit, { includeSent: true }).map((m) => m.id);
    expect(sent('0')).toEqual([s[0]!.id, s[1]!.id, s[4]!.id, s[5]!.id]);
    expect(sent(s[0]!.id, 2)).toEqual([s[1]!.id, s[4]!.id]);
    expect(sent(s[5]!.id)).toEqual([]);
  });

  it('lists the distinct direct-message peers of a user', () => {
    store.appendMessages([
      dm('alice', 'bob', 'e1'), dm('bob', 'alice', 'e2'), dm('carol', 'bob', 'e3'), dm('bob', 'bob', 'e4'),
      dm('dave', 'erin', 'e5'), roomMsg('lobby', 'x', 1000, 'bob'),
    ]);
    expect(store.dmPeers('bob')).toEqual(['alice', 'carol']);
    expect(store.dmPeers('dave')).toEqual(['erin']);
    expect(store.dmPeers('zed')).toEqual([]);
  });
});

describe('idempotency keys', () => {
  const keyed = (text: string, key: string, from = 'alice'): NewMessage => ({ ...roomMsg('lobby', text, 1000, from), key });

  it('stores a key once: a repeat, later or in the same batch, returns the first message id and time', () => {
    const [first] = store.appendMessages([keyed('one', 'key-00001')]);
    expect(first).toMatchObject({ kind: 'room', id: '1', text: 'one' });
    const out = store.appendMessages([
      keyed('again', 'key-00001'), keyed('two', 'key-00002'), roomMsg('lobby', 'plain'), keyed('two again', 'key-00002'),
      { kind: 'dm', ts: 5, from: 'alice', to: 'bob', envelope: 'E', key: 'key-00001' },
    ]);
    expect(out).toEqual([
      { kind: 'repeat', id: '1', ts: 1000 },
      { kind: 'room', id: '2', ts: 1000, from: 'alice', room: 'lobby', text: 'two', action: false },
      { kind: 'room', id: '3', ts: 1000, from: 'alice', room: 'lobby', text: 'plain', action: false },
      { kind: 'repeat', id: '2', ts: 1000 },
      { kind: 'repeat', id: '1', ts: 1000 },
    ]);
    expect(store.history({ room: 'lobby' }, { limit: 10 }).messages.map((m) => m.id)).toEqual(['1', '2', '3']);
    expect(store.messageByKey('alice', 'key-00002')).toEqual({ kind: 'repeat', id: '2', ts: 1000 });
    expect(store.messageByKey('alice', 'key-never')).toBeUndefined();
  });

  it('keys belong to their sender', () => {
    const out = store.appendMessages([keyed('a', 'key-shared', 'alice'), keyed('b', 'key-shared', 'bob')]);
    expect(out.map((m) => m.kind)).toEqual(['room', 'room']);
    expect(store.messageByKey('bob', 'key-shared')?.id).toBe(out[1]!.id);
  });

  it('finds keys no longer remembered in memory in the database, in a batch mixed with new ones', () => {
    const total = 70_000; // more than the keys kept in memory
    for (let at = 0; at < total; at += 1000) {
      store.appendMessages(Array.from({ length: 1000 }, (_, i) => keyed(`m${at + i}`, `bulk-${at + i}`)));
    }
    const out = store.appendMessages([keyed('new', 'bulk-new'), keyed('old', 'bulk-0'), keyed('recent', `bulk-${total - 1}`), keyed('new', 'bulk-new')]);
    expect(out.map((m) => m.kind)).toEqual(['room', 'repeat', 'repeat', 'repeat']);
    expect(out.map((m) => m.id)).toEqual([String(total + 1), '1', String(total), String(total + 1)]);
    expect(store.lastMessageId()).toBe(String(total + 1));
  });
});

describe('checkpoints', () => {
  it('folds the WAL in at most once a second while written to, or after many appended messages', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hush-store-'));
    const disk = SqliteStore.open(join(dir, 'hush.db'));
    try {
      const t = 1_800_000_000_000;
      disk.createUser('alice', 'scrypt$x', 'user', 1);
      expect(disk.checkpointIfDue(t)).toBe(true);
      expect(disk.checkpointIfDue(t + 2000)).toBe(false); // nothing written since
      disk.appendMessages([roomMsg('lobby', 'one')]);
      expect(disk.checkpointIfDue(t + 2500)).toBe(true);
      disk.appendMessages([roomMsg('lobby', 'two')]);
      expect(disk.checkpointIfDue(t + 2600)).toBe(false); // too soon
      disk.appendMessages(Array.from({ length: 4000 }, (_, i) => roomMsg('lobby', `m${i}`)));
      expect(disk.checkpointIfDue(t + 2700)).toBe(true); // many rows: at once
      expect(disk.history({ room: 'lobby' }, { limit: 1 }).messages[0]).toMatchObject({ text: 'm3999' });
    } finally {
      disk.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('read markers', () => {
  it('stores and overwrites markers per conversation', () => {
    expect(store.getReadMarkers('alice')).toEqual({});
    store.setReadMarker('alice', '#lobby', '5');
    store.setReadMarker('alice', '@bob', '7');
    store.setReadMarker('alice', '#lobby', '9');
    store.setReadMarker('bob', '#lobby', '1');
    expect({ ...store.getReadMarkers('alice') }).toEqual({ '#lobby': '9', '@bob': '7' });
  });
});

describe('address bans', () => {
  it('bans until a time or forever, lists and lifts', () => {
    store.banAddress('10.0.0.1', 1000, 'flood');
    store.banAddress('10.0.0.2', Number.POSITIVE_INFINITY, null);
    expect(store.isAddressBanned('10.0.0.1', 999)).toBe(true);
    expect(store.isAddressBanned('10.0.0.1', 1000)).toBe(false);
    expect(store.isAddressBanned('10.0.0.2', 8e15)).toBe(true);
    expect(store.isAddressBanned('10.0.0.3', 0)).toBe(false);
    expect(store.listAddressBans()).toEqual([
      { address: '10.0.0.1', until: 1000, reason: 'flood' },
      { address: '10.0.0.2', until: Number.POSITIVE_INFINITY, reason: null },
    ]);
    store.banAddress('10.0.0.1', 5000, 'again');
    expect(store.isAddressBanned('10.0.0.1', 4000)).toBe(true);
    store.unbanAddress('10.0.0.1');
    expect(store.isAddressBanned('10.0.0.1', 0)).toBe(false);
  });
});

describe('files', () => {
  const file = { id: 'file-0001', from: 'alice', room: 'dev', to: null, name: 'a.txt', sha512: 'abc', size: 6, createdAt: 100 };
  beforeEach(() => {
    seedUsers('alice', 'bob', 'carol');
    store.createRoom('dev', '', null, 1);
    store.addMember('dev', 'alice', 'owner');
    store.addMember('dev', 'bob', 'member');
  });

  it('stores metadata and chunk bytes as BLOBs', () => {
    store.createFile(file);
    expect(store.getFile('file-0001')).toEqual({ ...file, complete: false });
    store.putFileChunk('file-0001', 0, new Uint8Array([1, 2, 3]));
    store.putFileChunk('file-0001', 1, Buffer.from([4, 5, 6]));
    store.putFileChunk('file-0001', 1, new Uint8Array([9, 9, 9, 0, 4, 5, 6]).subarray(4)); // offset view
    expect([...store.getFileChunk('file-0001', 0)!]).toEqual([1, 2, 3]);
    expect([...store.getFileChunk('file-0001', 1)!]).toEqual([4, 5, 6]);
    expect(store.getFileChunk('file-0001', 2)).toBeUndefined();
    expect(() => store.putFileChunk('nope-0000', 0, new Uint8Array(1))).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
    expect(() => store.createFile(file)).toThrow(expect.objectContaining({ code: 'ALREADY_EXISTS' }));
  });

  it('offers complete files to recipients until handled', () => {
    store.createFile(file);
    store.createFile({ ...file, id: 'file-0002', room: null, to: 'carol', name: null, sha512: null });
    expect(store.pendingFilesFor('bob')).toEqual([]); // not complete yet
    store.completeFile('file-0001');
    store.completeFile('file-0002');
    expect(store.pendingFilesFor('bob').map((f) => f.id)).toEqual(['file-0001']);
    expect(store.pendingFilesFor('carol').map((f) => f.id)).toEqual(['file-0002']);
    expect(store.pendingFilesFor('alice')).toEqual([]); // the sender is not offered their own file
    store.markFileHandled('file-0001', 'bob', 'declined');
    expect(store.pendingFilesFor('bob')).toEqual([]);
    expect(() => store.completeFile('nope-0000')).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
    expect(() => store.markFileHandled('nope-0000', 'bob', 'accepted')).toThrow(StoreError);
  });

  it('deletes a file with its chunks', () => {
    store.createFile(file);
    store.putFileChunk('file-0001', 0, new Uint8Array([1]));
    store.deleteFile('file-0001');
    expect(store.getFile('file-0001')).toBeUndefined();
    expect(store.getFileChunk('file-0001', 0)).toBeUndefined();
  });
});

describe('prune', () => {
  it('deletes messages and files older than the cutoff and keeps ids monotonic', () => {
    seedUsers('alice');
    const s = store.appendMessages([roomMsg('lobby', 'old', 100), dm('alice', 'bob', 'e', 150), roomMsg('lobby', 'new', 300)]);
    store.createFile({ id: 'old-file-1', from: 'alice', room: 'lobby', to: null, name: 'x', sha512: null, size: 1, createdAt: 100 });
    store.putFileChunk('old-file-1', 0, new Uint8Array([1]));
    store.createFile({ id: 'new-file-1', from: 'alice', room: 'lobby', to: null, name: 'y', sha512: null, size: 1, createdAt: 300 });
    expect(store.prune(200)).toBe(3);
    expect(store.history({ room: 'lobby' }, { limit: 10 }).messages.map((m) => m.id)).toEqual([s[2]!.id]);
    expect(store.getFile('old-file-1')).toBeUndefined();
    expect(store.getFileChunk('old-file-1', 0)).toBeUndefined();
    expect(store.getFile('new-file-1')).toBeDefined();
    expect(store.prune(200)).toBe(0);
    // Deleting the newest rows never lets an id be reused.
    store.prune(10_000);
    expect(store.lastMessageId()).toBe(s[2]!.id);
    expect(store.appendMessages([roomMsg('lobby', 'later', 20_000)])[0]!.id).toBe(String(Number(s[2]!.id) + 1));
  });
});

describe('on disk', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hush-store-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps everything across a reopen of the same file, in WAL mode', () => {
    const file = join(dir, 'sub', 'hush.db');
    const a = SqliteStore.open(file);
    expect(a.schemaVersion).toBe(SCHEMA_VERSION);
    a.createUser('alice', 'h', 'admin', 1);
    a.createRoom('lobby', 'hello', null, 1);
    a.addMember('lobby', 'alice', 'owner');
    a.upsertDevice({ user: 'alice', signKey: 'S1', boxKey: 'B1', signature: 'G1' }, 1);
    const m = a.appendMessages([roomMsg('lobby', 'persisted')]);
    a.advanceDeviceCursor('alice', 'S1', m[0]!.id);
    a.close();
    a.close(); // idempotent

    const b = SqliteStore.open(file);
    try {
      expect(b.getUser('alice')?.role).toBe('admin');
      expect(b.getRoom('lobby')?.topic).toBe('hello');
      expect(b.getMember('lobby', 'alice')?.role).toBe('owner');
      expect(b.history({ room: 'lobby' }, { limit: 5 }).messages).toEqual(m);
      expect(b.getDeviceCursor('alice', 'S1')).toBe(m[0]!.id);
      expect(b.lastMessageId()).toBe(m[0]!.id);
      const db = new Database(file, { readonly: true });
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      db.close();
    } finally {
      b.close();
    }
  });

  it('migrates a version 2 database: old messages keep no key, keyed sends are stored once', () => {
    const file = join(dir, 'hush.db');
    const db = new Database(file);
    db.exec(MIGRATIONS[0]!);
    db.exec(MIGRATIONS[1]!);
    db.pragma('user_version = 2');
    db.prepare("INSERT INTO messages (kind, ts, sender, room, body) VALUES ('room', 1, 'alice', 'lobby', 'old')").run();
    db.close();
    const s = SqliteStore.open(file);
    try {
      expect(s.schemaVersion).toBe(SCHEMA_VERSION);
      const first = s.appendMessages([{ ...roomMsg('lobby', 'new'), key: 'key-after-migration' }]);
      const again = s.appendMessages([{ ...roomMsg('lobby', 'new'), key: 'key-after-migration' }]);
      expect(again).toEqual([{ kind: 'repeat', id: first[0]!.id, ts: first[0]!.ts }]);
      expect(s.history({ room: 'lobby' }, { limit: 5 }).messages.map((m) => (m.kind === 'room' ? m.text : ''))).toEqual(['old', 'new']);
    } finally {
      s.close();
    }
  });

  it('migrates a version 1 database: each device inherits its account\'s delivery cursor', () => {
    const file = join(dir, 'hush.db');
    const db = new Database(file);
    db.exec(MIGRATIONS[0]!);
    db.pragma('user_version = 1');
    db.prepare("INSERT INTO users (name, role, created_at) VALUES ('alice', 'user', 1), ('bob', 'user', 1)").run();
    db.prepare("INSERT INTO devices VALUES ('alice', 'S1', 'B', 'G', 1, 1), ('alice', 'S2', 'B', 'G', 1, 1), ('bob', 'S3', 'B', 'G', 1, 1)").run();
    db.prepare("INSERT INTO delivery_cursors VALUES ('alice', 7)").run();
    db.close();
    const s = SqliteStore.open(file);
    try {
      expect(s.schemaVersion).toBe(SCHEMA_VERSION);
      expect([s.getDeviceCursor('alice', 'S1'), s.getDeviceCursor('alice', 'S2'), s.getDeviceCursor('bob', 'S3')]).toEqual(['7', '7', '0']);
    } finally {
      s.close();
    }
  });

  it('refuses a database from a newer schema', () => {
    const file = join(dir, 'hush.db');
    const db = new Database(file);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    expect(() => SqliteStore.open(file)).toThrow(expect.objectContaining({ code: 'SCHEMA_TOO_NEW' }));
  });
});
