// The README's Notices table names every notice code the SDK emits, so a bot author finds them in one place.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const src = new URL('../src/', import.meta.url);
const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('README: Notices', () => {
  it('has a row for every notice code the sources emit ({ level, code } objects)', () => {
    const sources = readdirSync(src)
      .filter((f) => f.endsWith('.ts'))
      .map((f) => readFileSync(new URL(f, src), 'utf8'))
      .join('\n');
    const codes = new Set([...sources.matchAll(/level: '(?:info|warn)',\s*code: '([A-Z0-9_]+)'/g)].map((m) => m[1]!));
    expect(codes.size).toBeGreaterThan(10);
    const table = readme.slice(readme.indexOf('## Notices'));
    const rows = table.split('\n').filter((line) => line.startsWith('| `'));
    expect([...codes].filter((code) => !rows.some((row) => row.split('|')[1]!.includes(`\`${code}\``)))).toEqual([]);
  });
});
