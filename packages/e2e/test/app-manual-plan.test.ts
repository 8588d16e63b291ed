// Issue 20's acceptance test: the original product's manual test plan, run for real. One hushd
// process on its default limits and six `hush` processes, each in its own tmux session with its own
// HOME and XDG dirs (six separate people), register, trust the pinned fingerprint and meet in
// #lobby. Then: a broadcast reaches all six; a /msg reaches only its target; a room file and a
// direct file are saved byte-identical; `:smile:` and the emoji picker; and finally everyone types
// numbered lines as fast as `tmux send-keys` can, and every pane must show every line exactly once,
// in one order shared by all panes, with no error line anywhere.
//
// Reading a whole conversation: the chat pane is a blessed box, so its scrollback lives inside hush,
// not in tmux. Before a burst every pane runs /clear and its window is made tall enough for the
// burst's lines, so one capture-pane holds the whole conversation (the lines are short: no wrapping).
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { passwordOf } from './helpers-app/fixture.js';
import { Tui } from './helpers-app/tmux.js';
import { startServerProcess, type ServerProcess } from './helpers-net/server-process.js';

const PEOPLE = ['ann', 'ben', 'cat', 'dan', 'eve', 'fay'] as const;
type Person = (typeof PEOPLE)[number];
const WIDTH = 120;
const HEIGHT = 40;
/** Rows a tall window needs besides the chat lines: top bar, borders, status bar, input line, slack. */
const CHROME_ROWS = 12;

let root: string;
let server: ServerProcess;
const panes = new Map<Person, Tui>();
/** Text that must never appear on the panes of anyone but its sender and its target. */
const privateText: { text: string; seenBy: Person[] }[] = [];

const pane = (p: Person): Tui => panes.get(p)!;
const others = (...except: Person[]): Person[] => PEOPLE.filter((p) => !except.includes(p));
const rowsOf = (screen: string): string[] => screen.split('\n');
const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

/** The input line: the last non-empty row. */
function inputLine(screen: string): string {
  return rowsOf(screen.trimEnd()).at(-1) ?? '';
}

/** Error and warning lines on a screen (hush marks them `!!!` and `-!-`), each with how often it shows. */
function errorLines(screen: string): string[] {
  const counts = new Map<string, number>();
  for (const m of screen.matchAll(/(?:!!!|-!-) .*?(?= {2,}|x?$)|\b(?:RATE_LIMITED|SCHEMA_VIOLATION)\b/gm)) counts.set(m[0], (counts.get(m[0]) ?? 0) + 1);
  return [...counts].map(([text, n]) => (n > 1 ? `${text} (${n} times)` : text));
}

/** Switches a pane to the conversation whose entry in the chat list matches `entry`; `title` is what the top bar then shows. */
async function switchTo(who: Person, entry: RegExp, title = entry): Promise<void> {
  const tui = pane(who);
  const screen = await tui.waitFor((s) => rowsOf(s).some((r) => entry.test(r.slice(0, 22))), `${who}: ${entry} in the chat list`, 30_000);
  const row = rowsOf(screen).map((r) => r.slice(0, 22)).find((r) => entry.test(r))!;
  const index = /(\d)\./.exec(row)![1]!;
  tui.keys(`M-${index}`);
  await tui.waitFor((s) => title.test(rowsOf(s)[0] ?? ''), `${who}: ${entry} active`, 30_000);
}

async function everyone(check: (who: Person) => Promise<unknown>, who: readonly Person[] = PEOPLE): Promise<void> {
  await Promise.all(who.map(check));
}

/**
 * Answers the prompt hush shows for the offer of `name`: accept at once (or `later`, then /accept),
 * then the folder question with `dir`. Resolves with the saved file's path once hush says it is saved;
 * the conversation the offer belongs to must be on screen by then (`conversation`, switched to after the prompt).
 */
async function acceptInto(who: Person, name: string, dir: string, opts: { later?: boolean; conversation?: RegExp } = {}): Promise<string> {
  const tui = pane(who);
  await tui.waitFor((s) => s.includes(`offers "${name}"`) && s.includes('[a] accept'), `${who}: the prompt for ${name}`, 30_000);
  tui.keys(opts.later ? 'l' : 'a');
  if (opts.later) {
    await tui.waitFor((s) => !s.includes('[a] accept'), `${who}: the prompt gone`, 30_000);
    if (opts.conversation) await switchTo(who, opts.conversation);
    await tui.typeLine(`/accept ${name}`);
  }
  await tui.waitFor((s) => s.includes(`save "${name}"`) && s.includes('into folder:'), `${who}: the folder question`, 30_000);
  tui.keys('C-u');
  await tui.typeLine(dir);
  if (opts.conversation && !opts.later) await switchTo(who, opts.conversation);
  await tui.waitFor((s) => new RegExp(`saved "${name.replace(/\./g, '\\.')}" to[\\s\\S]*?100%`).test(s), `${who}: ${name} saved`, 60_000);
  const saved = readdirSync(dir);
  expect(saved, `${who}: files in ${dir}`).toHaveLength(1);
  return join(dir, saved[0]!);
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'hush-manual-plan-'));
  server = await startServerProcess({ dataDir: join(root, 'server') });
  for (const who of PEOPLE) {
    panes.set(who, Tui.start({
      args: ['--host', `127.0.0.1:${server.port}`, '--user', who, '--register', '--login', '--fingerprint', server.fingerprint],
      env: { HUSH_PASSWORD: passwordOf(who) },
      width: WIDTH,
      height: HEIGHT,
    }));
  }
  await everyone((who) => pane(who).waitFor((s) => /#lobby/.test(s) && / connected /.test(s), `${who}: the chat screen`, 60_000));
}, 120_000);

afterAll(async () => {
  for (const tui of panes.values()) tui.kill();
  await server?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('the manual test plan: six people in #lobby', () => {
  it('every people list shows all six online', async () => {
    await everyone((who) => pane(who).waitFor((s) => PEOPLE.every((p) => new RegExp(`●.?${p}\\b`).test(s)), `${who}: all six online`, 30_000));
  }, 60_000);

  it('a broadcast is seen by all six', async () => {
    await pane('ann').typeLine('hello everyone, broadcast-1');
    await everyone((who) => pane(who).waitFor((s) => s.includes('<ann> hello everyone, broadcast-1'), `${who}: the broadcast`, 30_000));
  }, 60_000);

  it('a private message is seen by its target only', async () => {
    const secret = `psst-${randomBytes(4).toString('hex')}`;
    privateText.push({ text: secret, seenBy: ['ben', 'cat'] });
    await pane('ben').typeLine(`/msg cat ${secret}`);
    await switchTo('cat', /@ben/);
    await pane('cat').waitFor((s) => s.includes(`<ben> ${secret}`), 'cat: the private message', 30_000);
    await switchTo('ben', /@cat/);
    await pane('ben').waitFor((s) => s.includes(`<ben> ${secret}`), 'ben: his own private message', 30_000);
    // a lobby line sent after it reaches the others: by then the private one would have too
    await pane('ann').typeLine('after the secret');
    await everyone((who) => pane(who).waitFor((s) => s.includes('<ann> after the secret'), `${who}: the line after`, 30_000), others('ben', 'cat'));
    for (const who of others('ben', 'cat')) expect(pane(who).capture(), `${who}'s pane`).not.toContain(secret);
    await everyone((who) => switchTo(who, /#lobby/), ['ben', 'cat']);
  }, 90_000);

  it('a room file and a direct file are saved byte-identical', async () => {
    const roomData = randomBytes(300_000);
    const roomFile = join(root, 'room-plan.bin');
    writeFileSync(roomFile, roomData);
    await pane('dan').typeLine(`/file ${roomFile}`);
    await pane('dan').waitFor((s) => /sent "room-plan\.bin" .*100%/.test(s), 'dan: the room file sent', 60_000);
    // ben answers "later" and accepts with /accept; the others accept in the prompt
    const received = await Promise.all(others('dan').map((who) => acceptInto(who, 'room-plan.bin', join(pane(who).home, 'room-files'), { later: who === 'ben' })));
    for (const path of received) expect(sha256(readFileSync(path)), path).toBe(sha256(roomData));

    const directData = randomBytes(120_000);
    const directFile = join(root, 'direct-plan.bin');
    writeFileSync(directFile, directData);
    await pane('eve').typeLine('/query fay');
    await pane('eve').waitFor((s) => /^ hush +@fay/.test(rowsOf(s)[0] ?? ''), 'eve: @fay active', 30_000);
    await pane('eve').typeLine(`/file ${directFile}`);
    await pane('eve').waitFor((s) => /sent "direct-plan\.bin" .*100%/.test(s), 'eve: the direct file sent', 60_000);
    const saved = await acceptInto('fay', 'direct-plan.bin', join(pane('fay').home, 'direct-files'), { conversation: /@eve/ });
    expect(sha256(readFileSync(saved))).toBe(sha256(directData));
    privateText.push({ text: 'direct-plan.bin', seenBy: ['eve', 'fay'] });
    for (const who of others('eve', 'fay')) expect(pane(who).capture(), `${who}'s pane`).not.toContain('direct-plan.bin');
    await everyone((who) => switchTo(who, /#lobby/), ['eve', 'fay']);
  }, 180_000);

  it(':smile: becomes 😄 for everyone, and the picker inserts an emoji', async () => {
    await pane('fay').typeLine(':smile: smiles-fay');
    await everyone((who) => pane(who).waitFor((s) => s.includes('<fay> 😄 smiles-fay'), `${who}: 😄`, 30_000));

    const ann = pane('ann');
    ann.keys('C-e');
    await ann.waitFor((s) => s.includes('search: _'), 'ann: the picker', 30_000);
    ann.keys('-l', 'tada');
    await ann.waitFor((s) => s.includes(':tada:'), 'ann: :tada: found', 30_000);
    ann.keys('Enter');
    await ann.waitFor((s) => inputLine(s).includes('🎉'), 'ann: 🎉 in the input line', 30_000);
    await ann.typeLine(' picked-ann');
    await everyone((who) => pane(who).waitFor((s) => s.includes('<ann> 🎉 picked-ann'), `${who}: 🎉`, 30_000));
  }, 90_000);

  it('six people typing 30 lines each as fast as send-keys can: every pane shows all 180 lines once, in one order', async () => {
    await expectChat(PEOPLE.map((who) => ({ who, tag: 'line', lines: 30, intervalMs: 0 })));
  }, 300_000);

  it('one person sending a line every half second while five chat fast loses nothing', async () => {
    await expectChat([
      { who: 'ann', tag: 'tick', lines: 20, intervalMs: 500 },
      ...others('ann').map((who) => ({ who, tag: 'chat', lines: 30, intervalMs: 330 })),
    ]);
  }, 300_000);

  it('private text never reached anyone else, and no pane shows an error, the status windows included', async () => {
    const problems: string[] = [];
    for (const who of PEOPLE) {
      const screens = [pane(who).capture()];
      await switchTo(who, /\(status\)/, /^ hush +status/);
      screens.push(pane(who).capture());
      for (const screen of screens) {
        problems.push(...errorLines(screen).map((r) => `${who}: ${r}`));
        for (const p of privateText) if (!p.seenBy.includes(who) && screen.includes(p.text)) problems.push(`${who} sees ${p.text}`);
      }
      await switchTo(who, /#lobby/);
    }
    expect(problems).toEqual([]);
  }, 120_000);
});

interface Typist {
  who: Person;
  /** A word in the lines (`ann-line-07`), so each burst's lines are its own. */
  tag: string;
  lines: number;
  /** 0: as fast as tmux types. */
  intervalMs: number;
}

const lineText = (t: Typist, n: number): string => `${t.who}-${t.tag}-${String(n).padStart(2, '0')}`;

/** The `<sender> text` chat lines of a burst (`-tag-NN` texts) on a screen, top to bottom. */
function burstLines(screen: string): string[] {
  return [...screen.matchAll(/<([a-z]+)> ([a-z]+-[a-z]+-\d\d)\b/g)].map((m) => `<${m[1]}> ${m[2]}`);
}

/** Where `lines` first departs from `reference` ("#12: <ben> ben-line-03, expected <ann> ann-line-04"), or null. */
function firstDifference(lines: string[], reference: string[]): string | null {
  const i = lines.findIndex((l, n) => l !== reference[n]);
  if (i < 0) return lines.length === reference.length ? null : `#${lines.length + 1}: nothing, expected ${reference[lines.length]}`;
  return `#${i + 1}: ${lines[i]}, expected ${reference[i] ?? 'nothing'}`;
}

/** Whether the message pane's last row is still empty: then nothing has scrolled off its top. */
function lastChatRowEmpty(screen: string): boolean {
  const rows = rowsOf(screen);
  const bottom = rows.findIndex((r, i) => i > 1 && r.startsWith('mq'));
  return bottom > 1 && rows[bottom - 1]!.slice(23, WIDTH - 23).trim() === '';
}

/**
 * Clears every pane and makes it tall enough, then types every typist's lines, all typists at
 * once, waits until every pane has every line or the panes stop changing, and checks that
 * every pane shows every line exactly once in the same order, each sender's lines in the order typed.
 */
async function expectChat(typists: Typist[]): Promise<void> {
  const expected = typists.flatMap((t) => Array.from({ length: t.lines }, (_, i) => `<${t.who}> ${lineText(t, i + 1)}`));
  // room for every line twice over, so that error notices among them never push a line off the top
  const height = 2 * expected.length + CHROME_ROWS;
  await everyone(async (who) => {
    const tui = pane(who);
    await tui.typeLine('/clear');
    tui.resize(WIDTH, height);
    await tui.waitFor((s) => rowsOf(s).length >= height && inputLine(s).startsWith('>') && !/\d\d:\d\d <[a-z]+>/.test(s), `${who}: a clear, tall pane`, 30_000);
  });
  try {
    // each typist types on its own, as fast as tmux allows or at its interval: the six interleave
    const started = Date.now();
    await Promise.all(typists.map(async (t) => {
      for (let n = 1; n <= t.lines; n++) {
        const wait = started + (n - 1) * t.intervalMs - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        await pane(t.who).typeLine(lineText(t, n));
      }
    }));
    const typedMs = Date.now() - started;

    // wait until every pane has every line, or nothing changed on any pane for a while
    const QUIET_MS = 20_000;
    let last = '';
    let lastChange = Date.now();
    let screens = new Map<Person, string>();
    for (;;) {
      screens = new Map(PEOPLE.map((who) => [who, pane(who).capture()]));
      const counts = PEOPLE.map((who) => burstLines(screens.get(who)!).length).join(',');
      if (counts !== last) {
        last = counts;
        lastChange = Date.now();
      }
      if (PEOPLE.every((who) => burstLines(screens.get(who)!).length >= expected.length)) break;
      if (Date.now() - lastChange > QUIET_MS || Date.now() - started > 240_000) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    const deliveredMs = Date.now() - started;

    // the order most panes agree on (every pane should): each pane is compared with it
    const orders = new Map<string, Person[]>();
    for (const who of PEOPLE) {
      const key = burstLines(screens.get(who)!).join('\n');
      orders.set(key, [...(orders.get(key) ?? []), who]);
    }
    const majority = [...orders].sort((a, b) => b[1].length - a[1].length)[0]![0].split('\n');
    const report = PEOPLE.map((who) => {
      const shown = burstLines(screens.get(who)!);
      const seen = new Map<string, number>();
      for (const l of shown) seen.set(l, (seen.get(l) ?? 0) + 1);
      const perSenderInOrder = typists.every((t) => {
        const own = shown.filter((l) => l.startsWith(`<${t.who}> ${t.who}-${t.tag}-`));
        return own.every((l, i) => i === 0 || l > own[i - 1]!);
      });
      return {
        who,
        shown: `${seen.size} of ${expected.length}`,
        missing: expected.filter((l) => !seen.has(l)).length,
        duplicated: [...seen].filter(([, n]) => n > 1).map(([l]) => l),
        firstOrderDifference: firstDifference(shown, majority),
        perSenderInOrder,
        errors: errorLines(screens.get(who)!),
        allOnScreen: lastChatRowEmpty(screens.get(who)!),
      };
    });
    const ideal = PEOPLE.map((who) => ({
      who, shown: `${expected.length} of ${expected.length}`, missing: 0, duplicated: [], firstOrderDifference: null, perSenderInOrder: true, errors: [], allOnScreen: true,
    }));
    console.log(`chat of ${expected.length} lines: typed in ${typedMs} ms, panes settled after ${deliveredMs} ms; shown per pane: ${report.map((r) => `${r.who} ${r.shown}`).join(', ')}; distinct orders: ${orders.size} (${[...orders.values()].map((g) => g.join('+')).join(', ')})`);
    expect(report).toEqual(ideal);
  } finally {
    for (const who of PEOPLE) pane(who).resize(WIDTH, HEIGHT);
  }
}
