// Login defaults from flags > environment > config file. Pure: file reading is injected.
import { join } from 'node:path';

export interface LoginDefaults {
  host: string;
  port: number;
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
}

export interface FileConfig { host?: string; port?: number; user?: string; fingerprint?: string; bell?: boolean }

export const CONFIG_FILE = 'hush.json';
export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_PORT = 5555;

export class UsageError extends Error {
  readonly code = 'USAGE';
}

export const USAGE = `usage: hush [--host HOST[:PORT]] [--port PORT] [--user NAME] [--register] [--invite CODE]
            [--fingerprint SHA512:...] [--config FILE] [--login] [--help] [--version]

  The password is typed into the login form, or taken from $HUSH_PASSWORD.
  Defaults come from <config dir>/hush.json: {"host": "...", "port": 5555, "user": "...", "fingerprint": "...", "bell": true};
  without them, the server and username of the last login (<config dir>/remembered.json).`;

export interface ParsedArgs {
  host?: string; port?: number; user?: string; register: boolean; invite?: string; fingerprint?: string; config?: string;
  login: boolean; help: boolean; version: boolean;
}

function parsePort(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new UsageError(`invalid port: ${v}`);
  return n;
}

/** Split "host:port" (also "[::1]:port"); a bare host keeps the port undefined. */
export function splitHostPort(v: string): { host: string; port?: number } {
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(v);
  if (bracket) return { host: bracket[1]!, port: bracket[2] ? parsePort(bracket[2]) : undefined };
  const idx = v.lastIndexOf(':');
  if (idx > 0 && v.indexOf(':') === idx) return { host: v.slice(0, idx), port: parsePort(v.slice(idx + 1)) };
  return { host: v };
}

export function parseArgs(argv: readonly string[]): ParsedArgs {
  const out: ParsedArgs = { register: false, login: false, help: false, version: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const [flag, inline] = arg.startsWith('--') && eq > 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--host': {
        const hp = splitHostPort(value());
        out.host = hp.host;
        if (hp.port !== undefined) out.port = hp.port;
        break;
      }
      case '--port': out.port = parsePort(value()); break;
      case '--user': case '-u': out.user = value(); break;
      case '--register': out.register = true; break;
      case '--invite': out.invite = value(); break;
      case '--fingerprint': out.fingerprint = value(); break;
      case '--config': case '-c': out.config = value(); break;
      case '--login': out.login = true; break;
      case '--help': case '-h': out.help = true; break;
      case '--version': case '-V': out.version = true; break;
      case '--password': throw new UsageError('--password is not accepted (it would show in the process list); use the login form or $HUSH_PASSWORD');
      default: throw new UsageError(`unknown option: ${arg}`);
    }
  }
  return out;
}

/** Parse the config file's JSON; unknown keys are ignored, wrong types refused. */
export function parseConfigFile(text: string, file: string): FileConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new UsageError(`${file}: not valid JSON`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new UsageError(`${file}: expected a JSON object`);
  const r = raw as Record<string, unknown>;
  const out: FileConfig = {};
  const str = (k: 'host' | 'user' | 'fingerprint'): void => {
    if (r[k] === undefined) return;
    if (typeof r[k] !== 'string') throw new UsageError(`${file}: "${k}" must be a string`);
    out[k] = r[k];
  };
  str('host'); str('user'); str('fingerprint');
  if (r.bell !== undefined) {
    if (typeof r.bell !== 'boolean') throw new UsageError(`${file}: "bell" must be true or false`);
    out.bell = r.bell;
  }
  if (r.port !== undefined) {
    if (typeof r.port !== 'number') throw new UsageError(`${file}: "port" must be a number`);
    out.port = parsePort(String(r.port));
  }
  return out;
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
  if (typeof r.host === 'string' && r.host !== '') out.host = r.host;
  if (typeof r.port === 'number' && Number.isInteger(r.port) && r.port > 0 && r.port < 65536) out.port = r.port;
  if (typeof r.user === 'string' && r.user !== '') out.user = r.user;
  out.ignored = strings(r.ignored);
  if (typeof r.bell === 'boolean') out.bell = r.bell;
  return out;
}

export function resolveLogin(input: ResolveInput): { args: ParsedArgs; defaults: LoginDefaults; remembered: Remembered } {
  const args = parseArgs(input.argv);
  const file = args.config ?? join(input.configDir, CONFIG_FILE);
  const text = input.readFile(file);
  if (text === undefined && args.config !== undefined) throw new UsageError(`config file not found: ${args.config}`);
  const fc = text === undefined ? {} : parseConfigFile(text, file);
  const last = parseRemembered(input.readFile(join(input.configDir, REMEMBERED_FILE)));
  const envHost = input.env.HUSH_HOST ? splitHostPort(input.env.HUSH_HOST) : undefined;
  const password = input.env.HUSH_PASSWORD;
  const invite = args.invite ?? input.env.HUSH_INVITE;
  const defaults: LoginDefaults = {
    host: args.host ?? envHost?.host ?? fc.host ?? last.host ?? DEFAULT_HOST,
    port: args.port ?? envHost?.port ?? fc.port ?? (args.host === undefined && envHost === undefined && fc.host === undefined ? last.port : undefined) ?? DEFAULT_PORT,
    user: args.user ?? input.env.HUSH_USER ?? fc.user ?? last.user ?? '',
    register: args.register,
    ...(invite ? { invite } : {}),
    fingerprint: args.fingerprint ?? fc.fingerprint,
    password: password === '' ? undefined : password,
    autoLogin: args.login,
  };
  const bell = last.bell ?? fc.bell;
  return { args, defaults, remembered: bell === undefined ? last : { ...last, bell } };
}
