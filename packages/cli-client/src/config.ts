// Login defaults from flags > environment > config file. Pure: file reading is injected.
import { isIP } from 'node:net';
import { join } from 'node:path';
import { parseArgs as parseCommandLine } from 'node:util';
import { z } from 'zod';
import { nearest } from './near-miss.js';

export interface LoginDefaults {
  host: string;
  port: number;
  /** The server's other addresses (the nodes of its cluster), tried when `host` fails or drops. */
  failover?: ServerAddress[];
  user: string;
  register: boolean;
  /** Out-of-band server fingerprint (SHA512:...) to trust on first contact. */
  fingerprint?: string;
  /** From HUSH_PASSWORD only; never from flags (they show in `ps`) nor from the config file. */
  password?: string;
  /** Invite code for registering on an invite-only server (--invite or HUSH_INVITE). */
  invite?: string;
  /** Log in without showing the form when user and password (or a device key) are known. */
  autoLogin: boolean;
  /** Said on the form: keys of the config file that hush does not know (a typo leaves a default). */
  notice?: string;
}

export interface FileConfig {
  host?: string;
  port?: number;
  user?: string;
  fingerprint?: string;
  bell?: boolean;
  /** Keys hush does not know, ignored. */
  unknown?: string[];
}

export const CONFIG_FILE = 'hush.json';
export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_PORT = 5555;

export class UsageError extends Error {
  readonly code = 'USAGE';
}

export const USAGE = `usage: hush [--host HOST[:PORT][,HOST[:PORT]...]] [--port PORT] [--user NAME] [--register] [--invite CODE]
            [--fingerprint SHA512:...] [--config FILE] [--login] [--help] [--version]

  The password is typed into the login form, or taken from $HUSH_PASSWORD.
  Several addresses (the nodes of one cluster, one identity key) are tried in turn when one fails.
  Defaults come from <config dir>/hush.json: {"host": "...", "port": 5555, "user": "...", "fingerprint": "...", "bell": true};
  without them, the server and username of the last login (<config dir>/remembered.json).`;

export interface ParsedArgs {
  host?: string;
  port?: number;
  /** --host's further addresses. */
  failover?: HostPort[];
  user?: string;
  register: boolean;
  invite?: string;
  fingerprint?: string;
  config?: string;
  login: boolean;
  help: boolean;
  version: boolean;
}

function parsePort(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new UsageError(`invalid port: ${v}`);
  return n;
}

export interface ServerAddress {
  host: string;
  port: number;
}

export type HostPort = { host: string; port?: number };

/** Split "host:port" (also "[::1]:port"); a bare host keeps the port undefined. */
export function splitHostPort(v: string): HostPort {
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(v);
  if (bracket) {
    if (isIP(bracket[1]!) !== 6) throw new UsageError(`"${bracket[1]}" in brackets is not an IPv6 address`);
    return { host: bracket[1]!, port: bracket[2] ? parsePort(bracket[2]) : undefined };
  }
  const idx = v.lastIndexOf(':');
  if (idx > 0 && v.indexOf(':') === idx) return { host: checkHost(v.slice(0, idx)), port: parsePort(v.slice(idx + 1)) };
  return { host: checkHost(v) };
}

/** DNS labels (underscores allowed, as in container names) separated by dots. */
const HOST_NAME =
  /^(?=.{1,253}\.?$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$/;

/** A host name or an IP address, else said in words before any lookup is made. */
function checkHost(host: string): string {
  if (isIP(host) !== 0 || HOST_NAME.test(host)) return host;
  throw new UsageError(`"${host}" is not a host name or an IP address`);
}

/** "HOST[:PORT],HOST[:PORT]...": a server and the other nodes of its cluster, in the order to try them. */
export function splitServers(v: string): HostPort[] {
  const entries = v.split(',').map((e) => e.trim());
  if (entries.some((e) => e === '')) throw new UsageError(`empty address in the server list: ${v}`);
  return entries.map(splitHostPort);
}

/** The other addresses, a missing port taken from the server's. */
export function withPorts(entries: readonly HostPort[], port: number): ServerAddress[] {
  return entries.map((e) => ({ host: e.host, port: e.port ?? port }));
}

/** The form of splitServers' input: "host:port,[::1]:port". */
export function formatServers(list: readonly ServerAddress[]): string {
  return list.map(({ host, port }) => `${host.includes(':') ? `[${host}]` : host}:${port}`).join(',');
}

const FLAGS = {
  host: { type: 'string' },
  port: { type: 'string' },
  user: { type: 'string', short: 'u' },
  register: { type: 'boolean' },
  invite: { type: 'string' },
  fingerprint: { type: 'string' },
  config: { type: 'string', short: 'c' },
  login: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'V' },
} as const;

/** The command line, by `node:util.parseArgs`; its errors become one UsageError line naming the flag. */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  if (argv.some((a) => a === '--password' || a.startsWith('--password='))) {
    throw new UsageError('--password is not accepted (it would show in the process list); use the login form or $HUSH_PASSWORD');
  }
  let values;
  try {
    ({ values } = parseCommandLine({ args: [...argv], options: FLAGS, strict: true, allowPositionals: false }));
  } catch (err) {
    const e = err as Error & { code?: string };
    const quoted = JSON.stringify(/'([^']*)'/.exec(e.message)?.[1] ?? '').slice(1, -1);
    const flag = /--[a-z-]+/.exec(quoted)?.[0] ?? quoted;
    if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new UsageError(`unknown option: ${quoted}`);
    if (e.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') throw new UsageError(`unexpected argument: ${quoted}`);
    if (e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      if (/does not take an argument/.test(e.message)) throw new UsageError(`${flag} takes no value`);
      const hint = /ambiguous/.test(e.message) ? `; write ${flag}=VALUE for a value starting with "-"` : '';
      throw new UsageError(`${flag} needs a value${hint}`);
    }
    throw err;
  }
  const out: ParsedArgs = {
    register: values.register === true,
    login: values.login === true,
    help: values.help === true,
    version: values.version === true,
  };
  if (values.host !== undefined) {
    const [hp, ...failover] = splitServers(values.host);
    out.host = hp!.host;
    if (hp!.port !== undefined) out.port = hp!.port;
    if (failover.length > 0) out.failover = failover;
  }
  if (values.port !== undefined) out.port = parsePort(values.port);
  if (values.user !== undefined) out.user = values.user;
  if (values.invite !== undefined) out.invite = values.invite;
  if (values.fingerprint !== undefined) out.fingerprint = values.fingerprint;
  if (values.config !== undefined) out.config = values.config;
  return out;
}

const text = z.string({ error: 'expected a string' });

/** hush.json: every key optional; unknown keys are ignored (a newer hush may add some). */
const FILE_SCHEMA = z.object(
  {
    host: text.optional(),
    port: z
      .number({ error: 'expected a number' })
      .int({ error: 'expected a whole number' })
      .min(1, { error: 'expected a port from 1 to 65535' })
      .max(65535, { error: 'expected a port from 1 to 65535' })
      .optional(),
    user: text.optional(),
    fingerprint: text.optional(),
    bell: z.boolean({ error: 'expected true or false' }).optional(),
  },
  { error: 'expected a JSON object' },
);

/** Where JSON.parse stopped, as a person finds it in an editor (Node 20 gives only an offset). */
function jsonErrorPlace(source: string, error: unknown): string {
  const at = /at position (\d+)/.exec(error instanceof Error ? error.message : '');
  if (source.trim() === '') return ' (the file is empty)';
  if (!at || Number(at[1]) >= source.trimEnd().length) return ' (it ends too soon)';
  const before = source.slice(0, Number(at[1]));
  return ` at line ${before.split('\n').length} column ${before.length - before.lastIndexOf('\n')}`;
}

/** Parse the config file's JSON; errors name the file and the key. */
export function parseConfigFile(source: string, file: string): FileConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(source);
  } catch (error) {
    throw new UsageError(`config file ${file}: not valid JSON${jsonErrorPlace(source, error)}`);
  }
  // A password here sits in the clear on disk, and hush would ignore it: said, so it gets removed.
  if (typeof raw === 'object' && raw !== null && 'password' in raw)
    throw new UsageError(
      `config file ${file}: password: hush never reads a password from a file; remove it (type it in the form, or set $HUSH_PASSWORD)`,
    );
  const parsed = FILE_SCHEMA.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const at = issue.path.length > 0 ? `${issue.path.map(String).join('.')}: ` : '';
    throw new UsageError(`config file ${file}: ${at}${issue.message}`);
  }
  const out: FileConfig = {};
  for (const [key, value] of Object.entries(parsed.data)) if (value !== undefined) Object.assign(out, { [key]: value });
  const unknown = Object.keys(raw as object).filter((k) => !(k in FILE_SCHEMA.shape));
  if (unknown.length > 0) out.unknown = unknown;
  return out;
}

/** The form's words for keys of `file` that hush ignores, each with the key it likely meant. */
export function unknownKeysNotice(unknown: readonly string[], file: string): string {
  const said = unknown.slice(0, 3).map((k) => {
    const near = nearest(k, Object.keys(FILE_SCHEMA.shape));
    return `"${k}"${near ? ` (did you mean "${near}"?)` : ''}`;
  });
  return `${file}: ${said.join(', ')}${unknown.length > 3 ? ' and more' : ''}: not a setting hush knows, ignored`;
}

export interface ResolveInput {
  argv: readonly string[];
  env: Readonly<Record<string, string | undefined>>;
  configDir: string;
  /** Returns the file's text, or undefined when it does not exist. */
  readFile: (path: string) => string | undefined;
}

/** What hush keeps between launches, written by hush itself (not the user's hush.json). */
export interface Remembered {
  host?: string;
  port?: number;
  user?: string;
  ignored: string[];
  /** /bell on|off; until the first, hush.json's "bell" (else on). */
  bell?: boolean;
}

export const REMEMBERED_FILE = 'remembered.json';

/** The remembered state; a missing, damaged or foreign file is an empty memory, never an error. */
export function parseRemembered(text: string | undefined): Remembered {
  const out: Remembered = { ignored: [] };
  if (text === undefined) return out;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return out;
  }
  if (typeof raw !== 'object' || raw === null) return out;
  const r = raw as Record<string, unknown>;
  const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
  if (typeof r.host === 'string' && r.host !== '' && serverList(r.host) !== undefined) out.host = r.host;
  if (typeof r.port === 'number' && Number.isInteger(r.port) && r.port > 0 && r.port < 65536) out.port = r.port;
  if (typeof r.user === 'string' && r.user !== '') out.user = r.user;
  out.ignored = strings(r.ignored);
  if (typeof r.bell === 'boolean') out.bell = r.bell;
  return out;
}

function serverList(v: string): HostPort[] | undefined {
  try {
    return splitServers(v);
  } catch {
    return undefined;
  }
}

function fileServers(v: string, file: string): HostPort[] {
  try {
    return splitServers(v);
  } catch (err) {
    throw new UsageError(`config file ${file}: host: ${(err as Error).message}`);
  }
}

export function resolveLogin(input: ResolveInput): { args: ParsedArgs; defaults: LoginDefaults; remembered: Remembered } {
  const args = parseArgs(input.argv);
  const file = args.config ?? join(input.configDir, CONFIG_FILE);
  const text = input.readFile(file);
  if (text === undefined && args.config !== undefined) throw new UsageError(`config file not found: ${args.config}`);
  const fc = text === undefined ? {} : parseConfigFile(text, file);
  const last = parseRemembered(input.readFile(join(input.configDir, REMEMBERED_FILE)));
  const envList = input.env.HUSH_HOST ? splitServers(input.env.HUSH_HOST) : undefined;
  const fileList = fc.host === undefined ? undefined : fileServers(fc.host, file);
  const lastList = last.host === undefined ? undefined : serverList(last.host);
  const envHost = envList?.[0];
  // The first source that names the server gives its other addresses too.
  const others = args.host !== undefined ? (args.failover ?? []) : ((envList ?? fileList ?? lastList)?.slice(1) ?? []);
  const password = input.env.HUSH_PASSWORD;
  const invite = args.invite ?? input.env.HUSH_INVITE;
  const port =
    args.port ??
    envHost?.port ??
    fileList?.[0]?.port ??
    fc.port ??
    (args.host === undefined && envHost === undefined && fc.host === undefined ? (lastList?.[0]?.port ?? last.port) : undefined) ??
    DEFAULT_PORT;
  const defaults: LoginDefaults = {
    host: args.host ?? envHost?.host ?? fileList?.[0]?.host ?? lastList?.[0]?.host ?? DEFAULT_HOST,
    port,
    user: args.user ?? input.env.HUSH_USER ?? fc.user ?? last.user ?? '',
    register: args.register,
    ...(invite ? { invite } : {}),
    fingerprint: args.fingerprint ?? fc.fingerprint,
    password: password === '' ? undefined : password,
    autoLogin: args.login,
    ...(others.length > 0 ? { failover: withPorts(others, port) } : {}),
    ...(fc.unknown ? { notice: unknownKeysNotice(fc.unknown, file) } : {}),
  };
  const bell = last.bell ?? fc.bell;
  return { args, defaults, remembered: bell === undefined ? last : { ...last, bell } };
}
