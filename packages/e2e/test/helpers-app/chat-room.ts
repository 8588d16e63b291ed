// Six people in one room, for the manual test plan: one hushd process on its default
// limits (startServerProcess lowers scrypt's cost, which only speeds registration up, and lifts the
// per-address connection cap, which six clients do not reach) and six real `hush` processes on their
// default config, each in its own tmux session at 120x40 with its own HOME and XDG dirs, registered
// (three given hushd's fingerprint, three trusting it at hush's first-contact prompt) and in #lobby.
// Plus what reads their panes: switching conversations, answering file prompts, and `expectChat`,
// which has everyone type numbered lines and checks that every pane shows all of them once, in one
// shared order, with no error line.
//
// Reading a whole conversation: the chat pane is a blessed box, so its scrollback lives inside hush,
// not in tmux. Before a chat every pane runs /clear and its window is made tall enough for the
// chat's lines, so one capture-pane holds the whole conversation (the lines are short: no wrapping).
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startServerProcess, type ServerProcess } from '../helpers-net/server-process.js';
import { passwordOf } from './fixture.js';
import { HushTui, inputLine } from '@hush/test-kit';

export const PEOPLE = ['ann', 'ben', 'cat', 'dan', 'eve', 'fay'] as const;
export type Person = (typeof PEOPLE)[number];
const WIDTH = 120;
const HEIGHT = 40;
/** Rows a tall window needs besides the chat lines: top bar, borders, status bar, input line, slack. */
const CHROME_ROWS = 12;
/** What hush shows under a line of ours the server has not acknowledged yet. */
const SENDING = '(sending…)';

export const rowsOf = (screen: string): string[] => screen.split('\n');
export const others = (...except: Person[]): Person[] => PEOPLE.filter((p) => !except.includes(p));

/**
 * Error and warning lines on a screen, each with how often it shows: hush marks them `!!!` and `-!-`,
 * and says `not sent: …` under a refused line of ours.
 */
export function errorLines(screen: string): string[] {
  const counts = new Map<string, number>();
  for (const m of screen.matchAll(/(?:!!!|-!-|not sent:) .*?(?= {2,}|x?$)|\b(?:RATE_LIMITED|SCHEMA_VIOLATION)\b/gm))
    counts.set(m[0], (counts.get(m[0]) ?? 0) + 1);
  return [...counts].map(([text, n]) => (n > 1 ? `${text} (${n} times)` : text));
}

/** One person's part in a chat: `lines` numbered lines (`ann-line-07`), one every `intervalMs` (0: as fast as tmux types). */
export interface Typist {
  who: Person;
  /** A word in the lines, so each chat's lines are its own. */
  tag: string;
  lines: number;
  intervalMs: number;
}

/** Everyone types `lines` lines as fast as tmux can, all at once. */
export function everyoneAtOnce(lines: number): Typist[] {
  return PEOPLE.map((who) => ({ who, tag: 'line', lines, intervalMs: 0 }));
}

/** ann sends `slow.lines` lines one every `slow.intervalMs` while the five others chat at `fast`'s pace. */
export function slowBesideFast(slow: { lines: number; intervalMs: number }, fast: { lines: number; intervalMs: number }): Typist[] {
  return [{ who: 'ann', tag: 'tick', ...slow }, ...others('ann').map((who) => ({ who, tag: 'chat', ...fast }))];
}

const lineText = (t: Typist, n: number): string => `${t.who}-${t.tag}-${String(n).padStart(Math.max(2, String(t.lines).length), '0')}`;

/** The `<sender> who-tag-N` chat lines on a screen, top to bottom. */
function chatLines(screen: string): string[] {
  return [...screen.matchAll(/<([a-z]+)> ([a-z]+-[a-z]+-\d+)\b/g)].map((m) => `<${m[1]}> ${m[2]}`);
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

/** How big the plan's chats are: the plan runs them small, stress/ runs them long. */
export interface ChatSizes {
  /** The lines each of the six types, all at once. */
  everyone: number;
  /** ann's lines, one every intervalMs, while the five others type theirs at their own pace. */
  slow: { lines: number; intervalMs: number };
  fast: { lines: number; intervalMs: number };
  timeoutMs: number;
}

/** The plan's two chats, as tests in the calling describe block, on the suite's room. */
export function chatTests(suite: { readonly room: ChatRoom }, sizes: ChatSizes): void {
  const { everyone, slow, fast, timeoutMs } = sizes;
  it(
    `six people typing ${everyone} lines each as fast as send-keys can: every pane shows all ${everyone * PEOPLE.length} lines once, in one order`,
    () => suite.room.expectChat(everyoneAtOnce(everyone)),
    timeoutMs,
  );
  it(
    `one person sending a line every ${slow.intervalMs} ms for ${(slow.lines * slow.intervalMs) / 1000} s while five chat fast loses nothing`,
    () => suite.room.expectChat(slowBesideFast(slow, fast)),
    timeoutMs,
  );
}

export class ChatRoom {
  private constructor(
    readonly root: string,
    readonly server: ServerProcess,
    private readonly panes: Map<Person, HushTui>,
  ) {}

  /** Starts hushd and the six `hush`; resolves when every one shows the chat screen. */
  /** The room of the calling file's tests (`.room`): opened before them, closed after them. */
  static forSuite(): { readonly room: ChatRoom } {
    let room: ChatRoom | undefined;
    beforeAll(async () => {
      room = await ChatRoom.open();
    }, 120_000);
    afterAll(async () => {
      await room?.close();
    });
    return {
      get room(): ChatRoom {
        if (!room) throw new Error('the chat room did not open');
        return room;
      },
    };
  }

  static async open(): Promise<ChatRoom> {
    const root = mkdtempSync(join(tmpdir(), 'hush-chat-room-'));
    const panes = new Map<Person, HushTui>();
    let server: ServerProcess | undefined;
    try {
      server = await startServerProcess({ dataDir: join(root, 'server') });
      // ann, cat and eve are given the fingerprint out of band; ben, dan and fay compare it on hush's first-contact prompt
      const askedToTrust = (who: Person): boolean => PEOPLE.indexOf(who) % 2 === 1;
      for (const who of PEOPLE) {
        panes.set(
          who,
          HushTui.start({
            args: [
              '--host',
              `127.0.0.1:${server.port}`,
              '--user',
              who,
              '--register',
              '--login',
              ...(askedToTrust(who) ? [] : ['--fingerprint', server.fingerprint]),
            ],
            env: { HUSH_PASSWORD: passwordOf(who) },
            width: WIDTH,
            height: HEIGHT,
          }),
        );
      }
      const room = new ChatRoom(root, server, panes);
      const fingerprint = server.fingerprint;
      await room.everyone(async (who) => {
        const tui = room.pane(who);
        if (askedToTrust(who)) {
          await tui.waitFor(
            (s) => s.includes('Trust this server') && s.includes(fingerprint) && s.includes('[y] yes'), // armed
            `${who}: the trust prompt with hushd's fingerprint`,
            60_000,
          );
          tui.keys('y');
        }
        await tui.waitFor((s) => /#lobby/.test(s) && / connected /.test(s), `${who}: the chat screen`, 60_000);
      });
      return room;
    } catch (error) {
      for (const tui of panes.values()) tui.kill();
      await server?.stop();
      rmSync(root, { recursive: true, force: true });
      throw error;
    }
  }

  async close(): Promise<void> {
    for (const tui of this.panes.values()) tui.kill();
    await this.server.stop();
    rmSync(this.root, { recursive: true, force: true });
  }

  pane(who: Person): HushTui {
    return this.panes.get(who)!;
  }

  async everyone(check: (who: Person) => Promise<unknown>, who: readonly Person[] = PEOPLE): Promise<void> {
    await Promise.all(who.map(check));
  }

  /** Switches a pane to the conversation whose entry in the chat list matches `entry`; `title` is what the top bar then shows. */
  async switchTo(who: Person, entry: RegExp, title = entry): Promise<void> {
    const tui = this.pane(who);
    const screen = await tui.waitFor((s) => rowsOf(s).some((r) => entry.test(r.slice(0, 22))), `${who}: ${entry} in the chat list`, 30_000);
    const row = rowsOf(screen)
      .map((r) => r.slice(0, 22))
      .find((r) => entry.test(r))!;
    const index = /(\d)\./.exec(row)![1]!;
    tui.keys(`M-${index}`);
    await tui.waitFor((s) => title.test(rowsOf(s)[0] ?? ''), `${who}: ${entry} active`, 30_000);
  }

  /**
   * Answers the prompt hush shows for the offer of `name`: accept at once (or `later`, then /accept),
   * then the folder question with `dir`. Resolves with the saved file's path once hush says it is
   * saved; the offer's conversation must be on screen by then (`conversation`: switched to after the prompt).
   */
  async acceptInto(who: Person, name: string, dir: string, opts: { later?: boolean; conversation?: RegExp } = {}): Promise<string> {
    const tui = this.pane(who);
    await tui.waitFor((s) => s.includes(`offers "${name}"`) && s.includes('[a] accept'), `${who}: the prompt for ${name}`, 30_000);
    tui.keys(opts.later ? 'l' : 'a');
    if (opts.later) {
      await tui.waitFor((s) => !s.includes('[a] accept'), `${who}: the prompt gone`, 30_000);
      if (opts.conversation) await this.switchTo(who, opts.conversation);
      await tui.typeLine(`/accept ${name}`);
    }
    await tui.waitFor((s) => s.includes(`save "${name}"`) && s.includes('into folder:'), `${who}: the folder question`, 30_000);
    tui.keys('C-u');
    // A person reads the question before typing a folder (text typed at once was meant for the chat).
    await new Promise((r) => setTimeout(r, 500));
    await tui.typeLine(dir);
    if (opts.conversation && !opts.later) await this.switchTo(who, opts.conversation);
    const saved = new RegExp(`saved "${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}" to[\\s\\S]*?100%`);
    await tui.waitFor((s) => saved.test(s), `${who}: ${name} saved`, 60_000);
    const files = readdirSync(dir);
    expect(files, `${who}: files in ${dir}`).toHaveLength(1);
    return join(dir, files[0]!);
  }

  /**
   * Clears every pane and makes it tall enough, then has every typist type their lines, all at
   * once; waits until every pane has every line or the panes stop changing, and checks that every
   * pane shows every line exactly once in one shared order (each sender's in the order typed), none
   * still sending, and no error line.
   */
  async expectChat(typists: Typist[]): Promise<void> {
    const expected = typists.flatMap((t) => Array.from({ length: t.lines }, (_, i) => `<${t.who}> ${lineText(t, i + 1)}`));
    // room for every line twice over, so that error notices among them never push a line off the top
    const height = 2 * expected.length + CHROME_ROWS;
    await this.everyone(async (who) => {
      const tui = this.pane(who);
      await tui.typeLine('/clear');
      tui.resize(WIDTH, height);
      await tui.waitFor(
        (s) => rowsOf(s).length >= height && inputLine(s).startsWith('>') && !/\d\d:\d\d <[a-z]+>/.test(s),
        `${who}: a clear, tall pane`,
        30_000,
      );
    });
    try {
      const started = Date.now();
      await Promise.all(
        typists.map(async (t) => {
          for (let n = 1; n <= t.lines; n++) {
            const wait = started + (n - 1) * t.intervalMs - Date.now();
            if (wait > 0) await new Promise((r) => setTimeout(r, wait));
            await this.pane(t.who).typeLine(lineText(t, n));
          }
        }),
      );
      const typedMs = Date.now() - started;
      const screens = await this.settled(expected.length);
      const settledMs = Date.now() - started;

      // the order most panes agree on (every pane should): each pane is compared with it
      const orders = new Map<string, Person[]>();
      for (const who of PEOPLE) {
        const key = chatLines(screens.get(who)!).join('\n');
        orders.set(key, [...(orders.get(key) ?? []), who]);
      }
      const majority = [...orders].sort((a, b) => b[1].length - a[1].length)[0]![0].split('\n');
      const report = PEOPLE.map((who) => {
        const screen = screens.get(who)!;
        const shown = chatLines(screen);
        const times = new Map<string, number>();
        for (const l of shown) times.set(l, (times.get(l) ?? 0) + 1);
        const number = (l: string): number => Number(/\d+$/.exec(l)![0]);
        return {
          who,
          shown: `${times.size} of ${expected.length}`,
          missing: expected.filter((l) => !times.has(l)).length,
          duplicated: [...times].filter(([, n]) => n > 1).map(([l]) => l),
          firstOrderDifference: firstDifference(shown, majority),
          perSenderInOrder: typists.every((t) => {
            const own = shown.filter((l) => l.startsWith(`<${t.who}> ${t.who}-${t.tag}-`)).map(number);
            return own.every((n, i) => i === 0 || n > own[i - 1]!);
          }),
          errors: errorLines(screen),
          stillSending: screen.split(SENDING).length - 1,
          allOnScreen: lastChatRowEmpty(screen),
        };
      });
      const ideal = PEOPLE.map((who) => ({
        who,
        shown: `${expected.length} of ${expected.length}`,
        missing: 0,
        duplicated: [],
        firstOrderDifference: null,
        perSenderInOrder: true,
        errors: [],
        stillSending: 0,
        allOnScreen: true,
      }));
      // where orders differ: do they still agree on the lines neither pane's owner typed?
      const lines = new Map(PEOPLE.map((who) => [who, chatLines(screens.get(who)!)] as const));
      const othersAgree = PEOPLE.every((a) =>
        PEOPLE.every((b) => {
          const strip = (l: string[]) => l.filter((x) => !x.startsWith(`<${a}>`) && !x.startsWith(`<${b}>`)).join('\n');
          return strip(lines.get(a)!) === strip(lines.get(b)!);
        }),
      );
      console.log(
        `chat of ${expected.length} lines: typed in ${typedMs} ms, panes settled after ${settledMs} ms; ` +
          `shown per pane: ${report.map((r) => `${r.who} ${r.shown}`).join(', ')}; ` +
          `distinct orders: ${orders.size} (${[...orders.values()].map((g) => g.join('+')).join(', ')}); ` +
          `any two panes agree on the order of the lines neither of them typed: ${othersAgree}`,
      );
      expect(report).toEqual(ideal);
    } finally {
      for (const who of PEOPLE) this.pane(who).resize(WIDTH, HEIGHT);
    }
  }

  /** Every pane's screen once each shows `count` chat lines and none is still sending, or once no pane changed for a while. */
  private async settled(count: number): Promise<Map<Person, string>> {
    const QUIET_MS = 20_000;
    const started = Date.now();
    let last = '';
    let lastChange = started;
    for (;;) {
      const screens = new Map(await Promise.all(PEOPLE.map(async (who) => [who, await this.pane(who).captureAsync()] as const)));
      const state = PEOPLE.map((who) => `${chatLines(screens.get(who)!).length}/${screens.get(who)!.includes(SENDING)}`).join(',');
      if (state !== last) {
        last = state;
        lastChange = Date.now();
      }
      const done = PEOPLE.every((who) => chatLines(screens.get(who)!).length >= count && !screens.get(who)!.includes(SENDING));
      if (done || Date.now() - lastChange > QUIET_MS || Date.now() - started > 240_000) return screens;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
