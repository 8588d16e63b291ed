// The Store contract: the same cases for every store (SQLite, PostgreSQL), through the promise
// shape both are used by. Each test gets a fresh, empty store from `open`.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AsyncStore } from '../../src/store/async-store.js';
import { StoreError, type HistoryResult, type NewMessage } from '../../src/store/index.js';

export const roomMsg = (room: string, text: string, ts = 1000, from = 'alice'): Extract<NewMessage, { kind: 'room' }> => ({
  kind: 'room',
  ts,
  from,
  room,
  text,
  action: false,
});
const dm = (from: string, to: string, envelope: string, ts = 1000): NewMessage => ({ kind: 'dm', ts, from, to, envelope });

export function storeContract(open: () => Promise<AsyncStore>): void {
  let store: AsyncStore;
  beforeEach(async () => {
    store = await open();
  });
  afterEach(() => store.close());

  async function seedUsers(...names: string[]) {
    for (const n of names) await store.createUser(n, `scrypt$hash-of-${n}`, 'user', 1);
  }

  describe('users', () => {
    it('creates, reads and lists users', async () => {
      const u = await store.createUser('alice', 'h1', 'user', 5);
      expect(u).toEqual({ name: 'alice', passwordHash: 'h1', role: 'user', createdAt: 5, bannedUntil: null, banReason: null });
      await store.createUser('bob', null, 'admin', 6);
      expect(await store.getUser('alice')).toEqual(u);
      expect(await store.getUser('nobody')).toBeUndefined();
      expect((await store.listUsers()).map((x) => x.name)).toEqual(['alice', 'bob']);
      expect((await store.getUser('bob'))?.passwordHash).toBeNull();
    });

    it('refuses a duplicate user with ALREADY_EXISTS', async () => {
      await store.createUser('alice', 'h', 'user', 1);
      await expect(store.createUser('alice', 'h', 'user', 2)).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
    });

    it('sets password hash and role; unknown users throw NOT_FOUND', async () => {
      await seedUsers('alice');
      await store.setPasswordHash('alice', 'h2');
      await store.setServerRole('alice', 'admin');
      expect(await store.getUser('alice')).toMatchObject({ passwordHash: 'h2', role: 'admin' });
      await expect(store.setPasswordHash('ghost', 'x')).rejects.toThrow(StoreError);
      await expect(store.setServerRole('ghost', 'admin')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    });

    it('bans for a time, forever, and lifts bans', async () => {
      await seedUsers('alice');
      await store.setUserBan('alice', 5000, 'spam');
      expect(await store.getUser('alice')).toMatchObject({ bannedUntil: 5000, banReason: 'spam' });
      await store.setUserBan('alice', Number.POSITIVE_INFINITY, 'forever');
      expect(await store.getUser('alice')).toMatchObject({ bannedUntil: Number.POSITIVE_INFINITY, banReason: 'forever' });
      await store.setUserBan('alice', null, 'ignored');
      expect(await store.getUser('alice')).toMatchObject({ bannedUntil: null, banReason: null });
      await expect(store.setUserBan('ghost', 1, null)).rejects.toThrow(StoreError);
    });
  });

  describe('devices', () => {
    const dev = { user: 'alice', signKey: 'S1', boxKey: 'B1', signature: 'G1' };
    it('upserts, lists, gets and touches devices', async () => {
      await seedUsers('alice', 'bob');
      expect(await store.upsertDevice(dev, 10)).toEqual({ created: true });
      expect(await store.upsertDevice({ ...dev, boxKey: 'B2', signature: 'G2' }, 20)).toEqual({ created: false });
      expect(await store.getDevice('alice', 'S1')).toEqual({ ...dev, boxKey: 'B2', signature: 'G2', createdAt: 10, lastSeen: 20 });
      await store.upsertDevice({ ...dev, signKey: 'S0' }, 30);
      expect((await store.listDevices('alice')).map((d) => d.signKey)).toEqual(['S1', 'S0']);
      expect(await store.listDevices('bob')).toEqual([]);
      await store.touchDevice('alice', 'S1', 99);
      expect((await store.getDevice('alice', 'S1'))?.lastSeen).toBe(99);
      expect(await store.getDevice('bob', 'S1')).toBeUndefined();
    });

    it("starts a new device's delivery cursor at the newest message and only moves it forward", async () => {
      await seedUsers('alice', 'bob');
      await store.upsertDevice(dev, 1);
      expect(await store.getDeviceCursor('alice', 'S1')).toBe('0');
      const s = await store.appendMessages([dm('bob', 'alice', 'e1'), dm('bob', 'alice', 'e2')]);
      // A device bound now could not open the DMs sealed before it existed.
      await store.upsertDevice({ ...dev, signKey: 'S2' }, 2);
      expect(await store.getDeviceCursor('alice', 'S2')).toBe(s[1]!.id);
      await store.advanceDeviceCursor('alice', 'S1', s[1]!.id);
      await store.advanceDeviceCursor('alice', 'S1', s[0]!.id);
      expect(await store.getDeviceCursor('alice', 'S1')).toBe(s[1]!.id);
      // Re-binding a known device keeps its cursor; unknown devices read '0' and are not created.
      await store.upsertDevice({ ...dev, boxKey: 'B9' }, 3);
      expect(await store.getDeviceCursor('alice', 'S1')).toBe(s[1]!.id);
      await store.advanceDeviceCursor('alice', 'nope', '5');
      expect(await store.getDeviceCursor('alice', 'nope')).toBe('0');
      expect(await store.getDeviceCursor('bob', 'S1')).toBe('0');
    });

    it('refuses a device for an unknown user (foreign key)', async () => {
      await expect(store.upsertDevice({ ...dev, user: 'ghost' }, 1)).rejects.toThrow();
    });
  });

  describe('prekeys', () => {
    const dev = { user: 'alice', signKey: 'S1', boxKey: 'B1', signature: 'G1' };
    beforeEach(async () => {
      await seedUsers('alice');
      await store.upsertDevice(dev, 1);
    });

    it('keeps the newest signed prekey of a device', async () => {
      expect(await store.getSignedPrekey('alice', 'S1')).toBeUndefined();
      const spk = { id: 1, createdAt: 100, publicKey: 'P1', signature: 'Z1' };
      await store.setSignedPrekey('alice', 'S1', spk);
      await store.setSignedPrekey('alice', 'S1', { id: 0, createdAt: 50, publicKey: 'OLD', signature: 'Z0' });
      expect(await store.getSignedPrekey('alice', 'S1')).toEqual(spk);
      await store.setSignedPrekey('alice', 'S1', { id: 2, createdAt: 200, publicKey: 'P2', signature: 'Z2' });
      expect(await store.getSignedPrekey('alice', 'S1')).toEqual({ id: 2, createdAt: 200, publicKey: 'P2', signature: 'Z2' });
      expect(await store.getSignedPrekey('alice', 'S9')).toBeUndefined();
    });

    it('hands out each one-time prekey once, lowest id first; ids already held are ignored', async () => {
      expect(
        await store.addOneTimePrekeys('alice', 'S1', [
          { id: 3, publicKey: 'K3' },
          { id: 1, publicKey: 'K1' },
          { id: 2, publicKey: 'K2' },
        ]),
      ).toBe(3);
      expect(
        await store.addOneTimePrekeys('alice', 'S1', [
          { id: 2, publicKey: 'other' },
          { id: 4, publicKey: 'K4' },
        ]),
      ).toBe(4);
      expect(await store.addOneTimePrekeys('alice', 'S1', [])).toBe(4);
      expect(await store.takeOneTimePrekey('alice', 'S1')).toEqual({ id: 1, publicKey: 'K1' });
      expect(await store.takeOneTimePrekey('alice', 'S1')).toEqual({ id: 2, publicKey: 'K2' });
      expect(await store.countOneTimePrekeys('alice', 'S1')).toBe(2);
      expect(await store.takeOneTimePrekey('alice', 'S9')).toBeUndefined();
      expect(await store.countOneTimePrekeys('alice', 'S9')).toBe(0);
    });
  });

  describe('invites', () => {
    it('consumes an invite exactly once and refuses unknown codes', async () => {
      await store.createInvite('code-1', null, 1);
      expect(await store.consumeInvite('nope', 'alice', 2)).toBe(false);
      expect(await store.consumeInvite('code-1', 'alice', 2)).toBe(true);
      expect(await store.consumeInvite('code-1', 'bob', 3)).toBe(false);
    });
  });

  describe('rooms and members', () => {
    it('creates rooms, sets topics, lists them', async () => {
      const r = await store.createRoom('lobby', '', null, 1, 'open');
      expect(r).toEqual({ name: 'lobby', topic: '', createdAt: 1, createdBy: null, kind: 'open' });
      await seedUsers('alice');
      await store.createRoom('dev', 'code', 'alice', 2, 'e2e');
      await expect(store.createRoom('dev', 'x', null, 3, 'open')).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
      await store.setTopic('dev', 'new topic');
      expect(await store.getRoom('dev')).toEqual({ name: 'dev', topic: 'new topic', createdAt: 2, createdBy: 'alice', kind: 'e2e' });
      expect(await store.getRoom('lobby')).toEqual(r);
      expect((await store.listRooms()).map((x) => x.name)).toEqual(['dev', 'lobby']);
      expect(await store.getRoom('none')).toBeUndefined();
      await expect(store.setTopic('none', 't')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    });

    it('adds, lists, updates and removes members', async () => {
      await seedUsers('alice', 'bob');
      await store.createRoom('dev', '', 'alice', 1, 'open');
      await store.createRoom('lobby', '', null, 1, 'open');
      await store.addMember('dev', 'alice', 'owner');
      await store.addMember('dev', 'bob', 'member');
      await store.addMember('lobby', 'bob', 'member');
      expect(await store.listMembers('dev')).toEqual([
        { room: 'dev', user: 'alice', role: 'owner', mutedUntil: null },
        { room: 'dev', user: 'bob', role: 'member', mutedUntil: null },
      ]);
      expect((await store.roomsOf('bob')).map((m) => m.room)).toEqual(['dev', 'lobby']);
      await store.setMemberRole('dev', 'bob', 'op');
      await store.setMute('dev', 'bob', 500);
      expect(await store.getMember('dev', 'bob')).toEqual({ room: 'dev', user: 'bob', role: 'op', mutedUntil: 500 });
      // Re-adding keeps the mute and updates the role.
      await store.addMember('dev', 'bob', 'member');
      expect(await store.getMember('dev', 'bob')).toEqual({ room: 'dev', user: 'bob', role: 'member', mutedUntil: 500 });
      await store.setMute('dev', 'bob', null);
      expect((await store.getMember('dev', 'bob'))?.mutedUntil).toBeNull();
      await store.removeMember('dev', 'bob');
      await store.removeMember('dev', 'bob'); // idempotent
      expect(await store.getMember('dev', 'bob')).toBeUndefined();
      await expect(store.setMemberRole('dev', 'bob', 'op')).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await expect(store.setMute('dev', 'bob', 1)).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await expect(store.addMember('nope', 'alice', 'member')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    });

    it('records a departure (with the mute in force) on removal; re-adding restores the mute and clears it', async () => {
      await seedUsers('alice', 'bob');
      await store.createRoom('dev', '', 'alice', 1, 'open');
      expect(await store.getDeparture('dev', 'bob')).toBeUndefined();
      await store.removeMember('dev', 'bob'); // never a member: nothing to record
      expect(await store.getDeparture('dev', 'bob')).toBeUndefined();
      await store.addMember('dev', 'bob', 'member');
      await store.setMute('dev', 'bob', 900);
      await store.removeMember('dev', 'bob');
      expect(await store.getDeparture('dev', 'bob')).toEqual({ room: 'dev', user: 'bob', mutedUntil: 900 });
      // Rejoining brings the mute back.
      await store.addMember('dev', 'bob', 'member');
      expect(await store.getDeparture('dev', 'bob')).toBeUndefined();
      expect(await store.getMember('dev', 'bob')).toEqual({ room: 'dev', user: 'bob', role: 'member', mutedUntil: 900 });
      await store.setMute('dev', 'bob', null);
      await store.removeMember('dev', 'bob');
      expect(await store.getDeparture('dev', 'bob')).toEqual({ room: 'dev', user: 'bob', mutedUntil: null });
      await store.addMember('dev', 'bob', 'op');
      expect(await store.getMember('dev', 'bob')).toEqual({ room: 'dev', user: 'bob', role: 'op', mutedUntil: null });
    });

    it('pages users, rooms and members by name', async () => {
      await seedUsers('dan', 'alice', 'carol', 'bob');
      for (const r of ['c', 'a', 'b']) await store.createRoom(r, '', null, 1, 'open');
      for (const u of ['dan', 'alice', 'carol', 'bob']) await store.addMember('a', u, 'member');
      expect((await store.listUsers({ limit: 2 })).map((u) => u.name)).toEqual(['alice', 'bob']);
      expect((await store.listUsers({ after: 'bob', limit: 2 })).map((u) => u.name)).toEqual(['carol', 'dan']);
      expect(await store.listUsers({ after: 'dan' })).toEqual([]);
      expect((await store.listRooms({ after: 'a' })).map((r) => r.name)).toEqual(['b', 'c']);
      expect((await store.listMembers('a', { after: 'alice', limit: 2 })).map((m) => m.user)).toEqual(['bob', 'carol']);
      expect(await store.listMembers('b', { limit: 5 })).toEqual([]);
    });
  });

  describe('messages', () => {
    it('appends a batch and returns ids in order', async () => {
      expect(await store.lastMessageId()).toBe('0');
      const stored = await store.appendMessages([
        roomMsg('lobby', 'one'),
        dm('alice', 'bob', 'ENV'),
        { ...roomMsg('lobby', 'waves'), action: true },
      ]);
      expect(stored.map((m) => m.id)).toEqual(['1', '2', '3']);
      expect(stored[0]).toEqual({ kind: 'room', id: '1', ts: 1000, from: 'alice', room: 'lobby', text: 'one', action: false });
      expect(stored[1]).toEqual({ kind: 'dm', id: '2', ts: 1000, from: 'alice', to: 'bob', envelope: 'ENV' });
      expect(await store.lastMessageId()).toBe('3');
      expect((await store.history({ room: 'lobby' }, { limit: 10 })).messages).toEqual([stored[0], stored[2]]);
      expect(await store.appendMessages([])).toEqual([]);
    });

    it('keeps a sealed room message as its envelope alone (no text, action or ref)', async () => {
      const sealed = { kind: 'room', ts: 1000, from: 'alice', room: 'dev', text: '', action: false, envelope: '4gABAgME' } as const;
      const [stored] = await store.appendMessages([sealed, roomMsg('dev', 'plain')]);
      expect(stored).toEqual({ ...sealed, id: '1' });
      const page = (await store.history({ room: 'dev' }, { limit: 10 })).messages;
      expect(page).toEqual([
        { ...sealed, id: '1' },
        { kind: 'room', id: '2', ts: 1000, from: 'alice', room: 'dev', text: 'plain', action: false },
      ]);
      expect(await store.roomMessage('dev', '1')).toEqual({ ...sealed, id: '1' });
    });

    it('numbers a large mixed batch (several rows per INSERT) in order, each id matching its row', async () => {
      await store.appendMessages([roomMsg('lobby', 'first')]);
      const batch: NewMessage[] = Array.from({ length: 100 }, (_, i) =>
        i % 3 === 0 ? dm('alice', 'bob', `env${i}`) : roomMsg('lobby', `r${i}`),
      );
      const stored = await store.appendMessages(batch);
      expect(stored.map((m) => Number(m.id))).toEqual(Array.from({ length: 100 }, (_, i) => i + 2));
      const rooms = (await store.history({ room: 'lobby' }, { limit: 200 })).messages;
      const dms = (await store.history({ dm: ['alice', 'bob'] }, { limit: 200 })).messages;
      const byId = new Map([...rooms, ...dms].map((m) => [m.id, m]));
      for (const m of stored) expect(byId.get(m.id)).toEqual(m);
      expect(await store.lastMessageId()).toBe('101');
    });

    it('appends a batch atomically: a failing row rolls back the whole batch', async () => {
      await store.appendMessages([roomMsg('lobby', 'before')]);
      const bad = { kind: 'room', ts: 1.5, from: 'x', room: 'lobby', text: 'bad', action: false } as NewMessage; // an integer column refuses 1.5
      await expect(store.appendMessages([roomMsg('lobby', 'a'), roomMsg('lobby', 'b'), bad])).rejects.toThrow();
      // A bad row in a later INSERT of the batch rolls back the earlier ones too.
      await expect(store.appendMessages([...Array.from({ length: 40 }, (_, i) => roomMsg('lobby', `c${i}`)), bad])).rejects.toThrow();
      const page = await store.history({ room: 'lobby' }, { limit: 10 });
      expect(page.messages.map((m) => (m.kind === 'room' ? m.text : ''))).toEqual(['before']);
    });

    describe('history paging', () => {
      let ids: string[];
      beforeEach(async () => {
        const batch: NewMessage[] = [];
        for (let i = 1; i <= 10; i++) batch.push(roomMsg('lobby', `m${i}`, i));
        batch.push(roomMsg('other', 'elsewhere'));
        ids = (await store.appendMessages(batch)).slice(0, 10).map((m) => m.id);
      });
      const texts = (r: HistoryResult) => r.messages.map((m) => (m.kind === 'room' ? m.text : `dm:${m.id}`));

      it('returns the newest page oldest-first with hasMore', async () => {
        const r = await store.history({ room: 'lobby' }, { limit: 3 });
        expect(texts(r)).toEqual(['m8', 'm9', 'm10']);
        expect(r.hasMore).toBe(true);
      });
      it('pages back with before until the start', async () => {
        const r1 = await store.history({ room: 'lobby' }, { limit: 4, before: ids[7] });
        expect(texts(r1)).toEqual(['m4', 'm5', 'm6', 'm7']);
        expect(r1.hasMore).toBe(true);
        const r2 = await store.history({ room: 'lobby' }, { limit: 4, before: r1.messages[0]!.id });
        expect(texts(r2)).toEqual(['m1', 'm2', 'm3']);
        expect(r2.hasMore).toBe(false);
      });
      it('exact page size at the start reports no more', async () => {
        const r = await store.history({ room: 'lobby' }, { limit: 3, before: ids[3] });
        expect(texts(r)).toEqual(['m1', 'm2', 'm3']);
        expect(r.hasMore).toBe(false);
      });
      it('pages forward with after (catch-up)', async () => {
        const r1 = await store.history({ room: 'lobby' }, { limit: 4, after: ids[2] });
        expect(texts(r1)).toEqual(['m4', 'm5', 'm6', 'm7']);
        expect(r1.hasMore).toBe(true);
        const r2 = await store.history({ room: 'lobby' }, { limit: 4, after: r1.messages[3]!.id });
        expect(texts(r2)).toEqual(['m8', 'm9', 'm10']);
        expect(r2.hasMore).toBe(false);
        const r3 = await store.history({ room: 'lobby' }, { limit: 4, after: ids[9] });
        expect(r3).toEqual({ messages: [], hasMore: false });
      });
      it('takes a window with both before and after', async () => {
        const r = await store.history({ room: 'lobby' }, { limit: 2, after: ids[1], before: ids[6] });
        expect(texts(r)).toEqual(['m5', 'm6']);
        expect(r.hasMore).toBe(true);
      });
      it('handles limit 0, unknown rooms and malformed or huge ids', async () => {
        expect(await store.history({ room: 'lobby' }, { limit: 0 })).toEqual({ messages: [], hasMore: true });
        expect(await store.history({ room: 'nope' }, { limit: 5 })).toEqual({ messages: [], hasMore: false });
        expect(texts(await store.history({ room: 'lobby' }, { limit: 2, before: '99999999999999999999' }))).toEqual(['m9', 'm10']);
        expect((await store.history({ room: 'lobby' }, { limit: 2, before: 'junk' })).messages).toEqual([]);
      });
    });

    it('keys direct conversations by the sorted pair', async () => {
      const s = await store.appendMessages([
        dm('alice', 'bob', 'e1'),
        dm('bob', 'alice', 'e2'),
        dm('alice', 'carol', 'e3'),
        dm('bob', 'alice', 'e4'),
      ]);
      const ab = await store.history({ dm: ['bob', 'alice'] }, { limit: 10 });
      expect(ab.messages.map((m) => m.id)).toEqual([s[0]!.id, s[1]!.id, s[3]!.id]);
      expect(await store.history({ dm: ['alice', 'bob'] }, { limit: 10 })).toEqual(ab);
      expect((await store.history({ dm: ['carol', 'alice'] }, { limit: 10 })).messages).toEqual([s[2]]);
      const r = await store.history({ dm: ['alice', 'bob'] }, { limit: 1, before: s[3]!.id });
      expect(r.messages.map((m) => m.id)).toEqual([s[1]!.id]);
      expect(r.hasMore).toBe(true);
    });

    it('lists direct messages to a user since an id', async () => {
      const s = await store.appendMessages([
        dm('alice', 'bob', 'e1'),
        dm('bob', 'alice', 'e2'),
        roomMsg('lobby', 'x'),
        dm('carol', 'bob', 'e3'),
        dm('alice', 'bob', 'e4'),
      ]);
      expect((await store.directMessagesSince('bob', '0', 10)).map((m) => m.id)).toEqual([s[0]!.id, s[3]!.id, s[4]!.id]);
      expect((await store.directMessagesSince('bob', s[0]!.id, 1)).map((m) => m.id)).toEqual([s[3]!.id]);
      expect(await store.directMessagesSince('bob', s[4]!.id, 10)).toEqual([]);
      expect((await store.directMessagesSince('alice', '0', 10)).map((m) => m.id)).toEqual([s[1]!.id]);
    });

    it('lists every message after an id, rooms and direct, oldest first (what a node missed on the bus)', async () => {
      const s = await store.appendMessages([
        dm('alice', 'bob', 'e1'),
        roomMsg('lobby', 'x'),
        dm('carol', 'bob', 'e2'),
        roomMsg('lobby', 'y'),
      ]);
      expect(await store.messagesAfter('0', 10)).toEqual(s);
      expect((await store.messagesAfter(s[0]!.id, 2)).map((m) => m.id)).toEqual([s[1]!.id, s[2]!.id]);
      expect(await store.messagesAfter(s[3]!.id, 10)).toEqual([]);
    });

    it('lists direct messages to or from a user with includeSent', async () => {
      const s = await store.appendMessages([
        dm('alice', 'bob', 'e1'),
        dm('bob', 'alice', 'e2'),
        roomMsg('lobby', 'x', 1000, 'bob'),
        dm('carol', 'dave', 'e3'),
        dm('bob', 'bob', 'e4'),
        dm('bob', 'carol', 'e5'),
      ]);
      const sent = async (after: string, limit = 10) =>
        (await store.directMessagesSince('bob', after, limit, { includeSent: true })).map((m) => m.id);
      expect(await sent('0')).toEqual([s[0]!.id, s[1]!.id, s[4]!.id, s[5]!.id]);
      expect(await sent(s[0]!.id, 2)).toEqual([s[1]!.id, s[4]!.id]);
      expect(await sent(s[5]!.id)).toEqual([]);
    });

    it('lists the distinct direct-message peers of a user', async () => {
      await store.appendMessages([
        dm('alice', 'bob', 'e1'),
        dm('bob', 'alice', 'e2'),
        dm('carol', 'bob', 'e3'),
        dm('bob', 'bob', 'e4'),
        dm('dave', 'erin', 'e5'),
        roomMsg('lobby', 'x', 1000, 'bob'),
      ]);
      expect(await store.dmPeers('bob')).toEqual(['alice', 'carol']);
      expect(await store.dmPeers('dave')).toEqual(['erin']);
      expect(await store.dmPeers('zed')).toEqual([]);
    });
  });

  describe('message references', () => {
    const ref = (text: string, r: NonNullable<Extract<NewMessage, { kind: 'room' }>['ref']>, from = 'alice'): NewMessage => ({
      ...roomMsg('lobby', text, 1000, from),
      ref: r,
    });

    it('stores references with the message and finds a room message by id', async () => {
      const [first, other] = await store.appendMessages([roomMsg('lobby', 'hello'), roomMsg('dev', 'elsewhere')]);
      const [reply, react] = await store.appendMessages([
        ref('hi back', { kind: 'reply', msgId: first!.id }, 'bob'),
        ref('', { kind: 'react', msgId: first!.id, emoji: '🎉', on: true }, 'bob'),
      ]);
      expect(reply).toMatchObject({ kind: 'room', text: 'hi back', ref: { kind: 'reply', msgId: first!.id } });
      expect(await store.roomMessage('lobby', reply!.id)).toEqual(reply);
      expect(await store.roomMessage('lobby', react!.id)).toEqual(react);
      expect(await store.roomMessage('lobby', other!.id)).toBeUndefined(); // another room's
      expect(await store.roomMessage('lobby', '999')).toBeUndefined();
      expect((await store.history({ room: 'lobby' }, { limit: 10 })).messages).toEqual([first, reply, react]);
    });

    it('redacts a message: its text and its edits go, the delete and other messages stay', async () => {
      const [original, keep] = await store.appendMessages([roomMsg('lobby', 'oops'), roomMsg('lobby', 'unrelated')]);
      const [edit, , del] = await store.appendMessages([
        ref('oops, fixed', { kind: 'edit', msgId: original!.id }),
        ref('edit of another', { kind: 'edit', msgId: keep!.id }),
        ref('', { kind: 'delete', msgId: original!.id }),
      ]);
      await store.redactRoomMessage('lobby', original!.id);
      await store.redactRoomMessage('lobby', '999'); // unknown: nothing happens
      const after = (await store.history({ room: 'lobby' }, { limit: 10 })).messages;
      expect(after.map((m) => m.id)).toEqual([original!.id, keep!.id, String(Number(edit!.id) + 1), del!.id]);
      expect(after[0]).toMatchObject({ text: '', deleted: true });
      expect(after[1]).toMatchObject({ text: 'unrelated' });
      expect(await store.roomMessage('lobby', edit!.id)).toBeUndefined();
    });
  });

  describe('idempotency keys', () => {
    const keyed = (text: string, key: string, from = 'alice'): NewMessage => ({ ...roomMsg('lobby', text, 1000, from), key });

    it('stores a key once: a repeat, later or in the same batch, returns the first message id and time', async () => {
      const [first] = await store.appendMessages([keyed('one', 'key-00001')]);
      expect(first).toMatchObject({ kind: 'room', id: '1', text: 'one' });
      const out = await store.appendMessages([
        keyed('again', 'key-00001'),
        keyed('two', 'key-00002'),
        roomMsg('lobby', 'plain'),
        keyed('two again', 'key-00002'),
        { kind: 'dm', ts: 5, from: 'alice', to: 'bob', envelope: 'E', key: 'key-00001' },
      ]);
      expect(out).toEqual([
        { kind: 'repeat', id: '1', ts: 1000 },
        { kind: 'room', id: '2', ts: 1000, from: 'alice', room: 'lobby', text: 'two', action: false },
        { kind: 'room', id: '3', ts: 1000, from: 'alice', room: 'lobby', text: 'plain', action: false },
        { kind: 'repeat', id: '2', ts: 1000 },
        { kind: 'repeat', id: '1', ts: 1000 },
      ]);
      expect((await store.history({ room: 'lobby' }, { limit: 10 })).messages.map((m) => m.id)).toEqual(['1', '2', '3']);
      expect(await store.messageByKey('alice', 'key-00002')).toEqual({ kind: 'repeat', id: '2', ts: 1000 });
      expect(await store.messageByKey('alice', 'key-never')).toBeUndefined();
    });

    it('keys belong to their sender', async () => {
      const out = await store.appendMessages([keyed('a', 'key-shared', 'alice'), keyed('b', 'key-shared', 'bob')]);
      expect(out.map((m) => m.kind)).toEqual(['room', 'room']);
      expect((await store.messageByKey('bob', 'key-shared'))?.id).toBe(out[1]!.id);
    });

    it('finds keys no longer remembered in memory in the database, in a batch mixed with new ones', async () => {
      const total = 70_000; // more than the keys kept in memory
      for (let at = 0; at < total; at += 1000) {
        await store.appendMessages(Array.from({ length: 1000 }, (_, i) => keyed(`m${at + i}`, `bulk-${at + i}`)));
      }
      const out = await store.appendMessages([
        keyed('new', 'bulk-new'),
        keyed('old', 'bulk-0'),
        keyed('recent', `bulk-${total - 1}`),
        keyed('new', 'bulk-new'),
      ]);
      expect(out.map((m) => m.kind)).toEqual(['room', 'repeat', 'repeat', 'repeat']);
      expect(out.map((m) => m.id)).toEqual([String(total + 1), '1', String(total), String(total + 1)]);
      expect(await store.lastMessageId()).toBe(String(total + 1));
    });
  });

  describe('read markers', () => {
    it('stores and overwrites markers per conversation', async () => {
      expect(await store.getReadMarkers('alice')).toEqual({});
      await store.setReadMarker('alice', '#lobby', '5');
      await store.setReadMarker('alice', '@bob', '7');
      await store.setReadMarker('alice', '#lobby', '9');
      await store.setReadMarker('bob', '#lobby', '1');
      expect({ ...(await store.getReadMarkers('alice')) }).toEqual({ '#lobby': '9', '@bob': '7' });
    });
  });

  describe('address bans', () => {
    it('bans until a time or forever, lists and lifts', async () => {
      await store.banAddress('10.0.0.1', 1000, 'flood');
      await store.banAddress('10.0.0.2', Number.POSITIVE_INFINITY, null);
      expect(await store.isAddressBanned('10.0.0.1', 999)).toBe(true);
      expect(await store.isAddressBanned('10.0.0.1', 1000)).toBe(false);
      expect(await store.isAddressBanned('10.0.0.2', 8e15)).toBe(true);
      expect(await store.isAddressBanned('10.0.0.3', 0)).toBe(false);
      expect(await store.listAddressBans()).toEqual([
        { address: '10.0.0.1', until: 1000, reason: 'flood' },
        { address: '10.0.0.2', until: Number.POSITIVE_INFINITY, reason: null },
      ]);
      await store.banAddress('10.0.0.1', 5000, 'again');
      expect(await store.isAddressBanned('10.0.0.1', 4000)).toBe(true);
      await store.unbanAddress('10.0.0.1');
      expect(await store.isAddressBanned('10.0.0.1', 0)).toBe(false);
    });
  });

  describe('files', () => {
    const file = { id: 'file-0001', from: 'alice', room: 'dev', to: null, name: 'a.txt', sha512: 'abc', size: 6, createdAt: 100 };
    beforeEach(async () => {
      await seedUsers('alice', 'bob', 'carol');
      await store.createRoom('dev', '', null, 1, 'open');
      await store.addMember('dev', 'alice', 'owner');
      await store.addMember('dev', 'bob', 'member');
    });

    it('stores metadata and chunk bytes as BLOBs', async () => {
      await store.createFile(file);
      expect(await store.getFile('file-0001')).toEqual({ ...file, complete: false });
      await store.putFileChunk('file-0001', 0, new Uint8Array([1, 2, 3]));
      await store.putFileChunk('file-0001', 1, Buffer.from([4, 5, 6]));
      await store.putFileChunk('file-0001', 1, new Uint8Array([9, 9, 9, 0, 4, 5, 6]).subarray(4)); // offset view
      expect([...(await store.getFileChunk('file-0001', 0))!]).toEqual([1, 2, 3]);
      expect([...(await store.getFileChunk('file-0001', 1))!]).toEqual([4, 5, 6]);
      expect(await store.getFileChunk('file-0001', 2)).toBeUndefined();
      await expect(store.putFileChunk('nope-0000', 0, new Uint8Array(1))).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await expect(store.createFile(file)).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
    });

    it('offers complete files to recipients until handled', async () => {
      await store.createFile(file);
      await store.createFile({ ...file, id: 'file-0002', room: null, to: 'carol', name: null, sha512: null });
      expect(await store.pendingFilesFor('bob')).toEqual([]); // not complete yet
      await store.completeFile('file-0001');
      await store.completeFile('file-0002');
      expect((await store.pendingFilesFor('bob')).map((f) => f.id)).toEqual(['file-0001']);
      expect((await store.pendingFilesFor('carol')).map((f) => f.id)).toEqual(['file-0002']);
      expect(await store.pendingFilesFor('alice')).toEqual([]); // the sender is not offered their own file
      await store.markFileHandled('file-0001', 'bob', 'declined');
      expect(await store.pendingFilesFor('bob')).toEqual([]);
      await expect(store.completeFile('nope-0000')).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await expect(store.markFileHandled('nope-0000', 'bob', 'accepted')).rejects.toThrow(StoreError);
    });

    it('deletes a file with its chunks', async () => {
      await store.createFile(file);
      await store.putFileChunk('file-0001', 0, new Uint8Array([1]));
      await store.deleteFile('file-0001');
      expect(await store.getFile('file-0001')).toBeUndefined();
      expect(await store.getFileChunk('file-0001', 0)).toBeUndefined();
    });
  });

  describe('prune', () => {
    it('deletes messages and files older than the cutoff and keeps ids monotonic', async () => {
      await seedUsers('alice');
      const s = await store.appendMessages([roomMsg('lobby', 'old', 100), dm('alice', 'bob', 'e', 150), roomMsg('lobby', 'new', 300)]);
      await store.createFile({
        id: 'old-file-1',
        from: 'alice',
        room: 'lobby',
        to: null,
        name: 'x',
        sha512: null,
        size: 1,
        createdAt: 100,
      });
      await store.putFileChunk('old-file-1', 0, new Uint8Array([1]));
      await store.createFile({
        id: 'new-file-1',
        from: 'alice',
        room: 'lobby',
        to: null,
        name: 'y',
        sha512: null,
        size: 1,
        createdAt: 300,
      });
      const prune = async (cutoff: number) => (await store.pruneMessages(cutoff)) + (await store.pruneFiles(cutoff));
      expect(await prune(200)).toBe(3);
      expect((await store.history({ room: 'lobby' }, { limit: 10 })).messages.map((m) => m.id)).toEqual([s[2]!.id]);
      expect(await store.getFile('old-file-1')).toBeUndefined();
      expect(await store.getFileChunk('old-file-1', 0)).toBeUndefined();
      expect(await store.getFile('new-file-1')).toBeDefined();
      expect(await prune(200)).toBe(0);
      // Deleting the newest rows never lets an id be reused.
      await prune(10_000);
      expect(await store.lastMessageId()).toBe(s[2]!.id);
      expect((await store.appendMessages([roomMsg('lobby', 'later', 20_000)]))[0]!.id).toBe(String(Number(s[2]!.id) + 1));
    });
  });
}
