// `hushd ban` and `hushd unban` run beside live servers: the command line records the ban and
// queues it, and a running server (one node of a cluster) enforces it within seconds, as if an
// admin had banned over the protocol. Run on SQLite, PostgreSQL and a three-node cluster.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { until } from '../../test-kit/src/until.js';
import { parseAdminArgs, runAdmin } from '../src/admin.js';
import type { HushdConfig } from '../src/config.js';
import { deviceId } from '@hush/crypto';
import { toBase64Url } from '@hush/protocol';
import { RawClient, registered } from '../src/raw-client.js';
import { rawServer } from './helpers/raw-server.js';
import { testServer } from './helpers/store-under-test.js';

const fixture = rawServer({});
const { user, newDevice } = fixture;

/** `hushd <argv>` against the store of `config`, as the command line runs it; its output lines. */
async function hushd(config: HushdConfig, argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const { command } = parseAdminArgs(argv);
  const code = await runAdmin(command, config, {
    out: (line) => out.push(line),
    err: (line) => err.push(line),
    readPassword: () => Promise.reject(new Error('no password here')),
  });
  return { code, out, err };
}

const event = (room: string, kind: string, who: string) => (m: { type: string; room?: string; event?: string; user?: string }) =>
  m.type === 'room_event' && m.room === room && m.event === kind && m.user === who;

const cleanup: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const step of cleanup.reverse()) await step();
});

describe('hushd ban and unban beside a running server', () => {
  it('closes the account at once, takes it out of every room with ban events, and brings it back on unban', async () => {
    const watcher = await user('watcher');
    const spammer = await user('spammer');
    // Taken now: the join after the unban below must be a new one (next() also takes messages already received).
    expect(await watcher.next(event('lobby', 'join', 'spammer'))).toBeTruthy();
    await watcher.expect({ type: 'room_create', room: 'side' }, 'ok');
    await spammer.expect({ type: 'room_join', room: 'side' }, 'ok');
    expect(await watcher.next(event('side', 'join', 'spammer'))).toBeTruthy();

    const ban = await hushd(fixture.server.config, ['ban', 'spammer', '--reason', 'flooding']);
    expect(ban.code).toBe(0);
    expect(ban.out).toEqual(['banned spammer forever']);
    expect(ban.err.join('\n')).toContain('a running hushd closes');

    // The goodbye carries the reason; the rooms hear the ban, without an "by" (no account gave it).
    expect(await spammer.next('goodbye')).toMatchObject({ code: 'BANNED', message: 'flooding' });
    for (const room of ['lobby', 'side']) {
      const seen = await watcher.next(event(room, 'ban', 'spammer'));
      expect(seen).toMatchObject({ reason: 'flooding' });
      expect(seen).not.toHaveProperty('by');
    }
    expect(await fixture.server.db.getMember('side', 'spammer')).toBeUndefined();
    expect(await fixture.server.db.getMember('lobby', 'spammer')).toBeUndefined();
    const retry = fixture.track(await RawClient.connect(fixture.server.port));
    retry.device = spammer.device;
    expect(await retry.request(retry.deviceLoginRequest('spammer'))).toMatchObject({ code: 'BANNED' });

    const unban = await hushd(fixture.server.config, ['unban', 'spammer']);
    expect(unban.code).toBe(0);
    // Back in the default room without logging in: the members see the join at once.
    expect(await watcher.next(event('lobby', 'join', 'spammer'))).toBeTruthy();
    const welcome = await retry.expect(retry.deviceLoginRequest('spammer'), 'welcome');
    expect(welcome.rooms.map((r) => r.room)).toEqual(['lobby']);
  });

  it("hushd user role reaches the account's live sessions: a demoted admin loses the admin's powers at once", async () => {
    const boss = await user('boss');
    const target = await user('target');
    /**
     * Whether boss acts as an admin now: an unban of nobody is NOT_FOUND for an admin, FORBIDDEN for
     * others. Asked every 0.6 s, since each FORBIDDEN counts against the connection's error budget.
     */
    const actsAsAdmin = async (wanted: boolean) => {
      for (let tries = 0; tries < 30; tries++) {
        const answer = await boss.request({ type: 'unban', user: 'nobody-at-all' });
        if ((answer.type === 'error' && answer.code === 'NOT_FOUND') === wanted) return;
        await new Promise((resolve) => setTimeout(resolve, 600));
      }
      throw new Error(`boss never became ${wanted ? 'an admin' : 'a user'}`);
    };
    expect((await hushd(fixture.server.config, ['user', 'role', 'boss', 'admin'])).code).toBe(0);
    // Promoted without logging in again.
    await actsAsAdmin(true);
    await boss.expect({ type: 'ban', user: 'target', seconds: 60 }, 'ok');
    expect(await target.next('goodbye')).toMatchObject({ code: 'BANNED' });

    const demoted = await hushd(fixture.server.config, ['user', 'role', 'boss', 'user']);
    expect(demoted.err.join('\n')).toContain("applies this to boss's connections within seconds");
    await actsAsAdmin(false);
    expect(await boss.request({ type: 'unban', user: 'target' })).toMatchObject({ code: 'FORBIDDEN' });
    expect(boss.isClosed).toBe(false);
  });

  it('hushd user remove-device: the device loses its connection and its login, contacts and own devices are told', async () => {
    const desk = await user('owner');
    const laptop = await newDevice('owner');
    const friend = await user('friend'); // shares the default room with owner

    const listed = await hushd(fixture.server.config, ['user', 'devices', 'owner']);
    const ids = listed.out.slice(1).map((row) => row.split('\t')[0]);
    expect(ids.sort()).toEqual([deviceId(desk.device.signPublicKey), deviceId(laptop.device.signPublicKey)].sort());
    expect((await hushd(fixture.server.config, ['user', 'remove-device', 'owner', 'nosuchdevice'])).code).toBe(1);

    const removed = await hushd(fixture.server.config, ['user', 'remove-device', 'owner', deviceId(laptop.device.signPublicKey)]);
    expect(removed).toMatchObject({ code: 0, out: ['removed a device of owner'] });
    expect(await laptop.next('goodbye')).toMatchObject({ code: 'DEVICE_UNKNOWN', message: 'this device was removed from the account' });
    // The contact and the account's remaining device learn the key set of one device.
    for (const c of [friend, desk]) {
      const change = await c.next((m) => m.type === 'key_change' && m.user === 'owner' && m.devices.length === 1);
      expect(change).toMatchObject({ devices: [{ signKey: toBase64Url(desk.device.signPublicKey) }] });
    }
    expect(desk.isClosed).toBe(false);
    const again = fixture.track(await RawClient.connect(fixture.server.port));
    again.device = laptop.device;
    expect(await again.request(again.deviceLoginRequest('owner'))).toMatchObject({ code: 'DEVICE_UNKNOWN' });
  });

  it('enforces at the next start what was given while no server ran, unless lifted again', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'hushd-admin-'));
    cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const first = await testServer({ dataDir, openRooms: ['lobby'] });
    for (const [name, room] of [
      ['mallory', 'lair'],
      ['forgiven', 'den'],
    ]) {
      const c = await registered(first.port, name!);
      await c.expect({ type: 'room_create', room: room! }, 'ok');
      await c.close();
    }
    const config = first.config;
    await first.stop();

    expect((await hushd(config, ['ban', 'mallory'])).code).toBe(0);
    expect((await hushd(config, ['ban', 'forgiven', '--seconds', '600'])).code).toBe(0);
    expect((await hushd(config, ['unban', 'forgiven'])).code).toBe(0);
    const second = await testServer({ dataDir, openRooms: ['lobby'] });
    cleanup.push(() => second.stop());
    // Out of one room after the other: both, in whichever order.
    await until(
      async () =>
        (await second.db.getMember('lair', 'mallory')) === undefined && (await second.db.getMember('lobby', 'mallory')) === undefined,
      'the ban took mallory out of #lair and #lobby',
    );
    // The requests are taken in order: by the time mallory's ban is enforced, forgiven's ban and
    // unban have been taken too, and the lifted ban changed nothing.
    await until(async () => (await second.db.getUser('forgiven'))?.bannedUntil === null, "forgiven's ended ban is cleared");
    expect(await second.db.getMember('den', 'forgiven')).toMatchObject({ role: 'owner' });
    expect(await second.db.getMember('lobby', 'forgiven')).toBeTruthy();
  });
});
