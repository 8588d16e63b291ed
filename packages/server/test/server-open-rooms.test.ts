// Every room is end-to-end encrypted unless the admin lists it in openRooms: the default room, a
// room created without a kind, and the rooms hushd makes at start. A room never drops to open.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../src/config.js';
import { ConfigError } from '../src/errors.js';
import { registered } from '../src/raw-client.js';
import { startTestServer, type TestServer } from '../src/testing.js';

const dirs: string[] = [];
const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'hush-open-rooms-'));
  dirs.push(dir);
  return dir;
}

async function started(overrides: Parameters<typeof startTestServer>[0]): Promise<TestServer> {
  const server = await startTestServer(overrides);
  servers.push(server);
  return server;
}

describe('room defaults', () => {
  it('makes the default room and a room created without a kind end-to-end encrypted', async () => {
    const server = await started({});
    expect(server.store.getRoom('lobby')!.kind).toBe('e2e');
    const ada = await registered(server.port, 'def-ada');
    try {
      await ada.expect({ type: 'room_create', room: 'plain-create' }, 'ok');
      expect(server.store.getRoom('plain-create')!.kind).toBe('e2e');
      const list = await ada.request({ type: 'room_list' });
      expect(list.type === 'rooms' && list.rooms.map((r) => [r.room, r.kind])).toEqual([
        ['lobby', 'e2e'],
        ['plain-create', 'e2e'],
      ]);
      const refused = await ada.request({ type: 'send', room: 'lobby', text: 'in the clear' });
      expect(refused).toMatchObject({ type: 'error', code: 'BAD_REQUEST', message: expect.stringContaining('end-to-end encrypted') });
    } finally {
      await ada.close();
    }
  });

  it('creates the rooms listed in openRooms open, the default room among them when listed', async () => {
    const server = await started({ openRooms: ['lobby', 'announcements'] });
    expect(server.store.getRoom('lobby')!.kind).toBe('open');
    expect(server.store.getRoom('announcements')).toMatchObject({ kind: 'open', createdBy: null });
    const bo = await registered(server.port, 'def-bo');
    try {
      await bo.expect({ type: 'room_join', room: 'announcements' }, 'ok');
      expect(await bo.request({ type: 'send', room: 'announcements', text: 'readable by design' })).toMatchObject({ type: 'ack' });
    } finally {
      await bo.close();
    }
  });

  it('keeps an existing room as it is, and refuses to start when an encrypted room is listed as open', async () => {
    const dataDir = tempDir();
    const first = await started({ dataDir, openRooms: ['town'] });
    await first.stop();
    // Taken off the list: the open room stays open (it was made so on purpose), lobby stays e2e.
    const second = await started({ dataDir });
    expect(second.store.getRoom('town')!.kind).toBe('open');
    expect(second.store.getRoom('lobby')!.kind).toBe('e2e');
    await second.stop();
    const refused = startTestServer({ dataDir, openRooms: ['town', 'lobby'] });
    await expect(refused).rejects.toBeInstanceOf(ConfigError);
    await expect(refused).rejects.toThrow(
      'room #lobby is listed in openRooms but is end-to-end encrypted: a room never drops from encrypted to open',
    );
  });

  it('reads openRooms from flags, the environment and the config file, and refuses a bad name', () => {
    const dir = tempDir();
    const resolveIn = (argv: string[], env: NodeJS.ProcessEnv = {}) => resolveConfig({ argv: ['--data-dir', dir, ...argv], env });
    expect(resolveIn([]).openRooms).toEqual([]);
    expect(resolveIn(['--open-rooms', 'announcements,help,help']).openRooms).toEqual(['announcements', 'help']);
    expect(resolveIn([], { HUSH_OPEN_ROOMS: 'news' }).openRooms).toEqual(['news']);
    writeFileSync(join(dir, 'hushd.json'), JSON.stringify({ openRooms: ['lobby'] }));
    expect(resolveIn([]).openRooms).toEqual(['lobby']);
    writeFileSync(join(dir, 'hushd.json'), JSON.stringify({ openRooms: ['Bad Name'] }));
    expect(() => resolveIn([])).toThrow(/openRooms: expected a room name/);
    expect(() => resolveIn(['--open-rooms', 'ok,#no'])).toThrow(/--open-rooms: expected a room name/);
  });
});
