// Every publishable package ships the project's MIT LICENSE in its tarball (packed with pnpm, as
// for publishing); hushd's tarball also ships its systemd unit.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const license = readFileSync(join(root, 'LICENSE'), 'utf8');
const publishable = readdirSync(join(root, 'packages'))
  .map((name) => join(root, 'packages', name))
  .filter((dir) => existsSync(join(dir, 'package.json')))
  .filter((dir) => (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { private?: boolean }).private !== true);

const out = mkdtempSync(join(tmpdir(), 'hush-pack-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** Packs `dir` with pnpm into its own folder and unpacks it; returns the unpacked package folder. */
function packAndUnpack(dir: string): string {
  const dest = mkdtempSync(join(out, 'pkg-'));
  const pack = spawnSync('pnpm', ['pack', '--pack-destination', dest], { cwd: dir, encoding: 'utf8', shell: process.platform === 'win32' });
  if (pack.status !== 0) throw new Error(`pnpm pack failed in ${dir}: ${pack.stderr}`);
  const tarball = readdirSync(dest).find((f) => f.endsWith('.tgz'));
  if (!tarball) throw new Error(`no tarball from pnpm pack in ${dir}`);
  const untar = spawnSync('tar', ['xzf', tarball], { cwd: dest, encoding: 'utf8' });
  if (untar.status !== 0) throw new Error(`tar failed: ${untar.stderr}`);
  return join(dest, 'package');
}

describe('LICENSE', () => {
  it('is MIT, copyright the Hush authors', () => {
    expect(license.split('\n').slice(0, 3)).toEqual(['MIT License', '', 'Copyright (c) 2026 The Hush authors']);
  });

  it('the publishable packages are the five libraries and apps', () => {
    expect(publishable.map((d) => d.split(/[/\\]/).at(-1)).sort()).toEqual(['cli-client', 'client', 'crypto', 'protocol', 'server']);
  });

  for (const dir of publishable) {
    const name = dir.split(/[/\\]/).at(-1)!;
    it(`is in the ${name} tarball, the same text, and the package says MIT`, () => {
      const unpacked = packAndUnpack(dir);
      expect(readFileSync(join(unpacked, 'LICENSE'), 'utf8')).toBe(license);
      expect((JSON.parse(readFileSync(join(unpacked, 'package.json'), 'utf8')) as { license?: string }).license).toBe('MIT');
      if (name === 'server') expect(existsSync(join(unpacked, 'contrib', 'systemd', 'hushd.service'))).toBe(true);
    }, 60_000);
  }
});
