// A device belongs to the server's key and to one hush at a time, driven as people do it: a second
// hush for the same account on the same computer is refused in words while the first goes on; a
// server moved to another port (as docs/cluster.md moves one to a cluster) is the same server to
// hush: the trust prompt says so, the earlier conversation is there, and the account has one device.
import { startTestServer } from '@hush/server/testing';
import { describe, expect, it } from 'vitest';
import { TuiBed } from './helpers/tui-bed.js';

const bed = TuiBed.install();
/** The screen as one line of words (rows, borders and wraps folded into spaces). */
const flat = (screen: string): string => screen.replace(/[\s│┆]+/g, ' ');
/** flat, and the login form's box sides (drawn as x) folded away too. */
const unboxed = (screen: string): string => flat(screen).replace(/( x)+ /g, ' ');

describe('hush in tmux: one device per account and computer, kept when the server moves', () => {
  it('a second hush for the same account on the same computer is refused in words; the first goes on', async () => {
    const { alice, bob } = await bed.aliceAndBob();
    const args = ['--host', `127.0.0.1:${bed.server.port}`, '--user', 'alice', '--login', '--fingerprint', bed.server.fingerprint];
    const second = bed.start(args, { home: alice.home });
    const refused = await second.waitFor(
      (s) => flat(s).includes('use the window where it runs, or quit it first'),
      'the second hush refused',
    );
    expect(unboxed(refused)).toMatch(
      /a hush client is already running for alice on this computer \(pid \d+\); if none is, delete \/\S+ \S*alice\.lock/,
    );
    expect(refused).not.toContain(' connected ');

    await alice.typeLine('/msg bob still one window');
    await bob.typeLine('/query alice');
    await bob.waitFor('still one window');
    await bob.typeLine('/msg alice and it reads');
    await alice.typeLine('/query bob');
    await alice.waitFor('and it reads');
    await bob.typeLine('/devices alice');
    await bob.waitFor('devices of alice (1)');
  }, 90_000);

  it('after hushd moves to another port, hush there is the same device: the earlier conversation, one device', async () => {
    const { alice, bob } = await bed.aliceAndBob();
    await alice.typeLine('/msg bob said before the move');
    await bob.typeLine('/query alice');
    await bob.waitFor('said before the move');
    const oldPort = bed.server.port;
    for (const tui of [alice, bob]) {
      tui.keys('C-c');
      expect(await tui.exitCode()).toBe(0);
    }
    await bed.stopServer();

    const moved = await startTestServer({ dataDir: bed.dataDir, registration: 'open' });
    try {
      expect(moved.port).not.toBe(oldPort);
      expect(moved.fingerprint).toBe(bed.server.fingerprint);
      // No --fingerprint: the new address is a first contact, and the prompt says whose key it is.
      const again = bed.start(['--host', `127.0.0.1:${moved.port}`, '--user', 'bob', '--login'], { home: bob.home });
      const prompt = await again.waitFor((s) => s.includes('Trust this server') && s.includes('[y] yes'), 'the trust prompt');
      expect(flat(prompt)).toContain(`It shows the key of 127.0.0.1:${oldPort}: the same server at a new address.`);
      // Read at a person's pace: longer than the server waits for a handshake to finish (10 s by default).
      await new Promise((resolve) => setTimeout(resolve, 11_000));
      again.keys('y');
      await again.waitFor((s) => s.includes('@alice') && / connected /.test(s), 'bob on the chat screen with @alice listed');
      await again.typeLine('/query alice');
      await again.waitFor('said before the move', 'the earlier conversation');
      await again.typeLine('/devices');
      const devices = await again.waitFor('your devices (1)', 'one device');
      expect(devices).not.toContain('your devices (2)');
      expect(await moved.db.listDevices('bob')).toHaveLength(1);
    } finally {
      await moved.stop();
    }
  }, 120_000);
});
