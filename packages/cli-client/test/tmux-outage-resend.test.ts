// Real `hush` processes in tmux against a hushd on PostgreSQL whose database goes away: what alice
// types meanwhile (a DM here; room lines go the same way, see the SDK's outage-resend test) stays
// `(sending…)`, is never refused, and goes out by itself once the database is back, and she is told
// so once each way; bob gets each once, with no "missing" warning.
import { existsSync } from 'node:fs';
import { startTestServer, type TestServer } from '@hush/server/testing';
import { HUSH_CLI, HushTui, startPostgres, type TestPostgres } from '@hush/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const PASSWORD = 'correct horse battery';

let pg: TestPostgres;
let server: TestServer;
const tuis: HushTui[] = [];
beforeAll(async () => {
  if (!existsSync(HUSH_CLI)) throw new Error(`${HUSH_CLI} is missing: run \`pnpm build\` in packages/cli-client first`);
  pg = await startPostgres();
  server = await startTestServer({ store: await pg.createDatabase(), registration: 'open' });
}, 60_000);
afterAll(async () => {
  for (const t of tuis) t.kill();
  await server?.stop();
  await pg?.stop();
});

async function loggedIn(user: string): Promise<HushTui> {
  const tui = HushTui.start({
    args: ['--host', `127.0.0.1:${server.port}`, '--user', user, '--register', '--login', '--fingerprint', server.fingerprint],
    env: { HUSH_PASSWORD: PASSWORD },
  });
  tuis.push(tui);
  await tui.waitFor((screen) => screen.includes('#lobby') && / connected /.test(screen), `${user} on the chat screen`);
  return tui;
}

describe('hush in tmux: a database outage on the server', () => {
  it('lines typed meanwhile stay (sending…) and go out by themselves once it is back', async () => {
    const alice = await loggedIn('alice');
    const bob = await loggedIn('bob');
    await alice.waitFor('bob joined #lobby');
    await alice.typeLine('room line before');
    await bob.waitFor('<alice> room line before');
    await alice.typeLine('/query bob');
    await alice.typeLine('dm before');
    await alice.waitFor((x) => x.includes('dm before') && !x.includes('(sending…)'), 'the first DM acknowledged');

    await pg.halt();
    await alice.typeLine('dm during the outage');
    await alice.waitFor('(sending…)');
    // Refused for now, more than once; said once, in front of her.
    await alice.waitFor('the server cannot store messages right now');
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const during = alice.capture();
    expect(during).toContain('(sending…)');
    expect(during.split('the server cannot store messages')).toHaveLength(2);
    expect(during).not.toContain('not sent');

    await pg.start();
    await alice.waitFor((x) => x.includes('dm during the outage') && !x.includes('(sending…)'), 'the DM acknowledged', 30_000);
    await alice.waitFor('the server stores messages again');
    expect(alice.capture()).not.toContain('not sent');
    await bob.typeLine('/query alice');
    const screen = await bob.waitFor('<alice> dm during the outage');
    expect(screen).not.toContain('missing');
    expect(screen.split('<alice> dm during the outage')).toHaveLength(2);
  }, 120_000);
});
