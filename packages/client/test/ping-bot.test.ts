import { readFile } from 'node:fs/promises';
import { startTestServer, type TestServer } from '@hush/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HushClient } from '../src/client.js';
import { Fixture, nextEvent } from './helpers.js';

describe('README bot example', () => {
  let server: TestServer;
  const fx = new Fixture();
  beforeAll(async () => {
    server = await startTestServer();
  });
  const savedEnv = { ...process.env };
  afterAll(async () => {
    process.env = savedEnv;
    await fx.cleanup();
    await server.stop();
  });

  it('the README shows exactly examples/ping-bot.ts', async () => {
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    const example = await readFile(new URL('../examples/ping-bot.ts', import.meta.url), 'utf8');
    const block = /```ts\n(import \{ HushClient \}[\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toBe(example);
  });

  it('runs against a real server and answers !ping with pong', async () => {
    const admin = await fx.user(server, 'human');
    const reg = await fx.connect(server);
    await reg.register('pingbot', 'bot-password-123');
    await reg.close();

    const home = await fx.dir();
    // defaultPaths() must land in the temp dir on every platform (XDG on Linux, HOME on macOS, APPDATA on Windows).
    Object.assign(process.env, {
      XDG_CONFIG_HOME: `${home}/config`, XDG_DATA_HOME: `${home}/data`, HOME: home, APPDATA: home, LOCALAPPDATA: home,
      HUSH_HOST: server.host, HUSH_PORT: String(server.port), HUSH_FINGERPRINT: server.fingerprint,
      HUSH_USER: 'pingbot', HUSH_PASSWORD: 'bot-password-123',
    });
    const { bot } = (await import('../examples/ping-bot.js')) as { bot: HushClient };
    fx.track(bot);
    expect(bot.user).toBe('pingbot');
    const pong = nextEvent(admin, 'message', (m) => m.from === 'pingbot');
    const own = nextEvent(bot, 'message', (m) => m.mine && m.text === 'pong');
    await admin.send('lobby', '!ping');
    expect((await pong)[0]).toMatchObject({ room: 'lobby', text: 'pong' });
    // The bot sees its own pong once, as the echo that comes with its ack: its send has settled
    // before the cleanup closes it.
    expect((await own)[0]).toMatchObject({ from: 'pingbot', mine: true });
  });
});
