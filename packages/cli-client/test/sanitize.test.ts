import { describe, expect, it } from 'vitest';
import { escapeTags, sanitize, splitLines, stripControls, stripStrayJoiners } from '../src/sanitize.js';

const ESC = '\x1b';
const corpus: Array<[string, string, string]> = [
  ['OSC title (BEL)', `${ESC}]0;pwned${'\x07'}hello`, 'hello'],
  ['OSC title (ST)', `${ESC}]2;pwned${ESC}\\hello`, 'hello'],
  ['OSC 52 clipboard', `${ESC}]52;c;cm0gLXJmIH4=${'\x07'}ok`, 'ok'],
  ['unterminated OSC swallows the rest', `a${ESC}]0;title forever`, 'a'],
  ['CSI clear screen', `${ESC}[2J${ESC}[Hclean`, 'clean'],
  ['CSI colours', `${ESC}[31;1mred${ESC}[0m`, 'red'],
  ['CSI private mode', `${ESC}[?1049hx`, 'x'],
  ['8-bit CSI 0x9B', '\x9b2Jafter', 'after'],
  ['8-bit OSC 0x9D', '\x9d0;t\x9cafter', 'after'],
  ['DCS', `${ESC}Pq#0;2;0;0;0${ESC}\\after`, 'after'],
  ['APC', `${ESC}_payload${ESC}\\after`, 'after'],
  ['ESC c reset', `${ESC}cafter`, 'after'],
  ['ESC 7 save cursor', `${ESC}7after`, 'after'],
  ['bare CR line forgery', 'hi\r<alice> fake', 'hi<alice> fake'],
  ['backspaces', 'abc\b\b\bxyz', 'abcxyz'],
  ['null bytes', 'a\x00b\x00c', 'abc'],
  ['bell', 'ding\x07dong', 'dingdong'],
  ['DEL', 'a\x7fb', 'ab'],
  ['C1 NEL', 'a\x85b', 'ab'],
  ['tab to space', 'a\tb', 'a b'],
  ['newline to space', 'a\nb', 'a b'],
  ['bidi override RLO', 'abc\u202Egnp.exe', 'abcgnp.exe'],
  ['bidi isolates', '\u2066x\u2069\u2067y\u2068z', 'xyz'],
  ['bidi marks', '\u200Ea\u200Fb\u061Cc', 'abc'],
  ['line separator', 'a\u2028b', 'a b'],
  ['lone surrogate', 'a\ud800b', 'a\ufffdb'],
];

describe('stripControls', () => {
  it.each(corpus)('%s', (_name, input, expected) => {
    expect(stripControls(input)).toBe(expected);
  });

  it('keeps emoji ZWJ sequences, CJK and combining marks', () => {
    const family = '👨\u200d👩\u200d👧';
    expect(stripControls(`hi ${family} 中文 é`)).toBe(`hi ${family} 中文 é`);
  });

  it('keeps ZWJ only inside emoji ZWJ sequences', () => {
    const cases: Array<[string, string]> = [
      ['👨\u200d👩\u200d👧', '👨\u200d👩\u200d👧'], // family
      ['🏳\ufe0f\u200d🌈', '🏳\ufe0f\u200d🌈'], // rainbow flag: variation selector before the ZWJ
      ['👩🏽\u200d💻', '👩🏽\u200d💻'], // skin tone modifier before the ZWJ
      ['al\u200dice', 'alice'], // look-alike name
      ['\u200dbob', 'bob'],
      ['bob\u200d', 'bob'],
      ['a\u200d👍', 'a👍'], // no pictograph before
      ['👍\u200da', '👍a'], // no pictograph after
      ['👍\u200d', '👍'],
      ['👨\u200d\u200d👩', '👨👩'], // a doubled joiner is no emoji sequence
      ['क\u094d\u200dष', 'क\u094dष'], // outside emoji, scripts lose it too (as specified)
    ];
    for (const [input, expected] of cases) expect(stripControls(input), JSON.stringify(input)).toBe(expected);
    expect(stripStrayJoiners('plain')).toBe('plain');
  });

  it('never leaves a control character in random input', () => {
    for (let i = 0; i < 2000; i++) {
      let s = '';
      for (let j = 0; j < 30; j++) s += String.fromCharCode(Math.floor(Math.random() * 0x2100));
      const out = stripControls(s);
      expect(out).not.toMatch(/[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c\u200d]/);
    }
  });
});

describe('sanitize', () => {
  it('escapes blessed tags so they show literally', () => {
    expect(sanitize('{red-fg}x{/red-fg}')).toBe('{open}red-fg{close}x{open}/red-fg{close}');
    expect(escapeTags('{}')).toBe('{open}{close}');
  });

  it('strips escapes and escapes tags together', () => {
    expect(sanitize(`${ESC}[31m{bold}hi`)).toBe('{open}bold{close}hi');
  });
});

describe('splitLines', () => {
  it('splits on LF and CRLF but never on a lone CR', () => {
    expect(splitLines('a\nb\r\nc\rd')).toEqual(['a', 'b', 'c\rd']);
  });
});
