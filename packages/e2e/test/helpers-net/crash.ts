// Crash safety, sized by its caller (test/net-crash.test.ts, stress/net-crash.test.ts): SDK clients send
// heavy traffic to a hushd child process and record every acknowledgement; the server is killed
// with SIGKILL mid-traffic and restarted on the same data directory and port; the sends in flight
// are resent by the SDK with their idempotency keys; then the history, the database and what every
// client showed are checked.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ChatMessage, HushClient } from '@hush/client';
import { afterAll, describe, expect, it } from 'vitest';
import { compareIds } from './ids.js';
import { startServerProcess, type ServerProcess } from './server-process.js';
import { SdkFixture, until } from './sdk.js';

const SERVER_DIR = fileURLToPath(new URL('../../../server/', import.meta.url));

/** Runs SQL checks with the server package's better-sqlite3 (the e2e package does not depend on it). */
export function inspectDatabase(dbPath: string, room: string): { integrity: string; roomMessages: number; duplicateBodies: number } {
  const script = `
    const Database = require('better-sqlite3');
    const db = new Database(process.argv[1]);
    const integrity = db.pragma('integrity_check', { simple: true });
    const roomMessages = db.prepare("SELECT count(*) AS n FROM messages WHERE room = ?").get(process.argv[2]).n;
    const duplicateBodies = db.prepare("SELECT count(*) AS n FROM (SELECT body FROM messages WHERE room = ? GROUP BY body HAVING count(*) > 1)").get(process.argv[2]).n;
    db.close();
    process.stdout.write(JSON.stringify({ integrity, roomMessages, duplicateBodies }));
  `;
  const run = spawnSync(process.execPath, ['-e', script, dbPath, room], { cwd: SERVER_DIR, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`database check failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as { integrity: string; roomMessages: number; duplicateBodies: number };
}

export interface CrashPlan {
  senders: number;
  /** Sends in flight per sender. */
  window: number;
  trafficMs: number;
  rounds: number;
}

export interface CrashReport {
  acked: Array<{ id: string; text: string }>;
  unacked: number;
  history: Array<{ id: string; text: string }>;
  shown: Map<string, ChatMessage[]>;
  integrityAfterKill: string[];
  finalDb: { integrity: string; roomMessages: number; duplicateBodies: number };
  reconnectMs: number[];
}

const ROOM = 'crash';

async function allHistory(client: HushClient): Promise<Array<{ id: string; text: string }>> {
  const out: ChatMessage[] = [];
  let before: string | undefined;
  for (;;) {
    const page = await client.history({ room: ROOM }, { limit: 500, ...(before ? { before } : {}) });
    out.unshift(...page.messages);
    if (!page.hasMore || page.messages.length === 0) break;
    before = page.messages[0]!.id;
  }
  return out.map((m) => ({ id: m.id, text: m.text }));
}

export async function crashScenario(plan: CrashPlan, sdk: SdkFixture): Promise<CrashReport> {
  const dataDir = await sdk.dir();
  const limits = { messagesPerSecond: 100_000, messageBurst: 100_000, bytesPerSecond: 1024 ** 3, byteBurst: 1024 ** 3 };
  let hushd: ServerProcess = await startServerProcess({ dataDir, limits });
  const port = hushd.port;
  const at = { host: '127.0.0.1', port };
  try {
    const observer = await sdk.user(at, hushd.fingerprint, 'crash-observer', { timeoutMs: 15_000 });
    await observer.createRoom(ROOM, undefined, 'e2e');
    const senders: HushClient[] = [];
    for (let i = 0; i < plan.senders; i++) {
      const s = await sdk.user(at, hushd.fingerprint, `crash-sender${i}`, { timeoutMs: 15_000 });
      await s.joinRoom(ROOM);
      senders.push(s);
    }
    const everyone = [observer, ...senders];
    const shown = new Map<string, ChatMessage[]>();
    for (const c of everyone) {
      const list: ChatMessage[] = [];
      shown.set(c.user!, list);
      c.on('message', (m) => {
        if (m.room === ROOM) list.push(m);
      });
    }

    const acked: Array<{ id: string; text: string }> = [];
    let unacked = 0;
    const integrityAfterKill: string[] = [];
    const reconnectMs: number[] = [];
    // End to end: a sender's first line hands its key to every member device (session setups
    // first); said before the timed traffic, which then measures sending alone.
    for (const [i, s] of senders.entries()) acked.push({ id: (await s.send(ROOM, `hello s${i}`)).id, text: `hello s${i}` });

    for (let round = 0; round < plan.rounds; round++) {
      let running = true;
      const loops = senders.map(async (s, si) => {
        let n = 0;
        const inFlight = new Set<Promise<void>>();
        while (running) {
          const text = `r${round} s${si} m${n++}`;
          const p: Promise<void> = s
            .send(ROOM, text)
            .then(
              (r) => void acked.push({ id: r.id, text }),
              () => void unacked++,
            )
            .finally(() => inFlight.delete(p));
          inFlight.add(p);
          if (inFlight.size >= plan.window) await Promise.race(inFlight);
        }
        await Promise.all(inFlight);
      });
      const ackedBefore = acked.length;
      await new Promise((r) => setTimeout(r, plan.trafficMs));
      // A loaded machine acknowledges slowly: the kill waits for enough traffic (its bound says if it never came).
      await until(() => acked.length - ackedBefore >= 50, 30_000, 'enough traffic before the kill').catch(() => undefined);
      const ackedAtKill = acked.length;
      await hushd.kill9(); // mid-traffic: sends are in flight right now
      running = false;
      if (ackedAtKill - ackedBefore < 50) throw new Error(`not enough traffic before the kill: ${ackedAtKill - ackedBefore}`);
      integrityAfterKill.push(inspectDatabase(`${dataDir}/hush.db`, ROOM).integrity);
      const down = performance.now();
      hushd = await startServerProcess({ dataDir, port, limits });
      await until(() => everyone.every((c) => c.state === 'ready'), 20_000, 'every client to reconnect by itself');
      reconnectMs.push(Math.round(performance.now() - down));
      // The SDK holds the sends that were in flight and resends them (same keys) once back.
      await Promise.all(loops);
    }

    // After the last restart: live traffic still flows to everyone.
    for (const [i, s] of senders.entries()) acked.push({ id: (await s.send(ROOM, `after s${i}`)).id, text: `after s${i}` });
    const history = await allHistory(observer);
    const stored = new Set(history.map((m) => m.id));
    await until(() => everyone.every((c) => shown.get(c.user!)!.length >= stored.size), 20_000, 'every client to catch up');
    await new Promise((r) => setTimeout(r, 200)); // a late duplicate would show up here
    await hushd.stop();
    const finalDb = inspectDatabase(`${dataDir}/hush.db`, ROOM);
    return { acked, unacked, history, shown, integrityAfterKill, finalDb, reconnectMs };
  } finally {
    await hushd.kill9();
  }
}

/** What must hold after the crash scenario. */
export function checkCrashReport(report: CrashReport): void {
  const byId = new Map(report.history.map((m) => [m.id, m.text]));
  // Every acknowledged message is stored, with its text, exactly once.
  for (const a of report.acked) expect(byId.get(a.id), `acked ${a.text}`).toBe(a.text);
  const texts = report.history.map((m) => m.text);
  expect(new Set(texts).size, 'a message is stored twice').toBe(texts.length);
  expect(new Set(report.history.map((m) => m.id)).size).toBe(report.history.length);
  // Sends in flight at the kill were resent with their keys: every one acked, none lost, none twice.
  expect(report.unacked).toBe(0);
  expect(report.history.length).toBe(report.acked.length);
  // The database opened cleanly after each crash and at the end.
  expect(report.integrityAfterKill.every((r) => r === 'ok')).toBe(true);
  expect(report.finalDb.integrity).toBe('ok');
  expect(report.finalDb.roomMessages).toBe(report.history.length);
  expect(report.finalDb.duplicateBodies).toBe(0);
  // Every client showed every stored message once, in order: no gap, no duplicate.
  const ids = report.history.map((m) => m.id);
  for (const [user, shown] of report.shown) {
    const shownIds = shown.map((m) => m.id);
    expect(new Set(shownIds).size, `${user} showed a message twice`).toBe(shownIds.length);
    expect([...shownIds].sort(compareIds), `${user} has a gap`).toEqual(ids);
    // Senders too: their own messages come back as echoes in server order, ahead of the ack.
    expect(shownIds, `${user} showed messages out of order`).toEqual([...shownIds].sort(compareIds));
  }
}

/** The crash test at one size: `minAcked` acknowledgements at least, all of them kept. */
export function crashSuite(name: string, title: string, plan: CrashPlan, minAcked: number, timeoutMs: number): void {
  const sdk = new SdkFixture();
  afterAll(() => sdk.cleanup());

  describe(name, () => {
    it(
      title,
      async () => {
        const report = await crashScenario(plan, sdk);
        console.log(
          JSON.stringify({
            acked: report.acked.length,
            unacked: report.unacked,
            stored: report.history.length,
            reconnectMs: report.reconnectMs,
            integrity: report.integrityAfterKill,
          }),
        );
        expect(report.acked.length).toBeGreaterThan(minAcked);
        checkCrashReport(report);
      },
      timeoutMs,
    );
  });
}
