import { describe, expect, it } from 'vitest';
import { displayWidth, graphemes, padRight, truncate } from '../src/width.js';
import { wrap } from '../src/wrap.js';

describe('displayWidth', () => {
  it('counts emoji and CJK as two columns', () => {
    expect(displayWidth('😄')).toBe(2);
    expect(displayWidth('中文')).toBe(4);
    expect(displayWidth('abc')).toBe(3);
    expect(displayWidth('👨\u200d👩\u200d👧')).toBe(2);
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
  it('keeps a ZWJ family and a flag whole', () => {
    const lines = wrap('ab👨\u200d👩\u200d👧🇫🇷', 3);
    expect(lines).toEqual(['ab', '👨\u200d👩\u200d👧', '🇫🇷']);
  });
  it('breaks after a space even when a wide char follows', () => {
    expect(wrap(' ab中', 3)).toEqual(['ab', '中']);
  });
  it('returns one empty line for empty text', () => {
    expect(wrap('', 10)).toEqual(['']);
  });
});
