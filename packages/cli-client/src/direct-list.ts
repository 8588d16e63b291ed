// The direct conversations of the list, kept between launches per server and account. The SDK keeps
// their messages (its local history) but no list of them, so hush keeps one in the data directory:
// <dataDir>/conversations.json, { "alice@host:port": ["bob", "carol"] }, readable by the user only.
import { join } from 'node:path';
import { serverKey } from '@hush/client';
import { readIfExists, writePrivateJson } from './private-file.js';
import { USERNAME_PATTERN } from './rules.js';

export const DIRECTS_FILE = 'conversations.json';

export interface Account {
  host: string;
  port: number;
  user: string;
}

/** Where the list of an account is kept. */
export interface DirectList {
  /** The peers of its direct conversations, in list order ([] when none was kept). */
  load(account: Account): string[];
  save(account: Account, users: readonly string[]): void;
}

/** "alice@127.0.0.1:5555": an account on a server. */
export function accountKey(a: Account): string {
  return `${a.user}@${serverKey(a.host, a.port)}`;
}

/** The file's lists; what is not a list of user names is left out (an edited or torn file costs a list, never the launch). */
export function parseDirects(text: string | undefined): Record<string, string[]> {
  let data: unknown;
  try {
    data = JSON.parse(text ?? '{}');
  } catch {
    return {};
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return {};
  return Object.fromEntries(
    Object.entries(data).flatMap(([key, users]) =>
      Array.isArray(users)
        ? [[key, [...new Set(users.filter((u): u is string => typeof u === 'string' && USERNAME_PATTERN.test(u)))]]]
        : [],
    ),
  );
}

/** The list in `dataDir`'s conversations.json; each save rewrites the file with the other accounts' lists kept. */
export function fileDirectList(dataDir: string): DirectList {
  const read = (): Record<string, string[]> => parseDirects(readIfExists(join(dataDir, DIRECTS_FILE)));
  return {
    load: (account) => read()[accountKey(account)] ?? [],
    save: (account, users) => writePrivateJson(dataDir, DIRECTS_FILE, { ...read(), [accountKey(account)]: [...users] }),
  };
}
