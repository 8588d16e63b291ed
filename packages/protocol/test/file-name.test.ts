import { describe, expect, it } from 'vitest';
import { fileNameProblem } from '../src/index.js';

describe('fileNameProblem', () => {
  it('accepts ordinary names, Unicode and emoji included', () => {
    for (const name of ['notes.txt', '.bashrc', 'a..b', 'résumé 2026.pdf', '日本語.md', '👩‍💻 report.txt', 'x'.repeat(255)]) {
      expect(fileNameProblem(name), name).toBeUndefined();
    }
  });

  it.each([
    [/empty/, ['', '   ', '\t']],
    [/dots/, ['.', '..', ' ... ']],
    [/\//, ['a/b', '../etc/passwd', '/']],
    [/\\/, ['a\\b']],
    [/control/, ['a\nb', 'a\u0000b', 'a\u001bb', 'a\u007fb', '\ud800x']],
    [/direction/, ['evil\u202Etxt.exe', 'a\u2066b']],
  ])('refuses names a receiver could not save under, in words (%s)', (why, names) => {
    for (const name of names) expect(fileNameProblem(name), JSON.stringify(name)).toMatch(why);
  });
});
