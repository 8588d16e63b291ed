// A member removed from an end-to-end room (kicked, banned, or gone of its own accord) reads
// nothing said there afterwards, even when the server turns hostile and feeds its device
// everything: a real server runs the room and removes carol; alice and bob speak on, under fresh
// keys handed to each other in DMs. Then the server's key and port go to an evil server, which
// carol's device (its pin, device sessions and old room keys all intact) reconnects to: it is told
// it is still in the room and is given every room message sent after the removal (live, and again
// as its history) and every DM carrying a fresh sender key, readdressed to it. It opens none, keeps running, and says what it
// could not open.
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { HushClient } from '@hush/client';
import { ServerIdentity } from '@hush/crypto';
import { startTestServer, type TestServer } from '@hush/server';
import { e2eRoom } from '@hush/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import { EvilServer } from './helpers-app/evil-server.js';
import { AppFixture, collect, nextEvent } from './helpers-app/fixture.js';

const CANARY = 'e2e-removal-canary-7d3e';
const execFileP = promisify(execFile);
/** The `hushd` command line, the built one a server operator runs. */
const HUSHD = join(dirname(createRequire(import.meta.url).resolve('@hush/server/package.json')), 'dist', 'cli.js');
/** How long carol's device is given to say it could not open the room messages (generous: a loaded machine). */
const SAID_WITHIN = 40_000;

const fx = new AppFixture();
let evil: EvilServer | undefined;

afterEach(async () => {
  await fx.cleanup();
  await evil?.close();
  evil = undefined;
});

type Removal = 'kick' | 'ban' | 'hushd ban' | 'leave';

/**
 * How each removal is done: by alice (the room's owner and a server admin), by the server's
 * operator running `hushd ban` beside the server, or by carol herself.
 */
const remove: Record<Removal, (alice: HushClient, carol: HushClient, s: TestServer) => Promise<void>> = {
  kick: (alice) => alice.kick('vault', 'carol', 'bye'),
  ban: (alice) => alice.ban({ user: 'carol', reason: 'spam' }),
  'hushd ban': async (_alice, _carol, s) => {
    await execFileP(process.execPath, [HUSHD, 'ban', 'carol', '--reason', 'spam', '--data-dir', s.dataDir]);
  },
  leave: (_alice, carol) => carol.partRoom('vault'),
};
const eventOf: Record<Removal, string> = { kick: 'kick', ban: 'ban', 'hushd ban': 'ban', leave: 'part' };

describe('malicious server: a member removed from an end-to-end room', () => {
  it.each(['kick', 'ban', 'hushd ban', 'leave'] as const)(
    'after a %s, carol opens nothing sent afterwards though the server feeds her every ciphertext and key DM',
    async (how) => {
      const s = fx.stopAfter(await startTestServer({ limits: { messagesPerSecond: 10_000, messageBurst: 10_000 } }));
      const alice = await fx.admin(s, 'alice');
      const bob = await fx.user(s, 'bob');
      const carolPaths = await fx.paths();
      const carol = await fx.user(s, 'carol', { paths: carolPaths });
      await e2eRoom('vault', alice, bob, carol);
      // carol holds alice's and bob's sender keys of the room.
      const heard = Promise.all([
        nextEvent(carol, 'message', (m) => m.text === 'alice before'),
        nextEvent(carol, 'message', (m) => m.text === 'bob before'),
      ]);
      await alice.send('vault', 'alice before');
      await bob.send('vault', 'bob before');
      await heard;

      const removed = [alice, bob].map((c) =>
        nextEvent(c, 'roomEvent', (e) => e.room === 'vault' && e.user === 'carol' && e.event === eventOf[how]),
      );
      await remove[how](alice, carol, s);
      await Promise.all(removed);
      await carol.close().catch(() => undefined); // a ban has closed it already
      expect(s.store.getMember('vault', 'carol')).toBeUndefined();
      const before = new Set(everything(s).map((m) => m.id));

      // alice and bob speak on; each reads the other.
      const atAlice = nextEvent(alice, 'message', (m) => m.text === `${CANARY} bob 2`);
      const atBob = nextEvent(bob, 'message', (m) => m.text === `${CANARY} alice 2`);
      for (const n of [1, 2]) {
        await alice.send('vault', `${CANARY} alice ${n}`);
        await bob.send('vault', `${CANARY} bob ${n}`);
      }
      await Promise.all([atAlice, atBob]);
      const after = everything(s).filter((m) => !before.has(m.id));
      const roomMessages = after.filter((m) => m.kind === 'room');
      const keyDms = after.filter((m) => m.kind === 'dm');
      expect(roomMessages).toHaveLength(4);
      // Each remaining member handed its fresh key to the other.
      expect(keyDms.map((m) => m.kind === 'dm' && `${m.from}>${m.to}`).sort()).toEqual(['alice>bob', 'bob>alice']);

      // The server turns hostile: its key and port go to the evil server, which says carol is still a member.
      const identity = ServerIdentity.fromSecret(
        new Uint8Array(Buffer.from(readFileSync(join(s.dataDir, 'identity.key'), 'utf8').trim(), 'base64url')),
      );
      const port = s.port;
      await s.stop();
      const servers = join(carolPaths.dataDir, 'servers');
      const [home] = readdirSync(servers); // the one server (its key) carol's device knows
      // carol's device still holds alice's and bob's earlier keys of the room: they must not open what follows.
      const held = JSON.parse(readFileSync(join(servers, home!, 'state', 'carol.roomkeys.json'), 'utf8')) as {
        rooms: Record<string, { inbound: Record<string, string[]> }>;
      };
      expect(
        Object.keys(held.rooms['vault']?.inbound ?? {})
          .map((k) => k.split('/')[0])
          .sort(),
      ).toEqual(['alice', 'bob']);
      evil = await EvilServer.start({ identity, port });
      evil.rooms.push({ room: 'vault', topic: '', kind: 'e2e', members: 3, joined: true, role: 'member' });
      const back = await fx.connect(evil, { paths: carolPaths });
      await back.login('carol');
      expect(back.rooms.get('vault')?.kind).toBe('e2e');
      const messages = collect(back, 'message');
      const notices = collect(back, 'notice');
      const dmWarnings = collect(back, 'dmWarning');
      const errors = collect(back, 'error');

      for (const m of keyDms)
        if (m.kind === 'dm') evil.deliver('carol', { msgId: m.id, ts: m.ts, from: m.from, to: 'carol', envelope: m.envelope });
      const sealed = roomMessages.flatMap((m) =>
        m.kind === 'room'
          ? [
              {
                type: 'message' as const,
                room: 'vault',
                msgId: m.id,
                ts: m.ts,
                from: m.from,
                text: '',
                action: false,
                envelope: m.envelope!,
              },
            ]
          : [],
      );
      for (const m of sealed) evil.connectionOf('carol').send(m);
      // (or until she shows something: then the expectations below say what she read)
      await until(
        () =>
          messages.length > 0 || (dmWarnings.length === keyDms.length && notices.filter((n) => n.code === 'E2E_ROOM_MESSAGE').length === 2),
      );

      expect(messages).toEqual([]);
      expect(dmWarnings).toEqual(keyDms.map((m) => ({ user: m.kind === 'dm' ? m.from : '', kind: 'undecryptable' })));
      expect(
        notices
          .filter((n) => n.code === 'E2E_ROOM_MESSAGE')
          .map((n) => n.text)
          .sort(),
      ).toEqual([
        expect.stringMatching(/^#vault, from alice: 2 messages could not be opened/),
        expect.stringMatching(/^#vault, from bob: 2 messages could not be opened/),
      ]);
      expect(errors).toEqual([]);
      // Still running: it asks for the room's history and is answered with the same ciphertexts, which open no better.
      evil.roomHistory.set('vault', sealed);
      expect((await back.history({ room: 'vault' })).messages).toEqual([]);
      expect(JSON.stringify([messages, notices])).not.toContain(CANARY);
    },
    120_000,
  );
});

/** Resolves once `done()` holds; fails after SAID_WITHIN. */
async function until(done: () => boolean): Promise<void> {
  for (const end = Date.now() + SAID_WITHIN; !done(); await new Promise((r) => setTimeout(r, 50)))
    if (Date.now() > end) throw new Error('carol never said what she could not open');
}

type StoredMessage = ReturnType<TestServer['store']['history']>['messages'][number];

/** Every message the server holds in the room and between alice and bob, in order. */
function everything(s: TestServer): StoredMessage[] {
  return [
    ...s.store.history({ room: 'vault' }, { limit: 500 }).messages,
    ...s.store.history({ dm: ['alice', 'bob'] }, { limit: 500 }).messages,
  ];
}
