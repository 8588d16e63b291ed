import { describe, expect, it } from 'vitest';
import { byteCount, formatSize } from '../src/index.js';

describe('formatSize', () => {
  it('says sizes in binary units, with a decimal only where it tells something', () => {
    expect(formatSize(0)).toBe('0 B');
    expect(formatSize(512)).toBe('512 B');
    expect(formatSize(1023)).toBe('1023 B');
    expect(formatSize(1024)).toBe('1 KiB');
    expect(formatSize(1536)).toBe('1.5 KiB');
    expect(formatSize(300_000)).toBe('293 KiB');
    expect(formatSize(10 * 1024 * 1024)).toBe('10 MiB');
    expect(formatSize(10 * 1024 * 1024 + 1)).toBe('10 MiB');
    expect(formatSize(1.25 * 1024 ** 3)).toBe('1.3 GiB');
    expect(formatSize(5 * 1024 ** 4)).toBe('5 TiB');
    expect(formatSize(3 * 1024 ** 5)).toBe('3072 TiB');
  });

  it('counts exact bytes in words, singular for one', () => {
    expect(byteCount(0)).toBe('0 bytes');
    expect(byteCount(1)).toBe('1 byte');
    expect(byteCount(10485761)).toBe('10485761 bytes');
  });
});
