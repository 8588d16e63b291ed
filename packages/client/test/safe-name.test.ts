import { describe, expect, it } from 'vitest';
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

  it('numbers duplicates before the extension', () => {
    expect(numberedName('a.txt', 0)).toBe('a.txt');
    expect(numberedName('a.txt', 2)).toBe('a (2).txt');
    expect(numberedName('noext', 1)).toBe('noext (1)');
  });
});
