// Why hushd cannot open its store or listen, in words that name the file or the option and say
// what to do (the raw errno text names neither). A PostgreSQL URL is never printed: it may hold a password.
import type { HushdConfig } from './config.js';
import { StoreError } from './errors.js';

interface ErrnoLike {
  code?: unknown;
  message?: string;
  path?: unknown;
  syscall?: unknown;
  address?: unknown;
  port?: unknown;
  hostname?: unknown;
}

/** A store failure in words (SQLite's and the file system's name `database`); undefined for any other error. */
export function storeFailureText(err: unknown, database: string): string | undefined {
  if (err instanceof StoreError) return err.message;
  const { code, message, path, syscall } = err as ErrnoLike;
  if (typeof code !== 'string') return undefined;
  // A file system error names its own file (the data directory, hush.db); SQLite's do not.
  const file = typeof path === 'string' ? path : database;
  if ((code === 'EEXIST' || code === 'ENOTDIR') && syscall === 'mkdir') return `${file} is a file, not a directory: check --data-dir`;
  // Under an existing folder, ENOENT means the file system makes no folders there (/proc, /sys).
  if ((code === 'ENOENT' || code === 'EROFS') && syscall === 'mkdir') {
    return `cannot create the directory ${file} (${message}): choose a --data-dir on a disk that can hold it`;
  }
  if (/^SQLITE_(CORRUPT|NOTADB)/.test(code)) return `${database} is damaged (${message}): restore it from a backup`;
  if (/^SQLITE_(READONLY|PERM|CANTOPEN)/.test(code) || code === 'EACCES' || code === 'EPERM') {
    return `cannot open ${file} (${message}): run as the user that owns the data directory`;
  }
  if (code.startsWith('SQLITE_') || typeof path === 'string') return `${file}: ${message}`;
  return undefined;
}

/** A listen that failed, naming the option (--port, --host, --metrics-port) to change; undefined for anything else. */
export function listenFailureText(err: unknown, config: Pick<HushdConfig, 'host' | 'port' | 'metricsPort'>): string | undefined {
  const { code, syscall, address, port, hostname } = err as ErrnoLike;
  const metrics = config.metricsPort !== null && port === config.metricsPort && port !== config.port;
  const option = metrics ? '--metrics-port' : '--port';
  const what = metrics ? 'the metrics port' : 'port';
  if (code === 'EADDRINUSE' && syscall === 'listen') {
    return `${what} ${String(port)} on ${String(address)} is in use (another hushd, or another program): choose another with ${option}`;
  }
  if (code === 'EADDRNOTAVAIL' || (code === 'ENOTFOUND' && syscall === 'getaddrinfo')) {
    const host = typeof hostname === 'string' ? hostname : String(address ?? config.host);
    return `${host} is not an address of this machine: choose one with ${metrics ? '--metrics-host' : '--host'} (0.0.0.0 listens on all of them)`;
  }
  if ((code === 'EACCES' || code === 'EPERM') && syscall === 'listen') {
    return `${what} ${String(port)} needs privileges this user lacks: choose one above 1023 with ${option}`;
  }
  return undefined;
}
