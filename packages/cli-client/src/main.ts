// `hush`'s program (cli.js loads it): flags/env/config fill the login form; the app does the rest.
import { readFileSync } from 'node:fs';
import { defaultDownloadsDir, defaultPaths } from '@hush/client';
import { startApp } from './app.js';
import { REMEMBERED_FILE, resolveLogin, USAGE, UsageError } from './config.js';
import { sdkConnector } from './connect.js';
import { fileDirectList, pinnedAddresses } from './direct-list.js';
import { readIfExists, writePrivateJson } from './private-file.js';
import { terminalFor } from './view/screen.js';

// The package's own version (package.json is one level above src/ and dist/, this module's chunk included), so a release bump shows.
const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

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
    process.stdout.write(`${USAGE.replaceAll('<config dir>', paths.configDir)}\n`);
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
    terminal: terminalFor(process.env),
    defaults: resolved.defaults,
    connect: sdkConnector(paths),
    downloadsDir: defaultDownloadsDir(),
    remembered: resolved.remembered,
    remember: (r) => writePrivateJson(paths.configDir, REMEMBERED_FILE, r),
    directs: fileDirectList(paths.dataDir, pinnedAddresses(paths.configDir)),
  });
  for (const sig of ['SIGTERM', 'SIGHUP'] as const) process.once(sig, () => app.quit());
  return app.exited;
}

export function run(): void {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`hush: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
