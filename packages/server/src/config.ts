// hushd configuration: flags > HUSH_* environment > config file > defaults. One table (OPTIONS)
// drives parsing of all three sources and the --help text, so the help cannot drift from behaviour.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { z } from 'zod';
import { ConfigError } from './errors.js';
import { parseLogLevel, type LogLevel } from './logger.js';
import { CONFIG_FILE, defaultDataDir } from './paths.js';

export type RegistrationMode = 'open' | 'closed' | 'invite';

export interface Limits {
  handshakeTimeoutMs: number;
  authTimeoutMs: number;
  idleTimeoutMs: number;
  heartbeatMs: number;
  handshakeMaxFrameSize: number;
  maxFrameSize: number;
  /** Requests per second and at once (everything but pings, pongs, file chunks and signals). */
  messagesPerSecond: number;
  messageBurst: number;
  /** Signals (typing, read markers) per second and at once: a budget of their own. */
  signalsPerSecond: number;
  signalBurst: number;
  /** Received bytes per second and at once, file chunks excepted. */
  bytesPerSecond: number;
  byteBurst: number;
  /** Received file-chunk bytes per second and at once. */
  fileBytesPerSecond: number;
  fileByteBurst: number;
  maxConnectionsPerAddress: number;
  maxConnections: number;
  maxQueueBytes: number;
  typingIntervalMs: number;
}

export interface HushdConfig {
  host: string;
  port: number;
  dataDir: string;
  logLevel: LogLevel;
  registration: RegistrationMode;
  minPasswordLength: number;
  /** The room every user is in. */
  defaultRoom: string;
  /**
   * Rooms the server creates open (readable by the server) when they do not exist yet; every other
   * room is end-to-end encrypted. An existing encrypted room listed here stops the start.
   */
  openRooms: string[];
  maxFileSize: number;
  /** How long uploaded files are kept. */
  fileRetentionMs: number;
  /** Message retention; null keeps messages forever. */
  retentionMs: number | null;
  metricsHost: string;
  /** null: no metrics server. */
  metricsPort: number | null;
  shutdownTimeoutMs: number;
  /**
   * Where hushd keeps everything: null for SQLite (hush.db in the data directory), or a PostgreSQL
   * URL (several nodes may share one database). The URL may hold a password: it is never logged.
   */
  store: string | null;
  /**
   * The bus between nodes: null for one node alone (in-process), or NATS server URLs
   * (nats://[user:pass@]host:4222, comma-separated). Credentials in them are never logged.
   */
  bus: string[] | null;
  /** CA file for TLS to NATS (tls:// URLs; the nats.js client checks the server's DNS name). */
  busCa: string | null;
  limits: Limits;
  /** scrypt cost for new password hashes (power of two). */
  scryptN: number;
}

const KiB = 1024;
const MiB = 1024 * KiB;
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  handshakeTimeoutMs: 10 * SECOND,
  authTimeoutMs: 60 * SECOND,
  idleTimeoutMs: 90 * SECOND,
  heartbeatMs: 30 * SECOND,
  handshakeMaxFrameSize: 4 * KiB,
  maxFrameSize: 256 * KiB,
  messagesPerSecond: 20,
  messageBurst: 60,
  signalsPerSecond: 10,
  signalBurst: 40,
  bytesPerSecond: 1 * MiB,
  byteBurst: 4 * MiB,
  fileBytesPerSecond: 16 * MiB,
  fileByteBurst: 32 * MiB,
  maxConnectionsPerAddress: 16,
  maxConnections: 2000,
  maxQueueBytes: 8 * MiB,
  typingIntervalMs: 3 * SECOND,
});

/** Defaults; `dataDir` is filled in by resolveConfig (platform data directory). */
export const DEFAULT_CONFIG: Readonly<HushdConfig> = Object.freeze({
  host: '127.0.0.1',
  port: 5555,
  dataDir: '',
  logLevel: 'info',
  registration: 'open',
  minPasswordLength: 8,
  defaultRoom: 'lobby',
  openRooms: [],
  maxFileSize: 10 * MiB,
  fileRetentionMs: 7 * DAY,
  retentionMs: null,
  metricsHost: '127.0.0.1',
  metricsPort: null,
  shutdownTimeoutMs: 5 * SECOND,
  store: null,
  bus: null,
  busCa: null,
  limits: DEFAULT_LIMITS,
  scryptN: 2 ** 17,
}) as Readonly<HushdConfig>;

// ---- value parsers: each takes text (flag/env) or a JSON value (file) and throws what was expected ----

/**
 * `json`: the value comes from the config file, where it must have its JSON type (a number is no
 * string, a list no comma-separated string); flags and environment variables are always text.
 * A parser throws `expected ...`; the caller names the key and adds what it got (describeValue).
 */
type Parser<T> = (raw: unknown, json?: boolean) => T;

/** The text of a value that must be a string, or what was `expected`. */
function text(raw: unknown, expected: string): string {
  if (typeof raw !== 'string') throw new Error(expected);
  return raw.trim();
}

/**
 * Parsers of whole numbers from `min` to `max`, taken from a JSON number as it is or from text by
 * `read` (NaN when the text is not one); in the config file, a string only when `wordsInFile` (a
 * duration or size in words). A bad value throws what was `expected`.
 */
const bounded =
  (read: (text: string) => number, expected: (min: number, max: number) => string, wordsInFile: boolean) =>
  (min: number, max: number): Parser<number> =>
  (raw, json = false) => {
    const want = `expected ${expected(min, max)}`;
    if (json && typeof raw === 'string' && !wordsInFile) throw new Error(`${want} (a JSON number, not a string)`);
    const n = typeof raw === 'number' ? raw : read(text(raw, want));
    if (!Number.isSafeInteger(n) || n < min || n > max) throw new Error(want);
    return n;
  };

const int = bounded(
  (s) => (/^-?\d+$/.test(s) ? Number(s) : NaN),
  (min, max) => `an integer from ${min} to ${max}`,
  false,
);

const UNITS: Record<string, number> = { ms: 1, s: SECOND, m: MINUTE, h: HOUR, d: DAY };
/** The largest unit that writes `ms` whole: 60000 is "1m". */
function durationWords(ms: number): string {
  for (const [unit, size] of [
    ['d', DAY],
    ['h', HOUR],
    ['m', MINUTE],
    ['s', SECOND],
  ] as const) {
    if (ms > 0 && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
/** "500ms", "30s", "5m", "12h", "7d", or a plain number of milliseconds. */
const duration = bounded(
  (s) => {
    const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(s);
    return m ? Math.round(Number(m[1]) * UNITS[m[2] ?? 'ms']!) : NaN;
  },
  (min, max) =>
    `a duration from ${durationWords(min)} to ${durationWords(max)}, such as 500ms, 30s, 5m, 12h or 7d (a bare number is milliseconds)`,
  true,
);

const SIZES: Record<string, number> = { '': 1, b: 1, k: KiB, kib: KiB, m: MiB, mib: MiB, g: 1024 * MiB, gib: 1024 * MiB };
/** The largest binary unit that writes `bytes` whole: 1048576 is "1M". */
function sizeWords(bytes: number): string {
  for (const [unit, size] of [
    ['G', 1024 * MiB],
    ['M', MiB],
    ['K', KiB],
  ] as const) {
    if (bytes > 0 && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return String(bytes);
}
/** "65536", "512K", "10M", "1G" (binary units). */
const size = bounded(
  (s) => {
    const m = /^(\d+)\s*([a-z]*)$/i.exec(s);
    const unit = m ? SIZES[(m[2] ?? '').toLowerCase()] : undefined;
    return m && unit !== undefined ? Number(m[1]) * unit : NaN;
  },
  (min, max) => `a size from ${sizeWords(min)} to ${sizeWords(max)}, such as 65536, 512K or 10M (bytes)`,
  true,
);

/** `inner`, or null for JSON null or `word` ("off", "forever", "none"). */
const nullable =
  <T>(inner: Parser<T>, word: string): Parser<T | null> =>
  (raw, json) => {
    if (raw === null || (typeof raw === 'string' && raw.trim().toLowerCase() === word)) return null;
    try {
      return inner(raw, json);
    } catch (err) {
      throw new Error(`${(err as Error).message}, or "${word}"${json ? ' or null' : ''}`);
    }
  };

const oneOf =
  <T extends string>(values: readonly T[]): Parser<T> =>
  (raw) => {
    const expected = `expected one of ${values.join(', ')}`;
    const v = text(raw, expected).toLowerCase();
    if (!(values as readonly string[]).includes(v)) throw new Error(expected);
    return v as T;
  };

const host: Parser<string> = (raw) => {
  const expected = 'expected a host name or IP address';
  const v = text(raw, expected);
  if (v.length === 0 || v.length > 255 || /\s/.test(v)) throw new Error(expected);
  return v;
};

const path: Parser<string> = (raw) => {
  const v = text(raw, 'expected a path');
  if (v.length === 0) throw new Error('expected a path');
  return v;
};

/** A PostgreSQL URL, or "sqlite" for the default (the data directory's hush.db). */
const storeUrl: Parser<string | null> = (raw) => {
  const expected = 'expected a postgres://user@host:port/database URL, or "sqlite"';
  const v = text(raw, expected);
  if (v.toLowerCase() === 'sqlite') return null;
  if (!/^postgres(ql)?:\/\/\S+$/.test(v)) throw new Error(expected);
  return v;
};

/** NATS URLs, "a:4222,b:4222" (flag, environment) or a list (config file); "local" for one node alone. */
const busUrls: Parser<string[] | null> = (raw, json) => {
  const expected = json
    ? 'expected a list of nats://host:4222 URLs, or "local"'
    : 'expected nats://host:4222 URLs, comma-separated, or "local"';
  if (raw === null || (typeof raw === 'string' && raw.trim().toLowerCase() === 'local')) return null;
  if (json && !Array.isArray(raw)) throw new Error(expected);
  const items = Array.isArray(raw) ? raw.map((item) => text(item, expected)) : text(raw, expected).split(',');
  const urls = items.map((item) => item.trim()).filter((item) => item.length > 0);
  if (urls.length === 0 || !urls.every((u) => /^(nats|tls):\/\/\S+$/.test(u))) throw new Error(expected);
  return urls;
};

const logLevel: Parser<LogLevel> = (raw) => {
  const expected = 'expected one of debug, info, warn, error, silent';
  const v = parseLogLevel(text(raw, expected));
  if (!v) throw new Error(expected);
  return v;
};

const ROOM_NAME = 'a room name: a-z 0-9 _ - (1..32)';
const roomName: Parser<string> = (raw) => {
  const v = text(raw, `expected ${ROOM_NAME}`);
  if (!/^[a-z0-9_-]{1,32}$/.test(v)) throw new Error(`expected ${ROOM_NAME}`);
  return v;
};

/** "announcements,help" (flag, environment) or ["announcements", "help"] (config file). */
const roomNames: Parser<string[]> = (raw, json) => {
  const expected = json ? `expected a list of room names (each ${ROOM_NAME})` : `expected room names, comma-separated (each ${ROOM_NAME})`;
  if (json && !Array.isArray(raw)) throw new Error(expected);
  const items = Array.isArray(raw) ? raw : text(raw, expected) === '' ? [] : text(raw, expected).split(',');
  return [...new Set(items.map((item) => roomName(item)))];
};

const powerOfTwo: Parser<number> = (raw, json) => {
  const expected = 'expected a power of two from 1024 to 1048576';
  let n: number;
  try {
    n = int(2 ** 10, 2 ** 20)(raw, json);
  } catch (err) {
    throw new Error((err as Error).message.replace(/^expected an integer from 1024 to 1048576/, expected));
  }
  if ((n & (n - 1)) !== 0) throw new Error(expected);
  return n;
};

/**
 * What a refused value was, for the error: numbers, booleans and null as they are, a string quoted
 * (cut to 64 characters, control characters escaped), lists and objects by kind. Nothing for a
 * key whose value may hold a password (`secret`).
 */
function describeValue(raw: unknown, secret: boolean): string {
  if (secret) return '';
  if (typeof raw === 'string') return `, got the string "${printable(raw)}"${raw.length > 64 ? ' (cut)' : ''}`;
  if (typeof raw === 'number' || typeof raw === 'boolean' || raw === null) return `, got ${String(raw)}`;
  return `, got ${Array.isArray(raw) ? 'a list' : 'an object'}`;
}

/** Keys whose values may hold a password (URLs with credentials): never repeated in an error. */
const SECRET_KEYS: ReadonlySet<string> = new Set(['store', 'bus']);

// ---- the option table ----

type TopKey = Exclude<keyof HushdConfig, 'limits'>;
type LimitKey = keyof Limits;

export interface OptionSpec {
  /** Command-line flag without the leading dashes. */
  flag: string;
  env: string;
  /** Where it lands: a top-level key, a limits key, or the config-file path itself. */
  target: { top: TopKey } | { limit: LimitKey } | { configFile: true };
  arg: string;
  help: string;
  parse: Parser<unknown>;
}

const opt = (flag: string, target: OptionSpec['target'], arg: string, help: string, parse: Parser<unknown>): OptionSpec => ({
  flag,
  env: `HUSH_${flag.toUpperCase().replace(/-/g, '_')}`,
  target,
  arg,
  help,
  parse,
});

export const OPTIONS: readonly OptionSpec[] = [
  opt('host', { top: 'host' }, 'ADDR', 'address to listen on (default 127.0.0.1; 0.0.0.0 or :: for all)', host),
  opt('port', { top: 'port' }, 'N', 'TCP port to listen on (default 5555; 0 picks a free port)', int(0, 65535)),
  opt('data-dir', { top: 'dataDir' }, 'DIR', 'data directory (default ~/.local/share/hush/server on Linux, see below)', path),
  opt('config', { configFile: true }, 'FILE', 'JSON config file (default <data-dir>/hushd.json if it exists)', path),
  opt('log-level', { top: 'logLevel' }, 'LEVEL', 'debug, info, warn, error or silent (default info)', logLevel),
  opt(
    'registration',
    { top: 'registration' },
    'MODE',
    'open, closed or invite (default open)',
    oneOf(['open', 'closed', 'invite'] as const),
  ),
  opt('min-password-length', { top: 'minPasswordLength' }, 'N', 'shortest password accepted at registration (default 8)', int(1, 1024)),
  opt('default-room', { top: 'defaultRoom' }, 'NAME', 'room every user is in (default lobby)', roomName),
  opt(
    'store',
    { top: 'store' },
    'URL',
    'postgres://user@host:port/db to keep everything in PostgreSQL, shared by several nodes (default sqlite: hush.db in the data directory)',
    storeUrl,
  ),
  opt(
    'bus',
    { top: 'bus' },
    'URLS',
    'nats://host:4222[,...]: the NATS bus between several nodes on one PostgreSQL store (default local: one node alone)',
    busUrls,
  ),
  opt('bus-ca', { top: 'busCa' }, 'FILE', 'CA certificate for TLS to NATS (tls://name:4222 URLs)', nullable(path, 'none')),
  opt(
    'open-rooms',
    { top: 'openRooms' },
    'NAMES',
    'rooms the server creates open, readable by the server, e.g. announcements,help (default none: every room is end-to-end encrypted)',
    roomNames,
  ),
  opt('max-file-size', { top: 'maxFileSize' }, 'SIZE', 'largest file accepted, e.g. 10M (default 10M)', size(1, 1024 * MiB)),
  opt(
    'retention',
    { top: 'retentionMs' },
    'DURATION',
    'delete messages older than this, e.g. 90d, or "forever" (default forever)',
    nullable(duration(MINUTE, 100 * 365 * DAY), 'forever'),
  ),
  opt(
    'file-retention',
    { top: 'fileRetentionMs' },
    'DURATION',
    'delete uploaded files older than this (default 7d)',
    duration(MINUTE, 100 * 365 * DAY),
  ),
  opt('metrics-host', { top: 'metricsHost' }, 'ADDR', 'address for the metrics/health HTTP server (default 127.0.0.1)', host),
  opt(
    'metrics-port',
    { top: 'metricsPort' },
    'N|off',
    'port for GET /metrics and /healthz; "off" disables (default off)',
    nullable(int(0, 65535), 'off'),
  ),
  opt(
    'shutdown-timeout',
    { top: 'shutdownTimeoutMs' },
    'DURATION',
    'longest graceful shutdown before exiting anyway (default 5s)',
    duration(0, 10 * MINUTE),
  ),
  opt(
    'scrypt-n',
    { top: 'scryptN' },
    'N',
    'scrypt cost for new password hashes, a power of two (default 131072; lower only for tests)',
    powerOfTwo,
  ),
  opt('max-connections', { limit: 'maxConnections' }, 'N', 'most simultaneous connections (default 2000)', int(1, 1_000_000)),
  opt(
    'max-connections-per-address',
    { limit: 'maxConnectionsPerAddress' },
    'N',
    'most simultaneous connections from one IP address (default 16)',
    int(1, 1_000_000),
  ),
];

/** Parsers for the "limits" object of the config file (every limit; only some have flags). */
const LIMIT_PARSERS: Record<LimitKey, Parser<number>> = {
  handshakeTimeoutMs: duration(100, 10 * MINUTE),
  authTimeoutMs: duration(100, HOUR),
  idleTimeoutMs: duration(1000, DAY),
  heartbeatMs: duration(100, HOUR),
  handshakeMaxFrameSize: size(256, MiB),
  maxFrameSize: size(1024, 64 * MiB),
  messagesPerSecond: int(1, 1_000_000),
  messageBurst: int(1, 1_000_000),
  signalsPerSecond: int(1, 1_000_000),
  signalBurst: int(1, 1_000_000),
  bytesPerSecond: size(1024, 1024 * MiB),
  byteBurst: size(1024, 1024 * MiB),
  fileBytesPerSecond: size(64 * KiB, 1024 * MiB),
  fileByteBurst: size(64 * KiB, 1024 * MiB),
  maxConnectionsPerAddress: int(1, 1_000_000),
  maxConnections: int(1, 1_000_000),
  maxQueueBytes: size(64 * KiB, 1024 * MiB),
  typingIntervalMs: duration(0, MINUTE),
};

const TOP_PARSERS: Record<TopKey, Parser<unknown>> = (() => {
  const out: Partial<Record<TopKey, Parser<unknown>>> = {};
  for (const o of OPTIONS) if ('top' in o.target) out[o.target.top] = o.parse;
  return out as Record<TopKey, Parser<unknown>>;
})();

// ---- sources ----

type Layer = { top: Partial<Record<TopKey, unknown>>; limits: Partial<Limits>; configFile?: string };

function apply(layer: Layer, spec: OptionSpec, raw: unknown, where: string): void {
  let value: unknown;
  try {
    value = spec.parse(raw);
  } catch (err) {
    throw new ConfigError(
      `${where}: ${(err as Error).message}${describeValue(raw, 'top' in spec.target && SECRET_KEYS.has(spec.target.top))}`,
    );
  }
  const t = spec.target;
  if ('top' in t) layer.top[t.top] = value;
  else if ('limit' in t) layer.limits[t.limit] = value as number;
  else layer.configFile = value as string;
}

/** `node:util.parseArgs` options for every configuration flag (each takes a value). */
export const CONFIG_FLAGS: Readonly<Record<string, { type: 'string' }>> = Object.fromEntries(
  OPTIONS.map((o) => [o.flag, { type: 'string' }]),
);

/**
 * `node:util.parseArgs` (strict), its errors rewritten as one line that names the flag: the CLI
 * prints that line, the `--help` hint, and exits 2.
 */
export function parseCommandLine(
  argv: readonly string[],
  options: ParseArgsConfig['options'],
  allowPositionals: boolean,
): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args: [...argv], options, strict: true, allowPositionals });
    return { values: values as Record<string, string | boolean | undefined>, positionals };
  } catch (err) {
    const e = err as Error & { code?: string };
    const quoted = printable(/'([^']*)'/.exec(e.message)?.[1] ?? '');
    const flag = /--[a-z0-9-]+/.exec(quoted)?.[0] ?? quoted;
    if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new ConfigError(`unknown option ${quoted} (see hushd --help)`);
    if (e.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') throw new ConfigError(`unexpected argument "${quoted}" (see hushd --help)`);
    if (e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      if (/does not take an argument/.test(e.message)) throw new ConfigError(`${flag} takes no value`);
      const arg = OPTIONS.find((o) => `--${o.flag}` === flag)?.arg;
      const hint = /ambiguous/.test(e.message) ? `; write ${flag}=VALUE for a value starting with "-"` : '';
      throw new ConfigError(`${flag} needs a value${arg ? ` (${arg})` : ''}${hint}`);
    }
    throw err;
  }
}

/** Parses `--flag value` / `--flag=value`; every argument must be a known flag. */
export function parseFlags(argv: readonly string[]): Layer {
  const layer: Layer = { top: {}, limits: {} };
  const { values } = parseCommandLine(argv, CONFIG_FLAGS, false);
  for (const spec of OPTIONS) {
    const value = values[spec.flag];
    if (value !== undefined) apply(layer, spec, value, `--${spec.flag}`);
  }
  return layer;
}

function fromEnv(env: NodeJS.ProcessEnv): Layer {
  const layer: Layer = { top: {}, limits: {} };
  for (const spec of OPTIONS) {
    const raw = env[spec.env];
    if (raw !== undefined && raw !== '') apply(layer, spec, raw, spec.env);
  }
  return layer;
}

/** A zod field that runs one of the value parsers above (shared with flags and environment) on a JSON value. */
const field = (parse: Parser<unknown>, secret: boolean) =>
  z.unknown().transform((raw, ctx) => {
    try {
      return parse(raw, true);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `${(err as Error).message}${describeValue(raw, secret)}` });
      return z.NEVER;
    }
  });

const fieldsOf = <K extends string>(parsers: Record<K, Parser<unknown>>) =>
  Object.fromEntries(
    Object.entries<Parser<unknown>>(parsers).map(([key, parse]) => [key, field(parse, SECRET_KEYS.has(key)).optional()]),
  ) as Record<K, z.ZodOptional<ReturnType<typeof field>>>;

/** The config file: every key optional, unknown keys refused (a typo must not pass silently). */
const FILE_SCHEMA = z.strictObject({
  ...fieldsOf(TOP_PARSERS),
  limits: z.strictObject(fieldsOf(LIMIT_PARSERS)).optional(),
});

/** One line naming the key, e.g. `limits.messageBurst: expected an integer from 1 to 1000000`. */
function describeIssue(issue: z.core.$ZodIssue): string {
  const at = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0] ?? '';
    const known = at === 'limits' ? Object.keys(LIMIT_PARSERS) : [...Object.keys(TOP_PARSERS), 'limits'];
    return `${at === 'limits' ? 'unknown limit' : 'unknown key'} "${printable(key)}" (${knownKeysHint(key, known)})`;
  }
  if (issue.code === 'invalid_type') return at === '' ? 'expected a JSON object' : `"${at}" must be an object`;
  return `${at}: ${issue.message}`;
}

/** JSON.parse's words with the line and column of its "at position N" (Node 20 gives only the offset). */
function jsonErrorWords(message: string, source: string): string {
  const at = /at position (\d+)(?! \(line)/.exec(message);
  if (!at) return message;
  const before = source.slice(0, Number(at[1]));
  const line = before.split('\n').length;
  const column = before.length - before.lastIndexOf('\n');
  return `${message} (line ${line} column ${column})`;
}

function fromFile(file: string): Layer {
  let json: unknown;
  let source = '';
  try {
    // A byte-order mark (Notepad writes one) is no JSON, but no reason to refuse the file either.
    source = readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
    json = JSON.parse(source);
  } catch (err) {
    throw new ConfigError(`config file ${file}: ${jsonErrorWords((err as Error).message, source)}`);
  }
  const parsed = FILE_SCHEMA.safeParse(json);
  if (!parsed.success) throw new ConfigError(`config file ${file}: ${describeIssue(parsed.error.issues[0]!)}`);
  const { limits, ...top } = parsed.data;
  const layer: Layer = { top: {}, limits: {} };
  for (const [key, value] of Object.entries(top)) if (value !== undefined) layer.top[key as TopKey] = value;
  for (const [key, value] of Object.entries(limits ?? {})) if (value !== undefined) layer.limits[key as LimitKey] = value as number;
  // A relative data directory is relative to the file, not to wherever hushd was started.
  if (typeof layer.top.dataDir === 'string') layer.top.dataDir = resolve(dirname(file), layer.top.dataDir);
  return layer;
}

/** `s` cut to 64 characters, quotes, controls and bidi or zero-width characters escaped: it goes to a terminal. */
function printable(s: string): string {
  return JSON.stringify(s.slice(0, 64))
    .slice(1, -1)
    .replace(/[\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** "did you mean ..." for a near miss (a typo), else the keys there are. */
function knownKeysHint(key: string, known: readonly string[]): string {
  const near = known.find((k) => editDistance(k.toLowerCase(), key.toLowerCase()) <= (key.length < 6 ? 1 : 2));
  return near ? `did you mean "${near}"?` : `known keys: ${known.join(', ')}`;
}

/** Edits (insert, delete, change, swap two neighbours) from `a` to `b`. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = d[i]!;
      row[j] = Math.min(d[i - 1]![j]! + 1, row[j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) row[j] = Math.min(row[j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * Builds the effective configuration: flags > HUSH_* environment > config file (--config, or
 * <dataDir>/hushd.json when present) > defaults. Throws ConfigError with a message for people.
 */
export function resolveConfig(input: { argv: string[]; env: NodeJS.ProcessEnv; platform?: NodeJS.Platform }): HushdConfig {
  const flags = parseFlags(input.argv);
  const env = fromEnv(input.env);
  // The data directory may come from the file too, but the default file lives in the data directory:
  // an explicit --config/HUSH_CONFIG is read first; otherwise <dataDir from flags/env/default>/hushd.json.
  const explicitFile = flags.configFile ?? env.configFile;
  let file: Layer = { top: {}, limits: {} };
  let fileName: string | undefined;
  if (explicitFile !== undefined) {
    fileName = resolve(explicitFile);
    if (!existsSync(fileName)) throw new ConfigError(`config file ${fileName} does not exist`);
    file = fromFile(fileName);
  } else {
    const dir = (flags.top.dataDir ?? env.top.dataDir ?? defaultDataDir()) as string;
    const candidate = resolve(dir, CONFIG_FILE);
    if (existsSync(candidate)) {
      fileName = candidate;
      file = fromFile(candidate);
      delete file.top.dataDir; // the file is already inside the data directory
    }
  }
  const top = { ...file.top, ...env.top, ...flags.top };
  const config: HushdConfig = {
    ...DEFAULT_CONFIG,
    ...(top as Partial<HushdConfig>),
    limits: { ...DEFAULT_LIMITS, ...file.limits, ...env.limits, ...flags.limits },
  };
  config.dataDir = resolve(config.dataDir || defaultDataDir());
  const { heartbeatMs, idleTimeoutMs } = config.limits;
  if (heartbeatMs >= idleTimeoutMs) {
    // Only the config file sets these two (no flag or variable does).
    throw new ConfigError(
      `${fileName === undefined ? '' : `config file ${fileName}: `}limits.heartbeatMs (${durationWords(heartbeatMs)}) must be shorter ` +
        `than limits.idleTimeoutMs (${durationWords(idleTimeoutMs)}): a connection would be closed as idle between two heartbeats`,
    );
  }
  // Both on one port: the metrics server's listen would fail as "in use", by hushd itself.
  if (config.metricsPort !== null && config.metricsPort !== 0 && config.metricsPort === config.port) {
    const sourceOf = (key: TopKey): string => {
      const spec = OPTIONS.find((o) => 'top' in o.target && o.target.top === key)!;
      if (flags.top[key] !== undefined) return `--${spec.flag}`;
      if (env.top[key] !== undefined) return spec.env;
      if (file.top[key] !== undefined) return `${key} in config file ${fileName}`;
      return `the default --${spec.flag}`;
    };
    throw new ConfigError(
      `${sourceOf('metricsPort')} (${config.metricsPort}) is the port hushd serves on (${sourceOf('port')}): give the metrics another one`,
    );
  }
  return config;
}
