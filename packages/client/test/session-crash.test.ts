import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTestServer, type TestServer } from '@hush/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClientPaths } from '../src/paths.js';
import { Fixture, homeOf } from './helpers.js';

// Crash safety of the session state: two SDK processes write to each other while the test kills
// them (SIGKILL) at random moments and starts them again on the same data directories. Afterwards
// every acknowledged DM has been shown (under its server id, with its text), none twice (received
// or sent) but one a process was killed in the middle of handing over, no session broke, and both
// directions still work.

const CHILD = fileURLToPath(new URL('./helpers/dm-child.mjs', import.meta.url));

type Name = 'alice' | 'bob';
const names = ['alice', 'bob'] as const;

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

  it('messages flow both ways through random kills; every acknowledged one is shown, once but for a kill mid-handover; no session breaks', async () => {
    const users = { alice: await fx.paths(), bob: await fx.paths() };
    for (const [name, paths] of Object.entries(users)) await (await fx.user(server, `crash-${name}`, { paths })).close();
    // Per user and run: the lines the run printed, and the DMs its list of shown ones held after it.
    const runs: Record<Name, { lines: string[]; listed: Set<string> }[]> = { alice: [], bob: [] };
    const next = { alice: 0, bob: 0 };
    const prefix = { alice: 'a', bob: 'b' };
    const peer = { alice: 'crash-bob', bob: 'crash-alice' } as const;
    const start = (name: Name, count: number) => run(users[name], `crash-${name}`, peer[name], prefix[name], next[name], count);
    const finish = async (name: Name, r: Run) => {
      const shownFile = join(homeOf(users[name].dataDir, server).state, `crash-${name}.shown`);
      const listed = await readFile(shownFile, 'utf8').catch(() => '');
      runs[name].push({ lines: r.lines, listed: new Set(listed.split('\n')) });
      // The next run continues after the last acknowledged text (an unacknowledged one may have been stored: its text is not reused).
      next[name] += r.lines.filter((l) => l.startsWith('ACK ')).length + 1;
    };
    for (let round = 0; round < 8; round++) {
      const pair = { alice: start('alice', 40), bob: start('bob', 40) };
      // Killed at a random moment once both are logged in, so a slow start on a loaded machine
      // does not eat the time they have to write.
      await waitFor(() => pair.alice.lines.includes('READY') && pair.bob.lines.includes('READY'));
      await new Promise((resolve) => setTimeout(resolve, 300 + Math.floor(Math.random() * 900)));
      for (const name of names) pair[name].child.kill('SIGKILL');
      await Promise.all([pair.alice.done, pair.bob.done]);
      for (const name of names) await finish(name, pair[name]);
    }
    // Clean runs to the end: both send a few more and stay until each has shown the other's last one.
    const final = { alice: start('alice', 5), bob: start('bob', 5) };
    const last = { alice: `a${next.alice + 4}`, bob: `b${next.bob + 4}` };
    await waitFor(
      () => final.alice.lines.some((l) => l.endsWith(` ${last.bob}`)) && final.bob.lines.some((l) => l.endsWith(` ${last.alice}`)),
    );
    for (const name of names) final[name].child.kill('SIGKILL');
    await Promise.all([final.alice.done, final.bob.done]);
    for (const name of names) await finish(name, final[name]);

    for (const [sender, receiver] of [
      ['alice', 'bob'],
      ['bob', 'alice'],
    ] as const) {
      const all = (name: Name) => runs[name].flatMap((r) => r.lines);
      const acked = all(sender)
        .filter((l) => l.startsWith('ACK '))
        .map((l) => l.split(' ') as [string, string, string]);
      expect(acked.length).toBeGreaterThan(20);
      const texts = new Map<string, string>();
      for (const l of all(receiver).filter((x) => x.startsWith('SHOWN '))) {
        const [, id, text] = l.split(' ') as [string, string, string];
        expect(texts.get(id) ?? text, `${id} shown with another text`).toBe(text);
        texts.set(id, text);
      }
      const warned = all(receiver)
        .filter((l) => l.startsWith('WARN ') || l === 'READY')
        .join(',');
      for (const [, text, id] of acked) {
        expect(texts.get(id), `${text} (${id}) acknowledged to ${sender}, shown at ${receiver} (${warned})`).toBe(text);
        expect(all(sender), `${text} (${id}) not shown to its sender`).toContain(`OWN ${id}`);
      }
      // Only what one side's own crash explains: a message sealed but never sent is a gap, nothing else.
      expect(all(receiver).filter((l) => l.startsWith('WARN ') && l !== 'WARN gap')).toEqual([]);
    }
    // No DM shown twice, received or sent, but the one a process was killed while writing down (its
    // last event, missing from its list of shown DMs): no client can make an event and a write one step.
    for (const name of names) {
      const seenIn = new Map<string, number>();
      runs[name].forEach((r, i) => {
        const events = r.lines.filter((l) => l.startsWith('SHOWN ') || l.startsWith('OWN ')).map((l) => l.split(' ')[1]!);
        expect(new Set(events).size, `a DM shown twice by one run of ${name}`).toBe(events.length);
        for (const id of events) {
          const before = seenIn.get(id);
          if (before !== undefined) {
            const earlier = runs[name][before]!;
            const lastEvent = earlier.lines
              .filter((l) => l.startsWith('SHOWN ') || l.startsWith('OWN '))
              .at(-1)
              ?.split(' ')[1];
            expect(lastEvent, `${id} shown again to ${name}: not the last DM of the run that showed it`).toBe(id);
            expect(earlier.listed.has(id), `${id} shown again to ${name} although listed as shown`).toBe(false);
          }
          seenIn.set(id, i);
        }
      });
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
