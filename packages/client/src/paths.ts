import { homedir } from 'node:os';
import { join } from 'node:path';
import envPaths from 'env-paths';
import { WINDOWS_DEVICES } from './safe-name.js';

export interface ClientPaths {
  /** known_servers and settings. */
  configDir: string;
  /** Per server (servers/<id of its key>/): device keys, per-user state (sessions, verified contacts, cursors), local history. */
  dataDir: string;
}

/** Platform directories: XDG on Linux, ~/Library on macOS, %APPDATA% / %LOCALAPPDATA% on Windows. */
export function defaultPaths(): ClientPaths {
  const p = envPaths('hush', { suffix: '' });
  return { configDir: p.config, dataDir: p.data };
}

/** Where accepted files go unless the caller picks a folder: the user's downloads folder. */
export function defaultDownloadsDir(): string {
  const xdg = process.env.XDG_DOWNLOAD_DIR;
  if (process.platform === 'linux' && xdg && xdg.startsWith('/')) return xdg;
  return join(homedir(), 'Downloads');
}

/**
 * A safe single path segment for a user (or host) name in file names. On Windows a device name
 * (`nul`, `con`, `com1`...: valid usernames) would name the device, not a file: it gets a `_` in
 * front there (only there, so that the files kept elsewhere keep their names).
 */
export function fileSafe(part: string, platform: NodeJS.Platform = process.platform): string {
  const safe = part.replace(/[^A-Za-z0-9._-]/g, '_');
  return platform === 'win32' && WINDOWS_DEVICES.test(safe) ? `_${safe}` : safe;
}
