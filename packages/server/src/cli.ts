#!/usr/bin/env node
// `hushd`: run the server, or administer its data directory offline. Process I/O lives here only.
import { readFileSync } from 'node:fs';
import { ADMIN_COMMANDS, parseAdminArgs, runAdmin, type AdminIO } from './admin.js';
import { OPTIONS, resolveConfig, type HushdConfig } from './config.js';
import { ConfigError, UsageError } from './errors.js';
import { startDaemon, type Daemon } from './daemon.js';
import { listenFailureText, storeFailureText } from './failure-words.js';
import { createLogger } from './logger.js';
import { dataPaths } from './paths.js';
import { tuneRuntime } from './runtime.js';

// The package's own version (package.json is one level above src/ and dist/), so a release bump shows.
const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export function helpText(): string {
  const flagWidth = Math.max(...OPTIONS.map((o) => `--${o.flag} ${o.arg}`.length));
  const flags = OPTIONS.map(
    (o) => `  ${`--${o.flag} ${o.arg}`.padEnd(flagWidth)}  ${o.help}\n  ${' '.repeat(flagWidth)}  env ${o.env}`,
  ).join('\n');
  return `hushd ${VERSION}: the Hush chat server

Usage:
  hushd [options]                         start the server (default 127.0.0.1:5555)
  hushd fingerprint [--all|--json] [options]
                                          print the server's identity fingerprint, one line
                                          (creating the key beside a hush.db with no account);
                                          --all adds the short form to read aloud, --json
                                          prints both as JSON
  hushd user add <name> [--admin] [--password-stdin]
                                          create an account (password prompted without echo,
                                          or read from stdin with --password-stdin or when piped)
  hushd user passwd <name> [--password-stdin]
                                          set a new password
  hushd user role <name> admin|user       set the server role (a running hushd applies it
                                          within a second)
  hushd user list                         list accounts and active bans
  hushd user devices <name>               list an account's devices (id, created, last seen)
  hushd user remove-device <name> <id>|all
                                          remove a device (a lost laptop): a running hushd
                                          closes its connections and tells the contacts
  hushd ban <name> | --address ADDR [--reason TEXT] [--seconds N]
                                          ban an account or an IP address (forever unless --seconds);
                                          a running hushd closes its connections within a second
  hushd unban <name> | --address ADDR     lift a ban
  hushd invite create                     print a new single-use invite code
  hushd migrate                           bring the store's schema up to date and exit
  hushd backup DIR                        copy hush.db (consistent, while hushd runs), identity.key
                                          and hushd.json into DIR, a new or empty directory
  hushd import --store postgres://...     copy the data directory's hush.db into an empty
                                          PostgreSQL database (see docs/cluster.md)
  hushd --help | --version

Options (flags > HUSH_* environment > config file > defaults):
${flags}

Admin commands take the same options (--data-dir, --store, --config, ...) to find the store:
with --store postgres://..., they work on that database (beside running nodes) instead of hush.db.
They never create a server: a data directory without hush.db is refused (start hushd there once).
Durations: 500ms, 30s, 5m, 12h, 7d. Sizes: 65536, 512K, 10M.

Config file: JSON with any of host, port, dataDir, logLevel, registration, minPasswordLength,
defaultRoom, openRooms (a list of room names), maxFileSize, fileRetentionMs, retentionMs
(null = forever), metricsHost, metricsPort (null = off), shutdownTimeoutMs, scryptN, store (a
postgres:// URL, or "sqlite"), bus (a list of nats:// URLs, or "local"), busCa, and "limits": { handshakeTimeoutMs, authTimeoutMs,
idleTimeoutMs, heartbeatMs, handshakeMaxFrameSize, maxFrameSize, messagesPerSecond, messageBurst,
signalsPerSecond, signalBurst, bytesPerSecond, byteBurst, fileBytesPerSecond, fileByteBurst,
maxConnectionsPerAddress, maxConnections, maxQueueBytes, typingIntervalMs }.

Data directory: hush.db (SQLite, WAL), identity.key (server private key), hushd.json, hushd.lock
(one hushd per directory on SQLite; admin commands work beside it). hushd creates every file
owner-only (it runs with umask 077).
Logs: JSON lines on stdout. Signals: SIGTERM/SIGINT shut down gracefully (a second one forces exit);
SIGHUP reloads the config file (limits, logLevel, registration, minPasswordLength, maxFileSize,
retention, fileRetention... without dropping a connection; other keys need a restart).
`;
}

async function main(argv: string[]): Promise<number> {
  dropUnwritableOutput();
  // Every file hushd or SQLite creates is owner-only, whatever umask it was started under: the
  // database and its -wal and -shm files hold password hashes and messages.
  process.umask(0o077);
  if (argv.includes('--help') || argv.includes('-h') || argv[0] === 'help') {
    process.stdout.write(helpText());
    return 0;
  }
  if (argv.includes('--version')) {
    process.stdout.write(`hushd ${VERSION}\n`);
    return 0;
  }
  const first = argv[0];
  if (first !== undefined && (ADMIN_COMMANDS as readonly string[]).includes(first)) {
    const { command, configArgv } = parseAdminArgs(argv);
    const config = resolveConfig({ argv: configArgv, env: process.env });
    return runAdmin(command, config, terminalIO());
  }
  const config = resolveConfig({ argv, env: process.env });
  return serve(config, () => resolveConfig({ argv, env: process.env }));
}

/**
 * Output nobody reads any more (`hushd fingerprint | head -1`, a log reader that went away) is
 * dropped: the command goes on and ends as it would have, a daemon keeps serving, and no stack
 * trace is printed.
 */
function dropUnwritableOutput(): void {
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
}

async function serve(config: HushdConfig, reread: () => HushdConfig): Promise<number> {
  const v8Flags = tuneRuntime();
  const logger = createLogger({ level: config.logLevel });
  // The version that runs, which after an upgrade is not the one installed until a restart.
  logger.info('runtime', { hushd: VERSION, node: process.version, v8Flags });
  // Handlers go in before anything is printed: a supervisor that signals as soon as it sees the
  // "listening" line must get a graceful stop, never the default kill.
  let requested: NodeJS.Signals | undefined;
  let onRequest: ((signal: NodeJS.Signals) => void) | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (requested) {
      logger.warn('forced_exit', { signal });
      process.exit(1);
    }
    requested = signal;
    logger.info('signal', { signal });
    // Hard deadline: the graceful path is bounded too, this is the backstop.
    const force = setTimeout(() => {
      logger.error('shutdown_timeout', { ms: config.shutdownTimeoutMs });
      process.exit(1);
    }, config.shutdownTimeoutMs + 1000);
    force.unref();
    onRequest?.(signal);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  // Windows has no SIGTERM to give: Ctrl+Break stops gracefully, and SIGHUP there means the console
  // window is closing (the process ends seconds later), so it stops too rather than reloading.
  process.on('SIGBREAK', onSignal);

  let daemon: Daemon | undefined;
  let reloadWhenStarted = false;
  const reload = () => {
    if (requested) return;
    if (!daemon) {
      reloadWhenStarted = true; // the file may have changed after it was read for the start
      return;
    }
    let next: HushdConfig;
    try {
      next = reread();
    } catch (err) {
      logger.error('config_reload_failed', { error: err });
      return;
    }
    daemon.reload(next);
  };
  process.on('SIGHUP', () => {
    if (process.platform === 'win32') return onSignal('SIGHUP');
    logger.info('signal', { signal: 'SIGHUP' });
    reload();
  });

  try {
    daemon = await startDaemon(config, { logger });
  } catch (err) {
    logger.error('start_failed', { error: err });
    const words = listenFailureText(err, config) ?? storeFailureText(err, dataPaths(config.dataDir).database) ?? (err as Error).message;
    process.stderr.write(`hushd: cannot start: ${words}\n`);
    return 1;
  }
  process.stderr.write(
    `hushd listening on ${daemon.host}:${daemon.port}\nserver fingerprint: ${daemon.fingerprint}\n` +
      `data directory: ${config.dataDir}\n${config.store === null ? '' : `store: PostgreSQL, bus: ${config.bus === null ? 'none (this node alone)' : 'NATS'}\n`}`,
  );
  if (reloadWhenStarted) reload();
  const running = daemon;
  const code = await new Promise<number>((resolve) => {
    onRequest = (signal) => {
      running.shutdown(signal).then(
        () => resolve(0),
        (err: unknown) => {
          logger.error('shutdown_failed', { error: err });
          resolve(1);
        },
      );
    };
    if (requested) onRequest(requested); // signalled while starting
  });
  // Exit even if a stray handle lingers, but only after stdout/stderr have drained.
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
  return code;
}

function terminalIO(): AdminIO {
  return {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    readPassword: async (prompt, { confirm, fromStdin }) => {
      if (fromStdin || !process.stdin.isTTY) return readLineFromStdin();
      const first = await promptHidden(prompt);
      if (confirm) {
        const again = await promptHidden('Retype password: ');
        if (again !== first) throw new Error('the two passwords differ: nothing changed');
      }
      return first;
    },
  };
}

/** The first line of stdin (without its line ending). */
async function readLineFromStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    chunks.push(buf);
    size += buf.length;
    if (buf.includes(0x0a) || size > 4096) break;
  }
  const text = Buffer.concat(chunks).toString('utf8');
  return text.split(/\r?\n/)[0] ?? '';
}

/** Prompts on the terminal with echo off (raw mode), handling backspace and Ctrl-C. */
function promptHidden(prompt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stderr.write(prompt);
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding('utf8');
    let value = '';
    const done = (err?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (data: string) => {
      for (const ch of data) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003' || ch === '\u0004') return done(new Error('cancelled: nothing changed'));
        if (ch === '\u007f' || ch === '\b') value = Array.from(value).slice(0, -1).join('');
        else if (ch >= ' ') value += ch;
      }
    };
    stdin.on('data', onData);
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof ConfigError || err instanceof UsageError) {
      const hint = err.message.includes('hushd --help') ? '' : ' (see hushd --help)';
      process.stderr.write(`hushd: ${err.message}${hint}\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`hushd: ${(err as Error).message ?? String(err)}\n`);
      process.exitCode = 1;
    }
  },
);
