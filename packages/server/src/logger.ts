// Structured JSON-lines logger. One line per event; never pass secrets or message bodies in fields
// (sensitive-looking field names are redacted anyway as a second line of defence).

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent'];

export interface Logger {
  debug(event: string, fields?: Record<string, unknown>): void;
  info(event: string, fields?: Record<string, unknown>): void;
  warn(event: string, fields?: Record<string, unknown>): void;
  error(event: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
  /** The level of this logger, its parent and all its children (one level per createLogger). */
  readonly level: LogLevel;
  setLevel(level: LogLevel): void;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

/** Field names whose values must never reach a log line. */
const REDACTED =
  /^(password|newpassword|passwd|passwordhash|hash|secret|seed|token|sessionid|session|privatekey|key|body|text|envelope|data|chunk|invite|signature)$/i;

// JSON.stringify escapes C0 controls; these survive it and can still confuse a terminal or a log viewer.
const UNSAFE = /[\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

function isLogLevel(x: string): x is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(x);
}

export function parseLogLevel(x: string): LogLevel | undefined {
  const v = x.trim().toLowerCase();
  return isLogLevel(v) ? v : undefined;
}

function sanitize(value: unknown, depth: number): unknown {
  if (value === null || value === undefined) return value;
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'string') return value;
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return { name: value.name, message: value.message, ...(typeof code === 'string' ? { code } : {}) };
  }
  if (value instanceof Uint8Array) return `<${value.length} bytes>`;
  if (depth > 4) return '[depth]';
  if (Array.isArray(value)) return value.slice(0, 50).map((v) => sanitize(v, depth + 1));
  if (typeof value === 'object') return sanitizeFields(value as Record<string, unknown>, depth + 1);
  return String(value);
}

function sanitizeFields(fields: Record<string, unknown>, depth = 0): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    out[k] = REDACTED.test(k) ? '[redacted]' : sanitize(v, depth);
  }
  return out;
}

/** Serialises one log record; exported for tests. */
export function formatLogLine(
  level: Exclude<LogLevel, 'silent'>,
  event: string,
  fields: Record<string, unknown>,
  now = new Date(),
): string {
  const record = { ts: now.toISOString(), level, event, ...sanitizeFields(fields) };
  let line: string;
  try {
    line = JSON.stringify(record);
  } catch {
    line = JSON.stringify({ ts: record.ts, level, event, logError: 'unserialisable fields' });
  }
  return `${line.replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}\n`;
}

export function createLogger(opts: { level: LogLevel; stream?: NodeJS.WritableStream }): Logger {
  const stream = opts.stream ?? process.stdout;
  let level = opts.level;
  const make = (base: Record<string, unknown>): Logger => {
    const emit = (at: Exclude<LogLevel, 'silent'>) => (event: string, fields?: Record<string, unknown>) => {
      if (RANK[at] < RANK[level]) return;
      stream.write(formatLogLine(at, event, { ...base, ...fields }));
    };
    return {
      debug: emit('debug'),
      info: emit('info'),
      warn: emit('warn'),
      error: emit('error'),
      child: (fields) => make({ ...base, ...fields }),
      get level() {
        return level;
      },
      setLevel: (next) => {
        level = next;
      },
    };
  };
  return make({});
}

/** The more verbose of two levels. */
export function moreVerbose(a: LogLevel, b: LogLevel): LogLevel {
  return RANK[a] <= RANK[b] ? a : b;
}
