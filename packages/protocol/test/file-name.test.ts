import { describe, expect, it } from 'vitest';
import { fileNameProblem } from '../src/index.js';

describe('fileNameProblem', () => {
  it('accepts ordinary names, Unicode and emoji included', () => {
    for (const name of ['notes.txt', '.bashrc', 'a..b', 'résumé 2026.pdf', '日本語.md', '👩‍💻 report.txt', 'x'.repeat(255)]) {
      expect(fileNameProblem(name), name).toBeUndefined();
    }
  });

  it('refuses names a receiver could not save under, in words', () => {
    const cases: [string, RegExp][] = [
      ['', /empty/],
      ['   ', /empty/],
      ['\t', /empty/],
      ['.', /dots/],
      ['..', /dots/],
      [' ... ', /dots/],
      ['a/b', /\//],
      ['../etc/passwd', /\//],
      ['a\\b', /\\/],
      ['/', /\//],
      ['a\nb', /control/],
      ['a\u0000b', /control/],
      ['a\u001bb', /control/],
      ['a\u007fb', /control/],
      ['evil\u202Etxt.exe', /direction/],
      ['a\u2066b', /direction/],
      ['\ud800x', /control/],
    ];
    for (const [name, why] of cases) expect(fileNameProblem(name), JSON.stringify(name)).toMatch(why);
  });
});
