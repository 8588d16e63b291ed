#!/usr/bin/env node
// `hush`: the terminal client. Flags/env/config fill the login form; the app does the rest.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultDownloadsDir, defaultPaths } from '@hush/client';
import { startApp } from './app.js';
import { REMEMBERED_FILE, resolveLogin, USAGE, UsageError, type Remembered } from './config.js';
import { sdkConnector } from './connect.js';

// The package's own version (package.json is one level above src/ and dist/), so a release bump shows.
const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Written whole and renamed into place, readable by the user only. */
function writeRemembered(configDir: string, r: Remembered): void {
  mkdirSync(configDir, { recursive: true, mode: 0o700 });
  const file = join(configDir, REMEMBERED_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(r, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, file);
}

async function main(): Promise<number> {
  // Output nobody reads any more (`hush --help | head -1`) is dropped, never a stack trace.
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
  const paths = defaultPaths();
  let resolved;
  try {
    resolved = resolveLogin({ argv: process.argv.slice(2), env: process.env, configDir: paths.configDir, readFile: readIfExists });
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`hush: ${err.message} (see hush --help)\n`);
      return 2;
    }
    throw err;
  }
  if (resolved.args.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (resolved.args.version) {
    process.stdout.write(`hush ${VERSION}\n`);
    return 0;
  }
  if (!process.stdin.isTTY || !process.stdout.isTTY) {
    process.stderr.write('hush: needs a terminal (use @hush/client for scripts)\n');
    return 1;
  }
  const app = startApp({
    input: process.stdin,
    output: process.stdout,
    errorOutput: process.stderr,
    terminal: process.env.TERM,
    defaults: resolved.defaults,
    connect: sdkConnector(paths),
    downloadsDir: defaultDownloadsDir(),
    remembered: resolved.remembered,
    remember: (r) => writeRemembered(paths.configDir, r),
  });
  for (const sig of ['SIGTERM', 'SIGHUP'] as const) process.once(sig, () => app.quit());
  return app.exited;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`hush: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
