import { createRequire } from 'node:module';
import blessed from 'blessed';
import stringWidth from 'string-width';
import { describe, expect, it } from 'vitest';
import { createScreen } from '../src/view/screen.js';
import { wideCharRegExp } from '../src/view/unicode-patch.js';
import { displayWidth, isWideCodePoint } from '../src/width.js';
import { WIDE_RANGES } from '../src/wide-ranges.js';
import { FakeInput, FakeOutput } from './helpers/fake-terminal.js';

describe('wide character table', () => {
  it('agrees with string-width at every range edge and around it', () => {
    for (const [a, b] of WIDE_RANGES) {
      for (const cp of [a, b, Math.floor((a + b) / 2)]) expect(stringWidth(String.fromCodePoint(cp)), cp.toString(16)).toBe(2);
      for (const cp of [a - 1, b + 1]) {
        if (cp >= 0xd800 && cp <= 0xdfff) continue;
        expect(isWideCodePoint(cp)).toBe(stringWidth(String.fromCodePoint(cp)) === 2);
      }
    }
  });
  it('covers emoji and CJK', () => {
    for (const ch of ['😄', '🎉', '中', '한', '👍', 'ｱ'.normalize('NFKC')]) expect(isWideCodePoint(ch.codePointAt(0)!), ch).toBe(stringWidth(ch) === 2);
    expect(isWideCodePoint('a'.codePointAt(0)!)).toBe(false);
    expect('a😄b中'.replace(wideCharRegExp(), '$1|')).toBe('a😄|b中|');
  });
});

/** The cells of the first content row of a 30-column bordered box holding `content`, drawn by blessed. */
function drawnRow(content: string): string[] {
  const screen = createScreen({ input: new FakeInput(), output: new FakeOutput(), terminal: 'xterm-256color' });
  try {
    const box = blessed.box({ parent: screen, top: 0, left: 0, width: 30, height: 3, border: { type: 'line' }, tags: true, wrap: false });
    box.setContent(content);
    screen.render();
    const lines = (screen as unknown as { lines: Array<Array<[number, string]>> }).lines;
    return lines[1]!.slice(0, 30).map((c) => c[1]);
  } finally {
    screen.destroy();
  }
}

describe('patched blessed', () => {
  it('gives an emoji two cells so the rest of the row stays in its column', () => {
    const row = drawnRow('a😄b中c');
    // border, a, 😄 + placeholder, b, 中 + placeholder, c, spaces..., border at column 29
    expect(row.slice(1, 3)).toEqual(['a', '😄']);
    expect(row[4]).toBe('b');
    expect(row[5]).toBe('中');
    expect(row[7]).toBe('c');
    expect(row[29]).toBe('│');
  });

  it('stacks every mark and format character on the previous cell, as terminals do', () => {
    // U+1AB0 and U+1DE7 are marks blessed's own table (Unicode 5) does not know
    const content = 'a\u1ab0b\u1de7\u0301c\u093fd👨\u200d👩e';
    const row = drawnRow(content);
    // (a joiner after a wide emoji lands on blessed's placeholder cell, so the terminal draws the parts)
    expect(row.slice(1, 7)).toEqual(['a\u1ab0', 'b\u1de7\u0301', 'c', '\u093f', 'd', '👨']);
    expect(row[8]).toBe('👩');
    expect(row[10]).toBe('e');
    expect(row[29]).toBe('│');
    expect(displayWidth(content)).toBe(10);
  });

  it('gives every code point the width our wrapping counts', () => {
    const unicode = createRequire(import.meta.url)('blessed/lib/unicode') as { charWidth(s: string, i?: number): number; combining: Record<number, boolean> };
    createScreen({ input: new FakeInput(), output: new FakeOutput(), terminal: 'xterm-256color' }).destroy();
    const disagree: string[] = [];
    for (let cp = 0x20; cp <= 0x3ffff; cp++) {
      if ((cp >= 0xd800 && cp <= 0xdfff) || cp === 0x7f) continue;
      const ch = String.fromCodePoint(cp);
      const width = displayWidth(ch);
      if (unicode.charWidth(ch) !== width || (cp >= 0xa0 && (unicode.combining[cp] === true) !== (width === 0))) disagree.push(cp.toString(16));
    }
    expect(disagree).toEqual([]);
  });
});
