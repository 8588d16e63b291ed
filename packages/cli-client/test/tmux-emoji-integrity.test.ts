// What tmux shows must be what hush believes it drew: joined emoji, flags, tag sequences, marks
// and CJK each take exactly the cells their width says, on arrival (an incremental draw) as after a
// full redraw, and leave nothing behind in rows of another conversation.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HushTui } from '@hush/test-kit';
import { describe, expect, it } from 'vitest';
import { displayWidth } from '../src/width.js';
import { TuiBed } from './helpers/tui-bed.js';

const bed = TuiBed.install();
const WIDTH = 120; // HushTui's default window

/** Sent by bob, and the text hush draws for each (see unicode-patch.ts): joiners dropped, recent emoji stood in for. */
const LINES: Array<[sent: string, drawn: string]> = [
  ['B rainbow 🏳️‍🌈 end', 'B rainbow 🏳️🌈 end'],
  ['G fire ❤️‍🔥 end', 'G fire ❤️🔥 end'],
  ['F family 👨‍👩‍👧‍👦 end', 'F family 👨👩👧👦 end'],
  ['C france 🇫🇷 end', 'C france 🇫🇷 end'],
  ['D scotland 🏴󠁧󠁢󠁳󠁣󠁴󠁿 end', 'D scotland 🏴󠁧󠁢󠁳󠁣󠁴󠁿 end'],
  ['E cafe\u0301 end', 'E cafe\u0301 end'],
  ['H 中文字符 한국어 end', 'H 中文字符 한국어 end'],
  // Korean spelt out in jamo (as macOS writes file names), a mark on a wide character
  [`K ${'한국어'.normalize('NFD')} 中\u0301 end`, `K ${'한국어'.normalize('NFD')} 中\u0301 end`],
  // a blank Hangul filler: two columns in tmux, one in width.ts, so it shows as the invisible mark
  ['Q filler \u3164 end', 'Q filler \ufffd end'],
  // Unicode 15: no width every terminal agrees on (tmux 3.3a gives them none), so a stand-in is drawn
  ['P pink 🩷 shaking 🫨 end', 'P pink 〓 shaking 〓 end'],
];
// Wraps onto a second row, with a joined emoji and a flag late in the first one.
const LONG = `W ${'中文'.repeat(8)} 👨‍👩‍👧‍👦 family 🏳️‍🌈 flag 🇫🇷 🏴󠁧󠁢󠁳󠁣󠁴󠁿 ok e\u0301 café ${'x'.repeat(30)} tail`;
const STRAY = /🏳|🌈|❤|🔥|👨|👩|👧|👦|🇫|🇷|🏴|中|文|한|국|\u0301|tail/u;

function rowsOf(tui: HushTui): string[] {
  return tui.capture().split('\n').slice(0, -1);
}

/** The rows once two captures 300 ms apart agree (a redraw has finished). */
async function settled(tui: HushTui): Promise<string[]> {
  let last = rowsOf(tui);
  for (let tries = 0; tries < 20; tries++) {
    await new Promise((r) => setTimeout(r, 300));
    const now = rowsOf(tui);
    if (now.join('\n') === last.join('\n')) return now;
    last = now;
  }
  throw new Error(`the screen kept changing:\n${last.join('\n')}`);
}

/**
 * The columns tmux itself gives each of `texts`: each is written at the start of a row of a tmux
 * of its own and the cursor position asked for. Independent of width.ts, so a character tmux
 * stacks on another cell, or draws narrower or wider than hush counts, shows as a different width.
 */
function tmuxWidths(texts: string[]): number[] {
  const dir = mkdtempSync(join(tmpdir(), 'hush-ruler-'));
  const socket = join(dir, 'tmux.sock');
  writeFileSync(join(dir, 'texts.json'), JSON.stringify(texts));
  writeFileSync(
    join(dir, 'ruler.mjs'),
    `import { readFileSync, renameSync, writeFileSync } from 'node:fs';
const texts = JSON.parse(readFileSync(process.argv[2], 'utf8'));
process.stdin.setRawMode(true);
let input = '';
process.stdin.on('data', (d) => { input += d; });
const widths = [];
for (const text of texts) {
  input = '';
  process.stdout.write('\\x1b[H\\x1b[2K' + text + '\\x1b[6n');
  while (!/\\x1b\\[\\d+;(\\d+)R/.test(input)) await new Promise((r) => setTimeout(r, 2));
  widths.push(Number(/\\x1b\\[\\d+;(\\d+)R/.exec(input)[1]) - 1);
}
writeFileSync(process.argv[3] + '.part', JSON.stringify(widths));
renameSync(process.argv[3] + '.part', process.argv[3]);
process.exit(0);
`,
  );
  const out = join(dir, 'widths.json');
  const tmux = (...args: string[]) => execFileSync('tmux', ['-S', socket, ...args], { stdio: 'ignore' });
  try {
    const command = `LANG=C.UTF-8 ${process.execPath} ${join(dir, 'ruler.mjs')} ${join(dir, 'texts.json')} ${out}; sleep 30`;
    tmux('-f', '/dev/null', 'new-session', '-d', '-x', '400', '-y', '5', command);
    const deadline = Date.now() + 15_000;
    while (!existsSync(out)) {
      if (Date.now() > deadline) throw new Error('the tmux ruler gave no widths');
      execFileSync('sleep', ['0.05']);
    }
    return JSON.parse(readFileSync(out, 'utf8')) as number[];
  } finally {
    tmux('kill-server');
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Every row between the panes' borders (capture-pane shows the line drawing as l, x, m) reaches
 * the right border at the window's last column, by tmux's count as by hush's: no cluster took more
 * or fewer cells than hush counted. The other rows stay within the window.
 */
function expectRowsFit(rows: string[], when: string, width = WIDTH): void {
  const trimmed = rows.map((r) => r.trimEnd());
  const byTmux = tmuxWidths(trimmed);
  for (const [i, row] of trimmed.entries()) {
    const what = `${when}: row ${i} "${row}"`;
    if (/^[lxm]/.test(row)) expect([displayWidth(row), byTmux[i]], what).toEqual([width, width]);
    else expect(Math.max(displayWidth(row), byTmux[i]!), what).toBeLessThanOrEqual(width);
  }
}

/**
 * The message row holding `<bob> text`: exactly that text, then blanks up to the pane's border.
 * Tag characters aside: tmux keeps on a cell only as many as fit its cell (🏴 and four of them).
 */
function expectMessageRow(rows: string[], drawn: string, when: string): void {
  const untagged = (text: string) => text.replace(/[\u{e0020}-\u{e007f}]/gu, '');
  const row = rows.find((r) => r.includes(`<bob> ${drawn.slice(0, 6)}`));
  expect(row, `${when}: the row of "${drawn}"`).toBeDefined();
  expect(untagged(row!), when).toMatch(new RegExp(`\\d\\d:\\d\\d <bob> ${escapeRegExp(untagged(drawn))} *x`, 'u'));
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe('hush in tmux: emoji and marks take the cells their width says', () => {
  it('on arrival as after a redraw, and leave no stray cells in another conversation', async () => {
    const { alice, bob } = await bed.aliceAndBob();

    for (const [sent, drawn] of LINES) {
      await bob.typeLine(sent);
      await alice.waitFor(`<bob> ${drawn.slice(0, 6)}`);
      // a second draw of the row (another line arriving) must not move anything already drawn
      await bob.typeLine(`after ${drawn.slice(0, 1)}`);
      await alice.waitFor(`<bob> after ${drawn.slice(0, 1)}`);
      const rows = rowsOf(alice);
      expectRowsFit(rows, `arrival of ${drawn}`);
      expectMessageRow(rows, drawn, `arrival of ${drawn}`);
    }
    await bob.typeLine(LONG);
    await alice.waitFor(/tail *x/);
    const arrived = rowsOf(alice);
    await bob.typeLine('last line');
    await alice.waitFor('<bob> last line');
    const onArrival = rowsOf(alice);
    expectRowsFit(arrived, 'arrival of the long line');
    expectRowsFit(onArrival, 'after the long line');

    alice.keys('M-1'); // (status): a pane that holds none of these characters
    const status = await alice.waitFor((s) => !s.includes('<bob> last line'), 'the status window');
    expectRowsFit(rowsOf(alice), 'the status window');
    for (const row of status.split('\n').slice(2, -4)) expect(row, 'a row of the status window').not.toMatch(STRAY);

    alice.keys('M-2'); // back: a full redraw of #lobby draws what the arrivals drew
    await alice.waitFor('<bob> last line');
    expect(rowsOf(alice)).toEqual(onArrival);
    for (const [, drawn] of LINES) expectMessageRow(onArrival, drawn, `redrawn ${drawn}`);

    // narrower and back: every row re-wrapped and redrawn stays inside its pane
    for (const width of [97, WIDTH]) {
      alice.resize(width, 40);
      await alice.waitFor((s) => displayWidth(s.split('\n')[1]!.trimEnd()) === width, `a ${width}-column screen`);
      expectRowsFit(await settled(alice), `at ${width} columns`, width);
    }
  }, 120_000);
});
