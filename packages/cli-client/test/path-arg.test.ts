import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pathArg } from '../src/path-arg.js';

const HOME = '/home/me';

describe('pathArg: a path as typed or dropped from a file manager', () => {
  it('takes ~ as the home folder, trims, and resolves', () => {
    expect(pathArg('  ~/Downloads ', HOME, 'linux')).toBe('/home/me/Downloads');
    expect(pathArg('~', HOME, 'linux')).toBe('/home/me');
    expect(pathArg('/tmp/a/../b', HOME, 'linux')).toBe('/tmp/b');
  });

  it('takes off one pair of quotes around a dropped path; inside them every character is itself', () => {
    expect(pathArg("'/home/me/My File.pdf' ", HOME, 'linux')).toBe('/home/me/My File.pdf');
    expect(pathArg('"/home/me/My File.pdf"', HOME, 'linux')).toBe('/home/me/My File.pdf');
    expect(pathArg("'/tmp/a\\b'", HOME, 'linux')).toBe('/tmp/a\\b');
    expect(pathArg("'/tmp/it's'", HOME, 'linux')).toBe("/tmp/it's");
    expect(pathArg('\'/tmp/half"', HOME, 'linux')).toBe(resolve('\'/tmp/half"')); // not a pair: kept
  });

  it('unquoted, a backslash makes the next character itself', () => {
    expect(pathArg('/home/me/My\\ File.pdf', HOME, 'linux')).toBe('/home/me/My File.pdf');
    expect(pathArg('/tmp/a\\\\b', HOME, 'linux')).toBe('/tmp/a\\b');
  });

  it('on Windows a backslash separates folders and a quoted path is unquoted', () => {
    expect(pathArg('"dir\\My File.pdf"', HOME, 'win32')).toBe(resolve('dir\\My File.pdf'));
    expect(pathArg('dir\\a.txt', HOME, 'win32')).toBe(resolve('dir\\a.txt'));
  });
});
