// Commands given wrongly are answered in words that say what would work: /goto past the results of
// the last search, /help of no command.
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningApp } from '../src/app.js';
import { launchApp } from './helpers/fake-app.js';

let app: RunningApp | null = null;
afterEach(async () => {
  app?.quit();
  await app?.exited;
  app = null;
});

async function inLobby() {
  const t = launchApp({ password: 'pw', autoLogin: true });
  app = t.app;
  await t.shows('#lobby');
  return t;
}

describe('commands given wrongly', () => {
  it('/goto says how many results the last search found, or that there was none', async () => {
    const t = await inLobby();
    t.type('/goto 9\r');
    await t.shows('no search yet: /search words first');
    const message = {
      kind: 'room' as const,
      id: 'm1',
      ts: Date.now(),
      from: 'bob',
      room: 'lobby',
      text: 'cats',
      action: false,
      mine: false,
    };
    t.session.searchResults = [1, 2, 3, 4].map((i) => ({ target: { room: 'lobby' }, message: { ...message, id: `m${i}` } }));
    t.type('/search cats\r');
    await t.shows('4 found');
    t.type('/goto 9\r');
    await t.shows('no search result 9: the last search found 4 (/goto 1 to 4)');
  });

  it('/help of no command is an error that points to /help', async () => {
    const t = await inLobby();
    t.type('/help nosuch\r');
    await t.shows('no such command: /nosuch (/help lists commands)');
    expect(t.text()).toMatch(/!!! no such command/);
    t.type('/help mgs\r');
    await t.shows('no such command: /mgs — did you mean /msg?');
  });
});
