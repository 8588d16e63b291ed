// Each grapheme cluster in blessed's cells takes the columns width.ts counts, and nothing that
// would make a terminal stack a character on another cell (a zero width joiner) reaches it.
import blessed from 'blessed';
import { describe, expect, it } from 'vitest';
import { createScreen } from '../src/view/screen.js';
import { INVISIBLE_MARK, sanitize } from '../src/sanitize.js';
import { clipRow } from '../src/view/unicode-patch.js';
import { displayWidth } from '../src/width.js';
import { FakeInput, FakeOutput } from './helpers/fake-terminal.js';

const CLUSTERS = [
  '🏳️‍🌈',
  '❤️‍🔥',
  '👨‍👩‍👧‍👦',
  '🇫🇷',
  '🏴\u{e0067}\u{e0062}\u{e0073}\u{e0063}\u{e0074}\u{e007f}',
  'e\u0301',
  '中',
  '中\u0301',
  'क्\u200dष',
  '한'.normalize('NFD'),
];

/** Draws `content` in a 40-column bordered box: the cells of its first row and everything written to the terminal. */
function draw(content: string): { cells: string[]; written: string } {
  const output = new FakeOutput();
  const screen = createScreen({ input: new FakeInput(), output, terminal: 'xterm-256color' });
  try {
    const box = blessed.box({ parent: screen, top: 0, left: 0, width: 40, height: 3, border: { type: 'line' } });
    const program = screen.program as unknown as { flush(): void };
    box.setContent(content);
    screen.render();
    program.flush();
    // a second, incremental draw of the same row
    box.setContent(`${content}!`);
    screen.render();
    program.flush();
    const lines = (screen as unknown as { lines: Array<Array<[number, string]>> }).lines;
    return { cells: lines[1]!.slice(0, 40).map((c) => c[1]), written: output.data };
  } finally {
    screen.destroy();
  }
}

describe('clusters in blessed cells', () => {
  it('every kind takes the columns width.ts counts, and no joiner is written', () => {
    for (const cluster of CLUSTERS) {
      const { cells, written } = draw(`a${cluster}b`);
      const b = 2 + displayWidth(cluster);
      expect(cells[1], cluster).toBe('a');
      expect(cells[b], cluster).toBe('b');
      expect(cells[b + 1], cluster).toBe('!');
      expect(cells[39], cluster).toBe('│');
      expect(cells.join(''), cluster).not.toContain('\u200d');
      expect(written, cluster).not.toContain('\u200d');
      // every part is still there, in order (blessed's placeholder cells aside)
      expect(cells.slice(2, b).join('').replace(/\x03/g, ''), cluster).toBe(cluster.replace(/\u200d/g, ''));
    }
  });

  it('draws a code point newer than Unicode 14 as a stand-in of the width it counts', () => {
    // 🩷 and 🫨 (Unicode 15): tmux 3.3a on Debian 12 draws them in no column, newer terminals in two
    const { cells, written } = draw('a🩷b🫨c\u0c5cd\u1acfe');
    expect(cells.slice(1, 11).join('').replace(/\x03/g, '')).toBe('a〓b〓c\ufffdde');
    expect(cells[2]).toBe('〓');
    expect(cells[4]).toBe('b');
    expect(cells[10]).toBe('e');
    expect(cells[39]).toBe('│');
    expect(written).not.toMatch(/🩷|🫨|\u0c5c|\u1acf/u);
  });

  it('draws the marks of a wide character with it, not on its placeholder cell (which is never drawn)', () => {
    for (const cluster of ['中\u0301', '한'.normalize('NFD'), '🏴\u{e0067}\u{e0062}\u{e0073}\u{e0063}\u{e0074}\u{e007f}']) {
      const { cells, written } = draw(`a${cluster}b`);
      expect([cells[2], cells[3]], cluster).toEqual([cluster, '\x03']);
      expect(written, cluster).toContain(cluster);
    }
  });

  it('counts a Hangul syllable spelt out in jamo as the two columns terminals give it', () => {
    expect(displayWidth('한국어'.normalize('NFD'))).toBe(6);
    expect(displayWidth('\u1100\u1161\u11a8')).toBe(2);
    expect(displayWidth('\u1161')).toBe(0);
  });

  it('shows a Hangul filler, blank and two columns wide in tmux but one in width.ts, as the invisible mark', () => {
    for (const filler of ['\u115f', '\u3164', '\uffa0'])
      expect(sanitize(`a${filler}b`), filler.codePointAt(0)!.toString(16)).toBe(`a${INVISIBLE_MARK}b`);
  });

  it('cuts a row never between a wide character, its marks and its placeholder', () => {
    expect(clipRow('a中\u0301\x03b', 2)).toBe('a');
    expect(clipRow('a中\u0301\x03b', 3)).toBe('a中\u0301\x03');
    expect(clipRow('a中\u0301\x03b', 4)).toBe('a中\u0301\x03b');
  });

  it('draws a joined emoji as its parts', () => {
    const { cells } = draw('🏳️‍🌈 ❤️‍🔥');
    expect(cells.slice(1, 8).join('').replace(/\x03/g, '')).toBe('🏳️🌈 ❤️🔥');
  });
});
