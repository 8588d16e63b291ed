import { describe, expect, it } from 'vitest';
import { displayWidth, graphemes, padRight, truncate } from '../src/width.js';
import { wrap } from '../src/wrap.js';

describe('displayWidth', () => {
  it('counts emoji and CJK as two columns', () => {
    expect(displayWidth('😄')).toBe(2);
    expect(displayWidth('中文')).toBe(4);
    expect(displayWidth('abc')).toBe(3);
  });
  it('counts code points as blessed lays out cells and tmux advances: marks and joiners none, emoji two', () => {
    expect(displayWidth('👨\u200d👩\u200d👧')).toBe(6);
    expect(displayWidth('e\u0301')).toBe(1);
    expect(displayWidth('a\u093f')).toBe(2); // a spacing mark takes a column
    expect(displayWidth('❤\ufe0f')).toBe(1);
    expect(displayWidth('👍🏽')).toBe(4);
    expect(displayWidth('🇫🇷')).toBe(2);
    expect(displayWidth('\u{1f3f4}\u{e0067}\u{e0062}\u{e0073}\u{e0063}\u{e0074}\u{e007f}')).toBe(2);
    expect(displayWidth('a\u200bb\x07')).toBe(2);
  });
  it('segments graphemes', () => {
    expect(graphemes('e\u0301👍🏽x')).toEqual(['e\u0301', '👍🏽', 'x']);
  });
  it('truncates and pads by columns', () => {
    expect(truncate('中文中文', 5)).toBe('中文…');
    expect(displayWidth(padRight('中', 5))).toBe(5);
    expect(padRight('abcdef', 3)).toBe('ab…');
  });
});

describe('wrap', () => {
  it('breaks at spaces', () => {
    expect(wrap('the quick brown fox', 10)).toEqual(['the quick', 'brown fox']);
  });
  it('hard-breaks long words', () => {
    expect(wrap('abcdefghij', 4)).toEqual(['abcd', 'efgh', 'ij']);
  });
  it('never exceeds the width with wide characters', () => {
    const text = '中文字符和😄表情混合在一起 with ascii 👨\u200d👩\u200d👧 family 🇫🇷 flags';
    for (let w = 2; w < 30; w++) {
      const lines = wrap(text, w);
      for (const l of lines) expect(displayWidth(l)).toBeLessThanOrEqual(w);
      // Nothing but break spaces is lost, no grapheme is split.
      expect(lines.join('').replace(/ /g, '')).toBe(text.replace(/ /g, ''));
      for (const l of lines) expect(graphemes(l).join('')).toBe(l);
    }
  });
  it('keeps a ZWJ family and a flag whole when they fit, and cuts a family wider than the line', () => {
    expect(wrap('ab👨\u200d👩\u200d👧🇫🇷', 6)).toEqual(['ab', '👨\u200d👩\u200d👧', '🇫🇷']);
    expect(wrap('ab👨\u200d👩\u200d👧🇫🇷', 3)).toEqual(['ab', '👨\u200d', '👩\u200d', '👧', '🇫🇷']);
    const chain = Array(50).fill('👨').join('\u200d');
    for (const l of wrap(chain, 10)) expect(displayWidth(l)).toBeLessThanOrEqual(10);
    expect(wrap(chain, 10).join('')).toBe(chain);
  });
  it('breaks after a space even when a wide char follows', () => {
    expect(wrap(' ab中', 3)).toEqual(['ab', '中']);
  });
  it('returns one empty line for empty text', () => {
    expect(wrap('', 10)).toEqual(['']);
  });
});
