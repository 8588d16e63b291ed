// makeDirs: each missing directory made on its own (Node 20's recursive mkdir spins forever where
// the kernel refuses a level with ENOENT, under /proc), owner-only, and errors said as errors.
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeDirs } from '../src/make-dirs.js';

let root = '';
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('makeDirs', () => {
  it('makes every missing level owner-only and leaves an existing directory alone', () => {
    root = mkdtempSync(join(tmpdir(), 'hush-make-dirs-'));
    const deep = join(root, 'a', 'b', 'c');
    makeDirs(deep);
    for (const dir of [join(root, 'a'), join(root, 'a', 'b'), deep]) {
      expect(statSync(dir).isDirectory()).toBe(true);
      if (process.platform !== 'win32') expect(statSync(dir).mode & 0o777).toBe(0o700);
    }
    makeDirs(deep); // again: nothing to do
    makeDirs(root);
  });

  it('refuses a file in the way, naming it', () => {
    root = mkdtempSync(join(tmpdir(), 'hush-make-dirs-'));
    const file = join(root, 'file');
    writeFileSync(file, 'x');
    expect(() => makeDirs(join(file, 'below'))).toThrow(expect.objectContaining({ code: 'EEXIST', path: file }));
    expect(() => makeDirs(file)).toThrow(expect.objectContaining({ code: 'EEXIST' }));
  });

  it.runIf(process.platform === 'linux')('fails at once where the file system makes no directories (/proc)', () => {
    root = mkdtempSync(join(tmpdir(), 'hush-make-dirs-')); // nothing made there; cleaned all the same
    expect(() => makeDirs(`/proc/hush-test-${process.pid}/a`)).toThrow(expect.objectContaining({ code: 'ENOENT', syscall: 'mkdir' }));
  });
});
