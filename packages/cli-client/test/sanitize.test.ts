import { describe, expect, it } from 'vitest';
import { bodyLines, escapeTags, INVISIBLE_MARK, MAX_MARKS, revealInvisible, sanitize, stripControls } from '../src/sanitize.js';
import { displayWidth } from '../src/width.js';

const X = INVISIBLE_MARK;

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
  ['C1 NEL (a line break) to space', 'a\x85b', 'a b'],
  ['tab to space', 'a\tb', 'a b'],
  ['newline to space', 'a\nb', 'a b'],
  ['bidi override RLO shows', 'abc\u202Egnp.exe', `abc${X}gnp.exe`],
  ['bidi isolates show', '\u2066x\u2069\u2067y\u2068z', `${X}x${X}${X}y${X}z`],
  ['bidi marks show', '\u200Ea\u200Fb\u061Cc', `${X}a${X}b${X}c`],
  ['line separator', 'a\u2028b', 'a b'],
  ['paragraph separator', 'a\u2029b', 'a b'],
  ['vertical tab and form feed', 'a\vb\fc', 'a b c'],
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

  it('keeps ZWJ only inside emoji ZWJ sequences, shows it anywhere else', () => {
    const cases: Array<[string, string]> = [
      ['👨\u200d👩\u200d👧', '👨\u200d👩\u200d👧'], // family
      ['🏳\ufe0f\u200d🌈', '🏳\ufe0f\u200d🌈'], // rainbow flag: variation selector before the ZWJ
      ['👩🏽\u200d💻', '👩🏽\u200d💻'], // skin tone modifier before the ZWJ
      ['al\u200dice', `al${X}ice`], // look-alike name
      ['\u200dbob', `${X}bob`],
      ['bob\u200d', `bob${X}`],
      ['a\u200d👍', `a${X}👍`], // no pictograph before
      ['👍\u200da', `👍${X}a`], // no pictograph after
      ['👍\u200d', `👍${X}`],
      ['👨\u{e007a}\u200d👨', `👨${X}${X}👨`], // a stray tag between: the joiner joins nothing
      ['👨\u200b\u200d👨', `👨${X}${X}👨`], // likewise a zero-width space
      ['👨\u200d\u200d👩', `👨${X}${X}👩`], // a doubled joiner joins nothing
      ['क\u094d\u200dष', `क\u094d${X}ष`], // outside emoji, scripts see it too (as specified)
    ];
    for (const [input, expected] of cases) expect(stripControls(input), JSON.stringify(input)).toBe(expected);
    expect(revealInvisible('plain')).toBe('plain');
  });

  it('shows every invisible format character (Unicode Cf) and keeps what follows it', () => {
    let checked = 0;
    for (let cp = 0; cp <= 0x10ffff; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      const ch = String.fromCodePoint(cp);
      if (!/\p{Cf}/u.test(ch)) continue;
      checked++;
      const expected = cp === 0xad ? 'ab-after' : `a${X}b-after`; // the soft hyphen is dropped
      expect(stripControls(`a${ch}b-after`), cp.toString(16)).toBe(expected);
    }
    expect(checked).toBeGreaterThan(150);
    for (const ch of ['\u200b', '\u2060', '\ufeff', '\u180e', '\u00ad', '\u{e0041}']) expect(/\p{Cf}/u.test(ch)).toBe(true);
  });

  it('keeps emoji tag sequences (subdivision flags) and shows stray tag characters', () => {
    const scotland = '\u{1f3f4}\u{e0067}\u{e0062}\u{e0073}\u{e0063}\u{e0074}\u{e007f}';
    expect(stripControls(`go ${scotland}!`)).toBe(`go ${scotland}!`);
    expect(stripControls('a\u{e0067}\u{e0062}\u{e007f}b')).toBe(`a${X}${X}${X}b`); // no black flag
    expect(stripControls('\u{1f3f4}\u{e0067}\u{e0062}b')).toBe(`\u{1f3f4}${X}${X}b`); // no cancel tag
    expect(stripControls('hidden\u{e0069}\u{e0067}\u{e006e}\u{e006f}\u{e0072}\u{e0065}')).toBe(`hidden${X.repeat(6)}`); // ASCII smuggling
  });

  it('keeps variation selectors, keycaps and skin tones', () => {
    for (const e of ['❤️', '1️⃣', '👍🏽', '🇫🇷', '☺︎']) expect(stripControls(e)).toBe(e);
  });

  it(`cuts a flood of combining marks to ${MAX_MARKS} per character and keeps the rest of the text`, () => {
    const zalgo = `Z${'\u0301\u0316\u0358'.repeat(200)}algo after`;
    const out = stripControls(zalgo);
    expect(out).toBe(`Z\u0301\u0316\u0358\u0301algo after`);
    expect(stripControls(`a${'\u093f'.repeat(50)}b`)).toBe(`a${'\u093f'.repeat(MAX_MARKS)}b`); // spacing marks too
    expect(stripControls(`${'\u0301'.repeat(9)}x`)).toBe(`${'\u0301'.repeat(MAX_MARKS)}x`);
    // ordinary text with marks is untouched
    for (const t of ['café', 'cafe\u0301', 'Việt Nam', 'e\u0323\u0302', 'हिन्दी', 'स्त्री', 'བོད་ཡིག']) expect(stripControls(t)).toBe(t);
  });

  it('never leaves a control, line break or stray invisible character in random input', () => {
    const pick = (): string => {
      const r = Math.random();
      if (r < 0.6) return String.fromCharCode(Math.floor(Math.random() * 0x2100));
      if (r < 0.7) return String.fromCodePoint(0xe0000 + Math.floor(Math.random() * 0x80));
      if (r < 0.8) return ['\u200d', '👨', '\ufe0f', '\u{1f3f4}', '\u0301', '\r', '\n'][Math.floor(Math.random() * 7)]!;
      return String.fromCharCode(0xfe00 + Math.floor(Math.random() * 0x200));
    };
    for (let i = 0; i < 2000; i++) {
      let s = '';
      for (let j = 0; j < 30; j++) s += pick();
      const out = stripControls(s);
      expect(out).not.toMatch(/[\x00-\x1f\x7f-\x9f\u2028\u2029]/);
      // the only format characters left: joiners between pictographs (marks may sit on the first), a flag's tags
      const leftover = out
        .replace(/\p{Extended_Pictographic}[\p{M}\p{Emoji_Modifier}]*\u200d(?=\p{Extended_Pictographic})/gu, '')
        .replace(/\u{1f3f4}[\u{e0020}-\u{e007e}]+\u{e007f}/gu, '');
      expect(leftover, JSON.stringify(s)).not.toMatch(/\p{Cf}/u);
      expect(out).not.toMatch(/\p{M}{5}/u);
      expect(stripControls(out)).toBe(out); // idempotent
    }
  });
});

describe('bodyLines', () => {
  it('splits a message body at LF, CRLF and the Unicode separators, never at a lone CR', () => {
    expect(bodyLines('a\nb\r\nc\rd\u2028e\u2029f')).toEqual(['a', 'b', 'cd', 'e', 'f']);
  });
  it('cleans every line like a single-line field', () => {
    const lines = bodyLines('ok\x1b[2J\n\x1b]0;t\x07*** system\u200b forged\n\u202e<bob> hi');
    expect(lines).toEqual(['ok', `*** system${X} forged`, `${X}<bob> hi`]);
    for (const l of lines) expect(l).not.toMatch(/[\x00-\x1f\x7f-\x9f]/);
  });
  it('measures what it returns: marks and shown invisibles count as the terminal draws them', () => {
    expect(displayWidth(stripControls('a\u200bb'))).toBe(3);
    expect(displayWidth(stripControls(`a${'\u0301'.repeat(50)}`))).toBe(1);
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
