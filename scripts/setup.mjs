#!/usr/bin/env node
// One setup command for a fresh machine: installs the pinned pnpm (if missing or a different
// version), then every dependency, then builds. Works wherever Node >= 20 and npm exist.
// In CI (CI set) dependencies come from pnpm-lock.yaml exactly; a stale lockfile stops the setup.
import { execSync, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { withNodeHeaders } from './native-build-env.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pin = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).packageManager.split('@')[1];
const shell = process.platform === 'win32';

function run(cmd, args, env = process.env) {
  console.log(`> ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env, shell });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

let current = '';
try {
  current = execSync('pnpm --version', { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
} catch {}
if (current !== pin) run('npm', ['install', '-g', `pnpm@${pin}`]);

/** Runs pnpm install, echoing its output; resolves with its exit code and whether it found the lockfile stale. */
function install(args, env) {
  console.log(`> pnpm ${args.join(' ')}`);
  return new Promise((resolve) => {
    const child = spawn('pnpm', args, { cwd: root, stdio: ['inherit', 'pipe', 'pipe'], env, shell });
    let stale = false;
    for (const [from, to] of [
      [child.stdout, process.stdout],
      [child.stderr, process.stderr],
    ]) {
      let tail = ''; // the code may straddle two chunks
      from.on('data', (chunk) => {
        to.write(chunk);
        const text = tail + String(chunk);
        if (text.includes('ERR_PNPM_OUTDATED_LOCKFILE')) stale = true;
        tail = text.slice(-32);
      });
    }
    child.on('close', (code) => resolve({ code: code ?? 1, stale }));
  });
}

const env = withNodeHeaders({ ...process.env, TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1' });
const ci = !['', '0', 'false'].includes(process.env.CI ?? '');
// CI installs exactly the committed lockfile; elsewhere pnpm may bring it up to date.
const result = await install(['install', ci ? '--frozen-lockfile' : '--frozen-lockfile=false'], env);
if (result.stale) {
  console.error('setup: pnpm-lock.yaml does not match the package.json files: run `pnpm install` and commit pnpm-lock.yaml');
}
if (result.code !== 0) process.exit(result.code);
run('pnpm', ['run', 'build'], env);
