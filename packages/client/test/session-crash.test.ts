import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startTestServer, type TestServer } from '@hush/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClientPaths } from '../src/paths.js';
import { Fixture } from './helpers.js';

// Crash safety of the session state: two SDK processes write to each other while the test kills
// them (SIGKILL) at random moments and starts them again on the same data directories. Afterwards
// every acknowledged DM has been shown exactly once (under its server id, with its text), no DM
// was shown twice (received or sent), no session broke, and both directions still work.

const CHILD = fileURLToPath(new URL('./helpers/dm-child.mjs', import.meta.url));

interface Run {
  lines: string[];
  done: Promise<void>;
  child: ChildProcess;
}

describe('session state survives kill -9 of the client', () => {
  let server: TestServer;
  const fx = new Fixture();
  beforeAll(async () => {
    server = await startTestServer();
  });
  const children = new Set<ChildProcess>();
  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await fx.cleanup();
    await server.stop();
  });

  function run(paths: ClientPaths, user: string, peer: string, prefix: string, first: number, count: number): Run {
    const child = spawn(
      process.execPath,
      [CHILD, server.host, String(server.port), paths.configDir, paths.dataDir, user, peer, prefix, String(first), String(count)],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    children.add(child);
    const lines: string[] = [];
    let rest = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      const parts = (rest + chunk.toString('utf8')).split('\n');
      rest = parts.pop()!;
      lines.push(...parts);
    });
    const done = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    return { lines, done, child };
  }

  it('messages flow both ways through random kills; every acknowledged one is shown exactly once, no session breaks', async () => {
    const users = { alice: await fx.paths(), bob: await fx.paths() };
    for (const [name, paths] of Object.entries(users)) await (await fx.user(server, `crash-${name}`, { paths })).close();
    const all: Record<'alice' | 'bob', string[]> = { alice: [], bob: [] };
    const next = { alice: 0, bob: 0 };
    const prefix = { alice: 'a', bob: 'b' };
    const peer = { alice: 'crash-bob', bob: 'crash-alice' } as const;
    const start = (name: 'alice' | 'bob', count: number) => run(users[name], `crash-${name}`, peer[name], prefix[name], next[name], count);
    const finish = (name: 'alice' | 'bob', r: Run) => {
      all[name].push(...r.lines);
      // The next run continues after the last acknowledged text (an unacknowledged one may have been stored: its text is not reused).
      next[name] += r.lines.filter((l) => l.startsWith('ACK ')).length + 1;
    };
    for (let round = 0; round < 8; round++) {
      const runs = { alice: start('alice', 40), bob: start('bob', 40) };
      // Killed at a random moment once both are logged in, so a slow start on a loaded machine
      // does not eat the time they have to write.
      await waitFor(() => runs.alice.lines.includes('READY') && runs.bob.lines.includes('READY'));
      await new Promise((resolve) => setTimeout(resolve, 300 + Math.floor(Math.random() * 900)));
      for (const name of ['alice', 'bob'] as const) runs[name].child.kill('SIGKILL');
      await Promise.all([runs.alice.done, runs.bob.done]);
      finish('alice', runs.alice);
      finish('bob', runs.bob);
    }
    // Clean runs to the end: both send a few more and stay until each has shown the other's last one.
    const final = { alice: start('alice', 5), bob: start('bob', 5) };
    const last = { alice: `a${next.alice + 4}`, bob: `b${next.bob + 4}` };
    await waitFor(
      () => final.alice.lines.some((l) => l.endsWith(` ${last.bob}`)) && final.bob.lines.some((l) => l.endsWith(` ${last.alice}`)),
    );
    for (const name of ['alice', 'bob'] as const) final[name].child.kill('SIGKILL');
    await Promise.all([final.alice.done, final.bob.done]);
    all.alice.push(...final.alice.lines);
    all.bob.push(...final.bob.lines);

    for (const [sender, receiver] of [
      ['alice', 'bob'],
      ['bob', 'alice'],
    ] as const) {
      const acked = all[sender].filter((l) => l.startsWith('ACK ')).map((l) => l.split(' ') as [string, string, string]);
      const shown = new Map<string, string[]>();
      for (const l of all[receiver].filter((x) => x.startsWith('SHOWN '))) {
        const [, id, text] = l.split(' ') as [string, string, string];
        shown.set(id, [...(shown.get(id) ?? []), text]);
      }
      expect(acked.length).toBeGreaterThan(20);
      const warned = all[receiver].filter((l) => l.startsWith('WARN ') || l === 'READY').join(',');
      for (const [, text, id] of acked)
        expect(shown.get(id), `${text} (${id}) acknowledged to ${sender}, shown at ${receiver} (${warned})`).toEqual([text]);
      // An unacknowledged DM may have been stored and shown too, but no DM twice, neither received nor sent.
      for (const [id, texts] of shown) expect(texts, `${id} shown at ${receiver}`).toHaveLength(1);
      const own = all[sender].filter((l) => l.startsWith('OWN ')).map((l) => l.slice(4));
      expect(own.length - new Set(own).size, `DMs of ${sender} shown to ${sender} twice`).toBe(0);
      for (const [, , id] of acked) expect(own).toContain(id);
      // Only what one side's own crash explains: a message sealed but never sent is a gap, nothing else.
      const warnings = all[receiver].filter((l) => l.startsWith('WARN ')).filter((l) => l !== 'WARN gap');
      expect(warnings).toEqual([]);
    }
  }, 180_000);
});

async function waitFor(done: () => boolean): Promise<void> {
  const until = Date.now() + 60_000;
  while (!done()) {
    if (Date.now() > until) throw new Error('timed out waiting for the children');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
