// The direct conversations of the list, kept between launches per server and account. The SDK keeps
// their messages (its local history) but no list of them, so hush keeps one in the data directory:
// <dataDir>/conversations.json, { "alice@SHA512:...": [{ "user": "bob", "seen": "812" }] }, readable
// by the user only. `seen` is the newest message the conversation held, so what came after it while
// hush was closed is marked new, as the SDK's cursors do for rooms. Lists follow the server's key
// (its fingerprint), not the address typed, as the SDK's device and history do; a list kept by an
// older hush under an address (`alice@host:port`) pinned to the same key is taken over.
import { join } from 'node:path';
import { parseKnownServers } from '@hush/client';
import { readIfExists, writePrivateJson } from './private-file.js';
import { USERNAME_PATTERN } from './rules.js';

export const DIRECTS_FILE = 'conversations.json';

export interface Account {
  /** The server's fingerprint. */
  server: string;
  user: string;
}

/** A direct conversation of the list: the other person, and the newest message id it held. */
export interface DirectConversation {
  user: string;
  seen?: string;
}

/** Where the list of an account is kept. */
export interface DirectList {
  /** Its direct conversations, in list order ([] when none was kept). */
  load(account: Account): DirectConversation[];
  save(account: Account, conversations: readonly DirectConversation[]): void;
}

const MESSAGE_ID = /^\d{1,20}$/;

/** "alice@SHA512:...": an account on a server (its identity, whatever address reached it). */
export function accountKey(a: Account): string {
  return `${a.user}@${a.server}`;
}

/** The addresses (`host:port`) known_servers in `configDir` pins to a fingerprint. */
export function pinnedAddresses(configDir: string): (fingerprint: string) => string[] {
  return (fingerprint) =>
    parseKnownServers(readIfExists(join(configDir, 'known_servers')) ?? '')
      .filter((e) => e.fingerprint === fingerprint)
      .map((e) => e.server);
}

/** One entry, or undefined for what is not a user name with an optional message id. */
function parseEntry(entry: unknown): DirectConversation | undefined {
  if (typeof entry !== 'object' || entry === null) return undefined;
  const { user, seen } = entry as { user?: unknown; seen?: unknown };
  if (typeof user !== 'string' || !USERNAME_PATTERN.test(user)) return undefined;
  return typeof seen === 'string' && MESSAGE_ID.test(seen) ? { user, seen } : { user };
}

/** The file's lists; what does not parse is left out (an edited or torn file costs a list, never the launch). */
export function parseDirects(text: string | undefined): Record<string, DirectConversation[]> {
  let data: unknown;
  try {
    data = JSON.parse(text ?? '{}');
  } catch {
    return {};
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return {};
  return Object.fromEntries(
    Object.entries(data).flatMap(([key, entries]) => {
      if (!Array.isArray(entries)) return [];
      const list = entries.map(parseEntry).filter((c): c is DirectConversation => c !== undefined);
      return [[key, list.filter((c, i) => list.findIndex((d) => d.user === c.user) === i)]];
    }),
  );
}

/**
 * The list in `dataDir`'s conversations.json; each save rewrites the file with the other accounts'
 * lists kept. `addressesOf` names the addresses an older hush may have kept a server's lists under.
 */
export function fileDirectList(dataDir: string, addressesOf: (fingerprint: string) => string[] = () => []): DirectList {
  const read = (): Record<string, DirectConversation[]> => parseDirects(readIfExists(join(dataDir, DIRECTS_FILE)));
  return {
    load: (account) => {
      const lists = read();
      const former = addressesOf(account.server).map((address) => lists[`${account.user}@${address}`]);
      return lists[accountKey(account)] ?? former.find((list) => list !== undefined) ?? [];
    },
    save: (account, conversations) => writePrivateJson(dataDir, DIRECTS_FILE, { ...read(), [accountKey(account)]: conversations }),
  };
}
