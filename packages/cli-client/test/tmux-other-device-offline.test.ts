// One account on two devices, driven through real `hush` processes in tmux against a real hushd: the
// laptop's connection is cut (a relay between it and the server drops it and refuses it), or its
// hush is not running, while the phone creates and joins end-to-end rooms and leaves another. Once
// back, the laptop follows without a restart: the rooms joined are listed with their lock, show what
// was said there meanwhile (bob's key reached the laptop while it was away) and take a sealed line;
// the room left is gone and says so.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CutProxy, type HushTui } from '@hush/test-kit';
import { describe, expect, it } from 'vitest';
import { PASSWORD, TuiBed } from './helpers/tui-bed.js';

const bed = TuiBed.install();
const WHILE_AWAY = 'said while the laptop was away';

/** The chat list's rows (left panel) of a screen. */
function chatList(screen: string): string[] {
  return screen.split('\n').flatMap((row) => /^.(\d+\.[^x│]*)/.exec(row)?.[1]?.trim() ?? []);
}

describe('hush in tmux: one account on two devices, one of them cut off', () => {
  it('a room joined and one left on the other device while the connection was lost are followed once it is back', async () => {
    const proxy = await CutProxy.start({ host: '127.0.0.1', port: bed.server.port });
    try {
      const { phone, bob } = await phoneAndBob();
      // alice's laptop reaches the server only through the relay.
      const laptop = await aliceLaptop({ port: proxy.port });
      await laptop.waitFor((s) => chatList(s).some((row) => /#old\s*🔒/.test(row)), '#old on the laptop');

      proxy.cut();
      await laptop.waitFor(/connection lost; reconnecting/);
      await phone.typeLine('/join #fresh');
      await phone.waitFor('#fresh did not exist: you created it');
      await movesWhileAway(phone, bob);
      expect(chatList(laptop.capture()).some((row) => /#emo|#fresh/.test(row))).toBe(false);

      proxy.heal();
      await laptop.waitFor('reconnected', 'the laptop reconnected', 40_000);
      await laptop.waitFor(
        (s) => chatList(s).some((row) => /#emo\s*🔒/.test(row)) && chatList(s).some((row) => /#fresh\s*🔒/.test(row)),
        '#emo and #fresh with their lock on the laptop',
      );
      await laptop.waitFor((s) => !chatList(s).some((row) => row.includes('#old')), '#old gone from the laptop');
      // The server keeps no reason for a room gone meanwhile: a kick reads the same, so both are named.
      await laptop.waitFor('you are no longer in #old: you left it on another device');
      expect(laptop.capture()).toContain('operators removed you while you were away');

      await laptop.typeLine('/join #fresh'); // open already: switches to it
      await laptop.waitFor('you joined #fresh on another device');
      await readsAndPostsInEmo(laptop, bob);
    } finally {
      await proxy.close();
    }
  }, 120_000);

  it('a room joined and one left on the other device while hush was not running are as the server has them at its next start', async () => {
    const home = mkdtempSync(join(tmpdir(), 'hush-offline-laptop-'));
    let laptop: HushTui | undefined;
    try {
      const { phone, bob } = await phoneAndBob();
      const first = await aliceLaptop({ home });
      await first.waitFor((s) => chatList(s).some((row) => /#old\s*🔒/.test(row)), '#old on the laptop');
      first.keys('C-c');
      expect(await first.exitCode()).toBe(0);
      first.kill();

      await movesWhileAway(phone, bob);
      laptop = await aliceLaptop({ home });
      await laptop.waitFor((s) => chatList(s).some((row) => /#emo\s*🔒/.test(row)), '#emo with its lock on the laptop');
      expect(chatList(laptop.capture()).some((row) => row.includes('#old'))).toBe(false);
      await readsAndPostsInEmo(laptop, bob);
    } finally {
      // A running hush still writes into its home: it quits (and has quit) before the home goes.
      if (laptop) {
        laptop.keys('C-c');
        await laptop.exitCode().catch(() => undefined);
        laptop.kill();
      }
      rmSync(home, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    }
  }, 120_000);
});

type Sdk = Awaited<ReturnType<TuiBed['sdkClient']>>;

/** alice's phone (registered, in #old, a room it created) and bob (an SDK client) who made #emo. */
async function phoneAndBob(): Promise<{ phone: HushTui; bob: Sdk }> {
  const phone = await bed.loggedIn('alice');
  const bob = await bed.sdkClient('bob');
  await bob.register('bob', PASSWORD);
  await bob.createRoom('emo');
  await phone.typeLine('/join #old');
  await phone.waitFor('#old did not exist: you created it');
  return { phone, bob };
}

/** While the laptop is away: the phone joins #emo and leaves #old, and bob speaks in #emo. */
async function movesWhileAway(phone: HushTui, bob: Sdk): Promise<void> {
  await phone.typeLine('/join #emo');
  await phone.waitFor('#emo is end-to-end encrypted');
  await phone.typeLine('/part #old');
  await phone.waitFor('[y] yes'); // its owner: asked first
  phone.keys('y');
  await phone.waitFor((s) => !chatList(s).some((row) => row.includes('#old')), '#old gone from the phone');
  await bob.send('emo', WHILE_AWAY);
  await phone.waitFor(`<bob> ${WHILE_AWAY}`);
}

/**
 * alice's laptop (a device of its own, in `home` when given, its password given the first time) on
 * the chat screen, reaching the server at `port` (the server's by default).
 */
async function aliceLaptop(at: { port?: number; home?: string }): Promise<HushTui> {
  const args = ['--host', `127.0.0.1:${at.port ?? bed.server.port}`, '--user', 'alice', '--login', '--fingerprint', bed.server.fingerprint];
  const tui = bed.start(args, { home: at.home });
  await tui.waitFor((s) => s.includes('#lobby') && / connected /.test(s), "alice's laptop on the chat screen");
  return tui;
}

/** In #emo the laptop shows what bob said while it was away, sealed, and its own line reaches him sealed. */
async function readsAndPostsInEmo(laptop: HushTui, bob: Sdk): Promise<void> {
  await laptop.typeLine('/join #emo'); // open already: switches to it
  const emo = await laptop.waitFor(`<bob> ${WHILE_AWAY}`);
  expect(emo).toContain('🔒 end-to-end encrypted room');
  const heard = new Promise<string>((resolve) => bob.on('message', (m) => m.from === 'alice' && resolve(m.text)));
  await laptop.typeLine('sealed line from the laptop');
  expect(await heard).toBe('sealed line from the laptop');
  expect(laptop.capture()).not.toContain('not sent');
  const stored = JSON.stringify(bed.server.store.history({ room: 'emo' }, { limit: 100 }).messages);
  expect(stored).not.toContain('sealed line from the laptop');
  expect(stored).not.toContain(WHILE_AWAY);
}
