// End-to-end rooms in a real `hush` (tmux) beside a bot on the SDK, against a real hushd: the
// status bar and the conversation list show the lock for the e2e room, and the status bar says an open lobby
// (openRooms) is readable by the server;
// messages go both ways sealed, and the server keeps no text of them.
import { describe, expect, it } from 'vitest';
import { PASSWORD, TuiBed } from './helpers/tui-bed.js';

const bed = TuiBed.install({ openRooms: ['lobby'] });

describe('hush in tmux: end-to-end rooms', () => {
  it("shows the lock, reads a bot's sealed message and sends one the bot reads; the server stores neither text", async () => {
    const bot = await bed.sdkClient('vault-bot');
    await bot.register('vault-bot', PASSWORD);
    await bot.createRoom('vault', 'sealed talk', 'e2e');
    const heard: string[] = [];
    bot.on('message', (m) => {
      if (m.kind === 'room' && m.room === 'vault' && !m.mine) heard.push(m.text);
    });

    const alice = await bed.loggedIn('alice');
    expect(alice.capture()).toContain('room messages: encrypted in transit, readable by the server');
    alice.type('/join #vault');
    alice.keys('Enter');
    await alice.waitFor((s) => s.includes('🔒 end-to-end encrypted room'), 'the lock in the status bar');
    const screen = alice.capture();
    expect(screen).not.toContain('readable by the server');
    // the conversation list marks the e2e room, and only it, at all times
    expect(screen).toMatch(/\d\.#vault *🔒/);
    expect(screen).toMatch(/\d\.#lobby /);
    expect(screen).not.toMatch(/\d\.#lobby *🔒/);

    await bot.send('vault', 'sealed hello from the bot');
    await alice.waitFor('<vault-bot> sealed hello from the bot');
    alice.type('sealed reply from alice');
    alice.keys('Enter');
    const deadline = Date.now() + 20_000;
    while (!heard.includes('sealed reply from alice')) {
      if (Date.now() > deadline) throw new Error(`the bot did not read alice's message: ${JSON.stringify(heard)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const stored = JSON.stringify(bed.server.store.history({ room: 'vault' }, { limit: 100 }));
    expect(stored).not.toContain('sealed hello');
    expect(stored).not.toContain('sealed reply');
    alice.keys('C-c');
    expect(await alice.exitCode()).toBe(0);
  });
});
