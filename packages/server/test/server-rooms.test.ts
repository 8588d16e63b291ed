import { describe, expect, it } from 'vitest';
import { RawClient } from '../src/raw-client.js';
import { rawServer, sealed } from './helpers/raw-server.js';
import { nodeLocalIt } from './helpers/store-under-test.js';

const fixture = rawServer({});
const { user } = fixture;

async function admin(name: string): Promise<RawClient> {
  const first = await user(name);
  await fixture.server.db.setServerRole(name, 'admin');
  await first.close();
  const c = await RawClient.connect(fixture.server.port);
  fixture.track(c);
  c.device = first.device;
  expect(await c.request(c.deviceLoginRequest(name))).toMatchObject({ type: 'welcome', role: 'admin' });
  return c;
}

const event = (room: string, kind: string, who?: string) => (m: { type: string; room?: string; event?: string; user?: string }) =>
  m.type === 'room_event' && m.room === room && m.event === kind && (who === undefined || m.user === who);

describe('rooms', () => {
  it('creates (creator owns), joins, lists, sets the topic, lists members with presence, parts', async () => {
    const ann = await user('ann');
    const ben = await user('ben');
    await ann.expect({ type: 'room_create', room: 'dev', topic: 'code' }, 'ok');
    expect(await ann.next(event('dev', 'create', 'ann'))).toMatchObject({ role: 'owner' });
    expect(await ann.request({ type: 'room_create', room: 'dev' })).toMatchObject({ code: 'ALREADY_EXISTS' });

    const list = await ben.expect({ type: 'room_list' }, 'rooms');
    expect(list.rooms.find((r) => r.room === 'dev')).toMatchObject({ topic: 'code', members: 1, joined: false });
    expect(await ben.request({ type: 'send', room: 'dev', text: 'hi' })).toMatchObject({ code: 'NOT_MEMBER' });
    expect(await ben.request({ type: 'room_topic', room: 'dev', topic: 'mine' })).toMatchObject({
      code: 'NOT_MEMBER',
      message: 'not a member of #dev',
    });
    expect(await ben.request({ type: 'room_join', room: 'nope' })).toMatchObject({ code: 'NOT_FOUND' });

    await ben.expect({ type: 'room_join', room: 'dev' }, 'ok');
    expect(await ann.next(event('dev', 'join', 'ben'))).toBeTruthy();
    const ack = await ben.expect({ type: 'send', room: 'dev', envelope: sealed('joined') }, 'ack');
    expect(await ann.next((m) => m.type === 'message' && m.msgId === ack.msgId)).toMatchObject({ room: 'dev', from: 'ben' });

    // Said as a kick or a mute is: who may, in this room.
    expect(await ben.request({ type: 'room_topic', room: 'dev', topic: 'mine' })).toMatchObject({
      code: 'FORBIDDEN',
      message: 'only the operators and the owner of #dev set its topic',
    });
    await ann.expect({ type: 'room_topic', room: 'dev', topic: 'new topic' }, 'ok');
    expect(await ben.next(event('dev', 'topic'))).toMatchObject({ topic: 'new topic', by: 'ann' });

    const members = await ben.expect({ type: 'room_members', room: 'dev' }, 'members');
    expect(members.members).toEqual(
      expect.arrayContaining([
        { user: 'ann', role: 'owner', state: 'online', status: '' },
        { user: 'ben', role: 'member', state: 'online', status: '' },
      ]),
    );

    expect(await ben.request({ type: 'room_part', room: 'lobby' })).toMatchObject({ code: 'FORBIDDEN' });
    await ben.expect({ type: 'room_part', room: 'dev' }, 'ok');
    expect(await ann.next(event('dev', 'part', 'ben'))).toBeTruthy();
    const after = await ann.expect({ type: 'send', room: 'dev', envelope: sealed('alone') }, 'ack');
    await ben.expect({ type: 'room_list' }, 'rooms');
    expect(ben.take((m) => m.type === 'message' && m.msgId === after.msgId)).toEqual([]);
    expect(await ben.request({ type: 'room_members', room: 'dev' })).toMatchObject({ code: 'NOT_MEMBER' });
  });
});

describe('room notices in order', () => {
  it("a newcomer's join reaches members before the message it sent in the same record", async () => {
    const host = await user('host9');
    const guest = await user('guest9');
    await host.expect({ type: 'room_create', room: 'order' }, 'ok');
    await host.next(event('order', 'create'));
    guest.send({ type: 'room_join', id: 'j1', room: 'order' }, { type: 'send', id: 's1', room: 'order', envelope: sealed('first words') });
    const seen: string[] = [];
    const relevant = (m: { type: string; room?: string }) => (m.type === 'room_event' || m.type === 'message') && m.room === 'order';
    while (seen.length < 2) {
      const m = await host.next(relevant);
      seen.push(m.type === 'message' ? `message:${m.envelope}` : `${m.type}:${'event' in m ? m.event : ''}`);
    }
    expect(seen).toEqual(['room_event:join', `message:${sealed('first words')}`]);
    expect(await guest.next((m) => 're' in m && m.re === 's1')).toMatchObject({ type: 'ack' });
  });

  it('a join and a part in the same record reach members in that order', async () => {
    const host = await user('host10');
    const guest = await user('guest10');
    await host.expect({ type: 'room_create', room: 'brief' }, 'ok');
    await host.next(event('brief', 'create'));
    guest.send({ type: 'room_join', id: 'j2', room: 'brief' }, { type: 'room_part', id: 'p2', room: 'brief' });
    const first = await host.next((m) => m.type === 'room_event' && m.room === 'brief');
    const second = await host.next((m) => m.type === 'room_event' && m.room === 'brief');
    expect([first, second].map((m) => (m.type === 'room_event' ? m.event : m.type))).toEqual(['join', 'part']);
    const members = await host.expect({ type: 'room_members', room: 'brief' }, 'members');
    expect(members.members.map((m) => m.user)).toEqual(['host10']);
  });
});

describe('moderation', () => {
  it('lets ops kick and mute, owners set roles, and refuses members', async () => {
    const own = await user('owner1');
    const op = await user('op1');
    const mem = await user('member1');
    await own.expect({ type: 'room_create', room: 'mod' }, 'ok');
    await op.expect({ type: 'room_join', room: 'mod' }, 'ok');
    await mem.expect({ type: 'room_join', room: 'mod' }, 'ok');

    expect(await mem.request({ type: 'kick', room: 'mod', user: 'op1' })).toMatchObject({
      code: 'FORBIDDEN',
      message: 'only the operators and the owner of #mod kick, mute and unmute there',
    });
    expect(await op.request({ type: 'role_set', room: 'mod', user: 'op1', role: 'op' })).toMatchObject({ code: 'FORBIDDEN' });
    await own.expect({ type: 'role_set', room: 'mod', user: 'op1', role: 'op' }, 'ok');
    expect(await mem.next(event('mod', 'role', 'op1'))).toMatchObject({ role: 'op', by: 'owner1' });
    expect(await op.request({ type: 'kick', room: 'mod', user: 'owner1' })).toMatchObject({
      code: 'FORBIDDEN',
      message: 'owner1 ranks above you in #mod',
    });
    await own.expect({ type: 'role_set', room: 'mod', user: 'member1', role: 'op' }, 'ok');
    expect(await op.request({ type: 'mute', room: 'mod', user: 'member1' })).toMatchObject({
      code: 'FORBIDDEN',
      message: 'member1 ranks as high as you in #mod',
    });
    await own.expect({ type: 'role_set', room: 'mod', user: 'member1', role: 'member' }, 'ok');
    // Nobody kicks or mutes themselves by mistake (losing their role or voice).
    expect(await op.request({ type: 'kick', room: 'mod', user: 'op1' })).toMatchObject({
      code: 'FORBIDDEN',
      message: 'you cannot kick yourself (leave the room instead)',
    });
    expect(await own.request({ type: 'mute', room: 'mod', user: 'owner1' })).toMatchObject({ message: 'you cannot mute yourself' });
    for (const role of ['member', 'op'] as const) {
      expect(await own.request({ type: 'role_set', room: 'mod', user: 'owner1', role })).toMatchObject({
        code: 'FORBIDDEN',
        message: 'you cannot change your own role',
      });
    }
    expect(await fixture.server.db.getMember('mod', 'owner1')).toMatchObject({ role: 'owner' });
    expect(await fixture.server.db.getMember('mod', 'op1')).toMatchObject({ role: 'op' });

    await op.expect({ type: 'mute', room: 'mod', user: 'member1', seconds: 60 }, 'ok');
    expect(await mem.next(event('mod', 'mute', 'member1'))).toMatchObject({ by: 'op1' });
    expect(await mem.request({ type: 'send', room: 'mod', envelope: sealed('let me talk') })).toMatchObject({ code: 'MUTED' });
    await op.expect({ type: 'unmute', room: 'mod', user: 'member1' }, 'ok');
    await mem.expect({ type: 'send', room: 'mod', envelope: sealed('thanks') }, 'ack');

    await op.expect({ type: 'kick', room: 'mod', user: 'member1', reason: 'bye' }, 'ok');
    expect(await mem.next(event('mod', 'kick', 'member1'))).toMatchObject({ by: 'op1', reason: 'bye' });
    expect(await mem.request({ type: 'send', room: 'mod', envelope: sealed('still here?') })).toMatchObject({ code: 'NOT_MEMBER' });
    expect(await fixture.server.db.getMember('mod', 'member1')).toBeUndefined();
  });

  it('lets server admins moderate any room and ban accounts and addresses; others get FORBIDDEN', async () => {
    const boss = await admin('boss');
    const roomOwner = await user('roomowner');
    const troll = await user('troll');
    await roomOwner.expect({ type: 'room_create', room: 'elsewhere' }, 'ok');
    await troll.expect({ type: 'room_join', room: 'elsewhere' }, 'ok');
    await boss.expect({ type: 'kick', room: 'elsewhere', user: 'troll' }, 'ok');
    expect(await troll.next(event('elsewhere', 'kick', 'troll'))).toMatchObject({ by: 'boss' });

    expect(await troll.request({ type: 'ban', user: 'roomowner' })).toMatchObject({
      code: 'FORBIDDEN',
      message: 'only server admins ban and unban (room operators can kick or mute)',
    });
    // An admin never bans herself by mistake (a slip of Tab): it would lock her out.
    expect(await boss.request({ type: 'ban', user: 'boss' })).toMatchObject({ code: 'FORBIDDEN', message: 'you cannot ban yourself' });
    expect((await fixture.server.db.getUser('boss'))?.bannedUntil).toBeNull();
    await boss.expect({ type: 'ban', user: 'troll', reason: 'spam' }, 'ok');
    expect(await troll.next('goodbye')).toMatchObject({ code: 'BANNED' });
    await troll.closed;
    const retry = await RawClient.connect(fixture.server.port);
    fixture.track(retry);
    retry.device = troll.device;
    // Both logins say why and until when, not a bare "banned".
    const banned = { code: 'BANNED', message: 'this account is banned: spam (until an admin lifts it)' };
    expect(await retry.request(retry.deviceLoginRequest('troll'))).toMatchObject(banned);
    expect(
      await retry.request({ type: 'login', username: 'troll', password: 'correct horse battery', device: retry.bundle() }),
    ).toMatchObject(banned);
    await boss.expect({ type: 'unban', user: 'troll' }, 'ok');
    // Lifting what is not there is said, not announced as done.
    expect(await boss.request({ type: 'unban', user: 'troll' })).toMatchObject({ code: 'NOT_FOUND', message: 'troll is not banned' });
    const welcome = await retry.expect(retry.deviceLoginRequest('troll'), 'welcome');
    // The ban took the account out of every room; an unban brings it back to the default room only.
    expect(welcome.rooms.map((r) => r.room)).toEqual(['lobby']);
  });

  it('returns an account to the default room when its ban ends, by an unban or by running out', async () => {
    const boss = await admin('boss3');
    const [unbanned, expired] = [await user('unbanned1'), await user('expired1')];
    for (const [name, c] of [
      ['unbanned1', unbanned],
      ['expired1', expired],
    ] as const) {
      await boss.expect({ type: 'ban', user: name, seconds: 3600 }, 'ok');
      expect(await boss.next(event('lobby', 'ban', name))).toBeTruthy();
      // A ban for a while says until when as it closes the connection.
      expect(await c.next('goodbye')).toMatchObject({
        code: 'BANNED',
        message: expect.stringMatching(/^banned by an administrator \(until \d{4}-\d\d-\d\d \d\d:\d\d UTC\)$/),
      });
      await c.closed;
      expect(await fixture.server.db.getMember('lobby', name)).toBeUndefined();
    }
    await boss.expect({ type: 'unban', user: 'unbanned1' }, 'ok');
    expect(await boss.next(event('lobby', 'join', 'unbanned1'))).toBeTruthy();
    // The timed ban runs out (set in the past in the store rather than waited for).
    await fixture.server.db.setUserBan('expired1', Date.now() - 1, null);
    for (const [name, c] of [
      ['unbanned1', unbanned],
      ['expired1', expired],
    ] as const) {
      const back = await RawClient.connect(fixture.server.port);
      fixture.track(back);
      back.device = c.device;
      const welcome = await back.expect(back.deviceLoginRequest(name), 'welcome');
      expect(welcome.rooms.map((r) => r.room)).toEqual(['lobby']);
      await back.expect({ type: 'send', room: 'lobby', text: `${name} is back` }, 'ack');
    }
    expect(await boss.next(event('lobby', 'join', 'expired1'))).toBeTruthy();
    expect((await fixture.server.db.getUser('expired1'))?.bannedUntil).toBeNull();
  });

  // Unbans through one node's store object: other nodes hold the ban in their cache for a second.
  nodeLocalIt('bans an address: matching connections are closed and refused at accept until unbanned', async () => {
    const boss = await admin('boss2');
    const victim = await user('addrvictim');
    await boss.expect({ type: 'ban', address: '127.0.0.1', seconds: 600 }, 'ok');
    // The admin shares the loopback address in this test, so it is disconnected too.
    expect(await victim.next('goodbye')).toMatchObject({ code: 'BANNED' });
    const refused = await RawClient.raw(fixture.server.port);
    fixture.track(refused);
    expect(await refused.next('goodbye')).toMatchObject({ code: 'BANNED' });
    await fixture.server.db.unbanAddress('127.0.0.1');
    const ok = await RawClient.connect(fixture.server.port);
    fixture.track(ok);
    expect(ok.isClosed).toBe(false);
  });
});

describe('the default room', () => {
  it('keeps a kicked user out across logins until they rejoin (mute intact); new accounts still join; parting stays refused', async () => {
    const boss = await admin('lobbyboss');
    const rex = await user('rex');
    expect(await rex.request({ type: 'room_part', room: 'lobby' })).toMatchObject({
      type: 'error',
      code: 'FORBIDDEN',
      message: "everyone stays in #lobby, the server's default room",
    });
    await boss.expect({ type: 'mute', room: 'lobby', user: 'rex', seconds: 600 }, 'ok');
    await boss.expect({ type: 'kick', room: 'lobby', user: 'rex' }, 'ok');
    expect(await rex.next(event('lobby', 'kick', 'rex'))).toMatchObject({ by: 'lobbyboss' });
    await rex.close();

    // Back with the same device, and with a new device (password login): not re-added either way.
    const again = await RawClient.connect(fixture.server.port);
    fixture.track(again);
    again.device = rex.device;
    const welcome = await again.expect(again.deviceLoginRequest('rex'), 'welcome');
    expect(welcome.rooms.map((r) => r.room)).not.toContain('lobby');
    const laptop = await RawClient.connect(fixture.server.port);
    fixture.track(laptop);
    expect((await laptop.login('rex')).rooms.map((r) => r.room)).not.toContain('lobby');
    expect(await fixture.server.db.getMember('lobby', 'rex')).toBeUndefined();
    expect(await again.request({ type: 'send', room: 'lobby', text: 'hello?' })).toMatchObject({ code: 'NOT_MEMBER' });

    // A new account is still put in the default room.
    const newcomer = await RawClient.connect(fixture.server.port);
    fixture.track(newcomer);
    expect((await newcomer.register('newcomer')).rooms.map((r) => r.room)).toContain('lobby');

    // Rex may rejoin like any room, but the mute he was kicked with comes back with him.
    await again.expect({ type: 'room_join', room: 'lobby' }, 'ok');
    expect(await boss.next(event('lobby', 'join', 'rex'))).toBeTruthy();
    expect(await again.request({ type: 'send', room: 'lobby', text: 'let me talk' })).toMatchObject({ code: 'MUTED' });
    await boss.expect({ type: 'unmute', room: 'lobby', user: 'rex' }, 'ok');
    expect(await boss.request({ type: 'unmute', room: 'lobby', user: 'rex' })).toMatchObject({
      code: 'NOT_FOUND',
      message: 'rex is not muted in #lobby',
    });
    await again.expect({ type: 'send', room: 'lobby', text: 'thanks' }, 'ack');
    expect(await again.request({ type: 'room_part', room: 'lobby' })).toMatchObject({ code: 'FORBIDDEN' });
  });
});
