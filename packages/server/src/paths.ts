// Where hushd keeps its state by default, per platform (env-paths: XDG data home on Linux,
// ~/Library/Application Support on macOS, %LOCALAPPDATA% on Windows).
import { join } from 'node:path';
import envPaths from 'env-paths';

export const DATABASE_FILE = 'hush.db';
export const IDENTITY_FILE = 'identity.key';
export const CONFIG_FILE = 'hushd.json';

/** e.g. ~/.local/share/hush/server on Linux. Reads the process environment (XDG_DATA_HOME, HOME). */
export function defaultDataDir(): string {
  return join(envPaths('hush', { suffix: '' }).data, 'server');
}

export function dataPaths(dataDir: string): { database: string; identity: string; config: string } {
  return { database: join(dataDir, DATABASE_FILE), identity: join(dataDir, IDENTITY_FILE), config: join(dataDir, CONFIG_FILE) };
}
