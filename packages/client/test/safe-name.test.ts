import { describe, expect, it } from 'vitest';
import { fileSafe } from '../src/paths.js';
import { numberedName, safeFileName } from '../src/safe-name.js';

describe('safeFileName', () => {
  it.each([
    ['../../.bashrc', 'bashrc'],
    ['/etc/passwd', 'passwd'],
    ['..\\..\\x', 'x'],
    ['', 'file'],
    ['.', 'file'],
    ['..', 'file'],
    ['   ', 'file'],
    ['a\u0000b\u001b[31mc\u009b', 'ab[31mc'],
    ['evil\u202Etxt.exe', 'eviltxt.exe'],
    ['zero\u200bwidth.txt', 'zerowidth.txt'],
    ['CON', '_CON'],
    ['PRN .txt', '_PRN .txt'],
    ['NUL  .tar.gz', '_NUL  .tar.gz'],
    ['COM¹', '_COM¹'],
    ['lpt².txt', '_lpt².txt'],
    ['nul.txt', '_nul.txt'],
    ['a<b>c:d"e|f?g*h', 'a_b_c_d_e_f_g_h'],
    ['report.pdf', 'report.pdf'],
    ['日本語.txt', '日本語.txt'],
  ])('%j -> %j', (input, expected) => {
    const out = safeFileName(input);
    expect(out).toBe(expected);
    expect(out).not.toMatch(/[/\\]/);
  });

  it('bounds the length', () => {
    expect(Buffer.byteLength(safeFileName('x'.repeat(1000)))).toBeLessThanOrEqual(200);
  });

  it('keeps the extension of a long name and cuts the stem', () => {
    const out = safeFileName(`${'a'.repeat(240)}.txt`);
    expect(out).toBe(`${'a'.repeat(196)}.txt`);
    expect(Buffer.byteLength(out)).toBe(200);
  });

  it('cuts whole characters, never inside a surrogate pair or an emoji sequence', () => {
    const out = safeFileName(`${'😄'.repeat(80)}.png`);
    expect(out).toBe(`${'😄'.repeat(49)}.png`);
    expect(out).not.toMatch(/\uFFFD/);
    expect(out).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
    const flag = '🇫🇷'; // one character of two code points, 8 bytes
    const cut = safeFileName(`${flag.repeat(30)}.jpg`);
    expect(cut).toBe(`${flag.repeat(24)}.jpg`);
    const accents = safeFileName(`${'e\u0301'.repeat(100)}.txt`); // NFC makes each one é (2 bytes)
    expect(accents).toBe(`${'é'.repeat(98)}.txt`);
  });

  it('treats a long ending as part of the name, not an extension', () => {
    const out = safeFileName(`x.${'y'.repeat(300)}`);
    expect(out).toBe(`x.${'y'.repeat(198)}`);
  });

  it('numbers duplicates before the extension', () => {
    expect(numberedName('a.txt', 0)).toBe('a.txt');
    expect(numberedName('a.txt', 2)).toBe('a (2).txt');
    expect(numberedName('noext', 1)).toBe('noext (1)');
  });
});

describe('fileSafe (user and host names in the data directory)', () => {
  it('keeps a name to letters, digits, dot, dash and underscore', () => {
    expect(fileSafe('127.0.0.1:7070')).toBe('127.0.0.1_7070');
    expect(fileSafe('alice', 'linux')).toBe('alice');
  });
  it('gives a Windows device name (a valid username) a _ in front on Windows only, where it would name the device', () => {
    for (const name of ['nul', 'CON', 'aux', 'com1', 'lpt9', 'prn']) {
      expect(fileSafe(name, 'win32')).toBe(`_${name}`);
      expect(fileSafe(name, 'linux')).toBe(name); // files kept elsewhere keep their names
      expect(fileSafe(name, 'darwin')).toBe(name);
    }
    expect(fileSafe('nullable', 'win32')).toBe('nullable');
    expect(fileSafe('console', 'win32')).toBe('console');
  });
});
