#!/usr/bin/env node
// One setup command for a fresh machine: installs the pinned pnpm (if missing or a different
// version), then every dependency, then builds. Works wherever Node >= 20 and npm exist.
import { execSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pin = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).packageManager.split('@')[1];
const shell = process.platform === 'win32';

function run(cmd, args, env = process.env) {
  console.log(`> ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env, shell });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

let current = '';
try { current = execSync('pnpm --version', { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim(); } catch {}
if (current !== pin) run('npm', ['install', '-g', `pnpm@${pin}`]);

const env = { ...process.env, TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1' };
// better-sqlite3 compiles from source here; point node-gyp at the installed Node headers when
// they exist so it does not try to download them.
const prefix = dirname(dirname(process.execPath));
if (!env.npm_config_nodedir && existsSync(join(prefix, 'include', 'node', 'node.h'))) env.npm_config_nodedir = prefix;
run('pnpm', ['install', '--frozen-lockfile=false'], env);
run('pnpm', ['run', 'build'], env);
