// Administration beside or without a running hushd: the `hushd <subcommand>` implementations. They
// open the same store as the daemon (the data directory's SQLite file, which WAL lets them share
// with a live daemon, or the PostgreSQL database of --store), and never create one. Bans, unbans,
// role changes, device removals and passwords set are also queued for the running servers to
// enforce and log (Store.queueAdminRequest).
import { isIP } from 'node:net';
import { Accounts } from './accounts.js';
import { AccountError, ServerDataError, UsageError } from './errors.js';
import { storeFailureText } from './failure-words.js';
import { CONFIG_FLAGS, OPTIONS, parseCommandLine, type HushdConfig } from './config.js';
import { loadOrCreateIdentity } from './identity-file.js';
import { dataPaths, IDENTITY_FILE } from './paths.js';
import { hasIdentity, missingIdentity, refuseLostIdentity, requireDatabase } from './server-data.js';
import Database from 'better-sqlite3';
import { resolve } from 'node:path';
import { backupDataDir } from './backup.js';
import { dataDirHolder } from './data-dir-lock.js';
import { importSqliteIntoPostgres } from './store/postgres-import.js';
import { openStore } from './store/open.js';
import { PG_SCHEMA_VERSION } from './store/postgres-schema.js';
import { SCHEMA_VERSION } from './store/schema.js';
import type { ServerRole } from './store/types.js';
import { normalizeUsername } from './usernames.js';
import { deviceId, shortFingerprint } from '@hush/crypto';
import { fromBase64Url } from '@hush/protocol';

export type AdminCommand =
  /** `line`: the fingerprint alone (for `$(hushd fingerprint)`); `all`: and the short form; `json`: both as JSON. */
  | { cmd: 'fingerprint'; output: 'line' | 'all' | 'json' }
  | { cmd: 'user-add'; name: string; role: ServerRole; passwordStdin: boolean }
  | { cmd: 'user-passwd'; name: string; passwordStdin: boolean }
  | { cmd: 'user-role'; name: string; role: ServerRole }
  | { cmd: 'user-list' }
  | { cmd: 'user-devices'; name: string }
  /** `device`: a device id as `hushd user devices` prints it, or null for every device. */
  | { cmd: 'user-remove-device'; name: string; device: string | null }
  | { cmd: 'ban'; user?: string; address?: string; reason: string | null; seconds: number | null }
  | { cmd: 'unban'; user?: string; address?: string }
  | { cmd: 'invite-create' }
  /** Brings the schema of the configured store up to date and exits. */
  | { cmd: 'migrate' }
  /** Copies the data directory's SQLite database into the configured (empty) PostgreSQL database. */
  | { cmd: 'import' }
  /** A restorable copy of the SQLite data directory in `target`, taken while hushd runs. */
  | { cmd: 'backup'; target: string };

export const ADMIN_COMMANDS = ['fingerprint', 'user', 'ban', 'unban', 'invite', 'migrate', 'import', 'backup'] as const;

export interface AdminIO {
  out(line: string): void;
  err(line: string): void;
  /** Reads a password: from stdin when `fromStdin` or stdin is not a terminal, else a no-echo prompt. */
  readPassword(prompt: string, opts: { confirm: boolean; fromStdin: boolean }): Promise<string>;
}

/** A device id as `hushd user devices` prints it: 16 bytes in base64url, 22 characters. */
const DEVICE_ID = /^[A-Za-z0-9_-]{22}$/;

/**
 * One device id in 64 starts with "-", which the option parser would take for an option ("unknown
 * option -M"): in `hushd user remove-device`, an argument of a device id's shape is the device id
 * wherever it stands (it goes after "--", which ends the options). No option is 22 characters long.
 */
function deviceIdsAsPositionals(argv: readonly string[]): string[] {
  if (argv[0] !== 'user' || argv[1] !== 'remove-device' || argv.includes('--')) return [...argv];
  const ids = argv.filter((a) => a.startsWith('-') && DEVICE_ID.test(a));
  return ids.length === 0 ? [...argv] : [...argv.filter((a) => !ids.includes(a)), '--', ...ids];
}

/**
 * Splits `hushd <subcommand> ...` arguments into the command and the remaining configuration
 * flags (passed on to resolveConfig). Throws UsageError.
 */
export function parseAdminArgs(argv: readonly string[]): { command: AdminCommand; configArgv: string[] } {
  const { values, positionals: positional } = parseCommandLine(
    deviceIdsAsPositionals(argv),
    {
      ...CONFIG_FLAGS,
      'password-stdin': { type: 'boolean' },
      admin: { type: 'boolean' },
      all: { type: 'boolean' },
      json: { type: 'boolean' },
      reason: { type: 'string' },
      seconds: { type: 'string' },
      address: { type: 'string' },
    },
    true,
  );
  const configArgv = OPTIONS.flatMap((o) => (typeof values[o.flag] === 'string' ? [`--${o.flag}`, values[o.flag] as string] : []));
  const str = (key: string): string | undefined => (typeof values[key] === 'string' ? (values[key] as string) : undefined);
  const own = {
    passwordStdin: values['password-stdin'] === true,
    admin: values.admin === true,
    all: values.all === true,
    json: values.json === true,
    reason: str('reason'),
    seconds: str('seconds'),
    address: str('address'),
  };
  const [sub, action, name, extra] = positional;
  const needName = (n: string | undefined, what: string): string => {
    if (!n) throw new UsageError(`missing ${what}`);
    return n;
  };
  const noMore = (x: string | undefined) => {
    if (x !== undefined) throw new UsageError(`unexpected argument "${x}"`);
  };
  if ((own.all || own.json) && sub !== 'fingerprint') throw new UsageError('--all and --json belong to hushd fingerprint');
  switch (sub) {
    case 'fingerprint':
      noMore(action);
      if (own.all && own.json) throw new UsageError('use --all or --json, not both');
      return { command: { cmd: 'fingerprint', output: own.json ? 'json' : own.all ? 'all' : 'line' }, configArgv };
    case 'invite':
      if (action !== 'create') throw new UsageError('usage: hushd invite create');
      noMore(name);
      return { command: { cmd: 'invite-create' }, configArgv };
    case 'user':
      switch (action) {
        case 'add':
          noMore(extra);
          return {
            command: {
              cmd: 'user-add',
              name: needName(name, 'user name'),
              role: own.admin ? 'admin' : 'user',
              passwordStdin: own.passwordStdin,
            },
            configArgv,
          };
        case 'passwd':
          noMore(extra);
          return { command: { cmd: 'user-passwd', name: needName(name, 'user name'), passwordStdin: own.passwordStdin }, configArgv };
        case 'role': {
          const role = positional[3];
          if (role !== 'admin' && role !== 'user') throw new UsageError('usage: hushd user role <name> admin|user');
          noMore(positional[4]);
          return { command: { cmd: 'user-role', name: needName(name, 'user name'), role }, configArgv };
        }
        case 'list':
          noMore(name);
          return { command: { cmd: 'user-list' }, configArgv };
        case 'devices':
          noMore(extra);
          return { command: { cmd: 'user-devices', name: needName(name, 'user name') }, configArgv };
        case 'remove-device': {
          const which = positional[3];
          if (which === undefined) throw new UsageError('usage: hushd user remove-device <name> <device id>|all');
          noMore(positional[4]);
          return {
            command: { cmd: 'user-remove-device', name: needName(name, 'user name'), device: which === 'all' ? null : which },
            configArgv,
          };
        }
        default:
          throw new UsageError(
            `${action === undefined ? 'usage' : `no command "user ${action}"`}: hushd user add|passwd|role|list|devices|remove-device ...`,
          );
      }
    case 'ban':
    case 'unban': {
      const user = action;
      noMore(name);
      if ((user === undefined) === (own.address === undefined)) throw new UsageError(`usage: hushd ${sub} <name> | --address ADDR`);
      if (own.address !== undefined && isIP(own.address) === 0) throw new UsageError(`not an IP address: ${printable(own.address)}`);
      const target = user !== undefined ? { user } : { address: own.address! };
      if (sub === 'unban') return { command: { cmd: 'unban', ...target }, configArgv };
      let seconds: number | null = null;
      if (own.seconds !== undefined) {
        seconds = Number(own.seconds);
        if (!/^\d+$/.test(own.seconds) || !Number.isSafeInteger(seconds) || seconds < 1)
          throw new UsageError('--seconds needs a positive whole number');
      }
      const reason = own.reason === undefined ? null : own.reason.slice(0, 200);
      return { command: { cmd: 'ban', ...target, reason, seconds }, configArgv };
    }
    case 'migrate':
    case 'import':
      noMore(action);
      return { command: { cmd: sub }, configArgv };
    case 'backup':
      if (action === undefined) throw new UsageError('usage: hushd backup DIR (a new or empty directory)');
      noMore(name);
      return { command: { cmd: 'backup', target: action }, configArgv };
    default:
      throw new UsageError(`unknown command "${printable(sub ?? '')}" (see hushd --help)`);
  }
}

/** Runs one admin command against the configured store (config.store, else config.dataDir's). Returns the process exit code. */
export async function runAdmin(command: AdminCommand, config: HushdConfig, io: AdminIO, now = Date.now()): Promise<number> {
  const paths = dataPaths(config.dataDir);
  if (command.cmd === 'import' && config.store === null) {
    throw new UsageError("usage: hushd import --store postgres://... (copies the data directory's hush.db)");
  }
  if (command.cmd === 'backup' && config.store !== null) {
    throw new UsageError('hushd backup copies a SQLite data directory: back PostgreSQL up with its own tools (docs/cluster.md)');
  }
  try {
    requireServerData(command, config);
  } catch (err) {
    if (!(err instanceof ServerDataError)) throw err;
    io.err(`hushd: ${err.message}`);
    return 1;
  }
  if (command.cmd === 'fingerprint') {
    if (!hasIdentity(config.dataDir)) {
      // The start's rule: a new key beside a hush.db that holds accounts would be taken by the
      // next start as the server's own, and every client that pinned the lost one would refuse it.
      try {
        const opened = await openAdminStore(config);
        try {
          await refuseLostIdentity(config, opened.store);
        } finally {
          await opened.close();
        }
      } catch (err) {
        if (!(err instanceof ServerDataError)) return storeFailure(err, io, paths.database);
        io.err(`hushd: ${err.message}`);
        return 1;
      }
    }
    const { identity, created } = loadOrCreateIdentity(paths.identity);
    if (created) io.err(`created a new server identity in ${paths.identity}`);
    const fingerprint = identity.fingerprint();
    const short = shortFingerprint(identity.publicKey);
    if (command.output === 'json') io.out(JSON.stringify({ fingerprint, short }));
    else io.out(command.output === 'all' ? `${fingerprint}\n${short}` : fingerprint);
    return 0;
  }
  if (command.cmd === 'migrate' || command.cmd === 'import') return runStoreCommand(command, config, io);
  if (command.cmd === 'backup') {
    try {
      const files = await backupDataDir(config.dataDir, resolve(command.target));
      for (const { file, bytes } of files) io.out(`${file}\t${bytes} bytes`);
      if (!files.some((f) => f.file.endsWith(IDENTITY_FILE))) io.err(`hushd: note: no ${IDENTITY_FILE} in ${config.dataDir} to back up`);
      return 0;
    } catch (err) {
      return storeFailure(err, io, paths.database);
    }
  }
  let opened: Awaited<ReturnType<typeof openStore>>;
  try {
    opened = await openAdminStore(config);
  } catch (err) {
    return storeFailure(err, io, paths.database);
  }
  const { store } = opened;
  try {
    const accounts = new Accounts(store, {
      registration: config.registration,
      minPasswordLength: config.minPasswordLength,
      scryptN: config.scryptN,
    });
    const canonical = (name: string): string => {
      const n = normalizeUsername(name);
      if (!n.ok) throw new AccountError('USERNAME_INVALID', n.reason);
      return n.name;
    };
    const existing = async (name: string): Promise<string> => {
      const n = canonical(name);
      if (!(await store.getUser(n))) throw new AccountError('NOT_FOUND', `no such user: ${n}`);
      return n;
    };
    switch (command.cmd) {
      case 'user-add': {
        const name = canonical(command.name);
        if (await accounts.isTaken(name)) throw new AccountError('USERNAME_TAKEN', `${name} or a look-alike of it is taken`);
        const password = await io.readPassword(`Password for ${name}: `, { confirm: true, fromStdin: command.passwordStdin });
        const user = await accounts.addUser(name, password, command.role, now);
        io.out(`added ${user.name} (${user.role})`);
        return 0;
      }
      case 'user-passwd': {
        const name = await existing(command.name);
        const password = await io.readPassword(`New password for ${name}: `, { confirm: true, fromStdin: command.passwordStdin });
        await accounts.setPassword(name, password);
        await store.queueAdminRequest({ action: 'password', user: name, address: null, reason: null }); // for a running hushd's log
        io.out(`password changed for ${name}`);
        const devices = (await store.listDevices(name)).length;
        if (devices > 0)
          io.err(
            `${name}'s ${devices === 1 ? 'device stays' : `${devices} devices stay`} logged in without the password: hushd user devices ${name} lists them, hushd user remove-device ${name} <id>|all removes one or all`,
          );
        return 0;
      }
      case 'user-role': {
        const name = await existing(command.name);
        if ((await store.getUser(name))?.role === command.role) {
          io.out(`${name} is ${command.role === 'admin' ? 'an admin' : 'a user'} already: nothing changed`);
          return 0;
        }
        await store.setServerRole(name, command.role);
        await store.queueAdminRequest({ action: 'role', user: name, address: null, reason: null });
        io.out(`${name} is now ${command.role}`);
        io.err(`a running hushd applies this to ${name}'s connections within seconds`);
        return 0;
      }
      case 'user-devices': {
        const name = await existing(command.name);
        io.out(['DEVICE', 'CREATED', 'LAST SEEN'].join('\t'));
        for (const d of await store.listDevices(name)) {
          io.out([deviceId(fromBase64Url(d.signKey)), new Date(d.createdAt).toISOString(), new Date(d.lastSeen).toISOString()].join('\t'));
        }
        return 0;
      }
      case 'user-remove-device': {
        const name = await existing(command.name);
        const devices = await store.listDevices(name);
        const doomed = devices.filter((d) => command.device === null || deviceId(fromBase64Url(d.signKey)) === command.device);
        if (doomed.length === 0) {
          io.err(`hushd: ${name} has no device ${printable(command.device ?? '')} (hushd user devices ${name} lists them)`);
          return 1;
        }
        for (const d of doomed) await store.deleteDevice(name, d.signKey);
        await store.queueAdminRequest({ action: 'devices', user: name, address: null, reason: null });
        io.out(`removed ${doomed.length === 1 ? 'a device' : `${doomed.length} devices`} of ${name}`);
        io.err(
          `a running hushd closes its connections within seconds and tells ${name}'s contacts; it can log in again only with the password (change it with hushd user passwd ${name} if it may be known)`,
        );
        return 0;
      }
      case 'user-list': {
        const users = await store.listUsers();
        io.out(['NAME', 'ROLE', 'CREATED', 'DEVICES', 'STATUS'].join('\t'));
        for (const u of users) {
          const banned = u.bannedUntil !== null && u.bannedUntil > now;
          const status = banned
            ? `banned ${u.bannedUntil === Number.POSITIVE_INFINITY ? 'forever' : `until ${new Date(u.bannedUntil!).toISOString()}`}${u.banReason ? ` (${printable(u.banReason)})` : ''}`
            : 'ok';
          const devices = (await store.listDevices(u.name)).length;
          io.out([u.name, u.role, new Date(u.createdAt).toISOString(), String(devices), status].join('\t'));
        }
        const bans = (await store.listAddressBans()).filter((b) => b.until > now);
        for (const b of bans) {
          io.out(
            `address ${b.address} banned ${b.until === Number.POSITIVE_INFINITY ? 'forever' : `until ${new Date(b.until).toISOString()}`}${b.reason ? ` (${printable(b.reason)})` : ''}`,
          );
        }
        return 0;
      }
      case 'ban': {
        const until = command.seconds === null ? Number.POSITIVE_INFINITY : now + command.seconds * 1000;
        const when = command.seconds === null ? 'forever' : `until ${new Date(until).toISOString()}`;
        const user = command.user !== undefined ? await existing(command.user) : null;
        if (user !== null) await store.setUserBan(user, until, command.reason);
        else await store.banAddress(command.address!, until, command.reason);
        await store.queueAdminRequest({ action: 'ban', user, address: command.address ?? null, reason: command.reason });
        io.out(user !== null ? `banned ${user} ${when}` : `banned address ${command.address} ${when}`);
        io.err(
          `a running hushd closes ${user !== null ? `${user}'s` : "the address's"} connections within seconds${user !== null ? ` and takes ${user} out of every room` : ''}; if none runs, the next start does`,
        );
        return 0;
      }
      case 'unban': {
        // Nothing to lift is said, as a running hushd refuses an unban over the protocol.
        if (command.user !== undefined) {
          const name = await existing(command.user);
          const banned = (await store.getUser(name))!.bannedUntil;
          if (banned === null || banned <= now) throw new AccountError('NOT_FOUND', `${name} is not banned`);
          // Ended now rather than cleared, so that a login before a server has carried out the
          // request still returns the account to the default room the ban took it out of.
          await store.setUserBan(name, now, null);
          await store.queueAdminRequest({ action: 'unban', user: name, address: null, reason: null });
          io.out(`unbanned ${name}`);
          io.err(`a running hushd puts ${name} back in the default room within seconds`);
        } else {
          const address = command.address!;
          if (!(await store.isAddressBanned(address, now))) throw new AccountError('NOT_FOUND', `address ${address} is not banned`);
          await store.unbanAddress(address);
          await store.queueAdminRequest({ action: 'unban', user: null, address, reason: null }); // for a running hushd's log
          io.out(`unbanned address ${address}`);
        }
        return 0;
      }
      case 'invite-create': {
        const code = await accounts.createInvite(null, now);
        io.out(code);
        if (config.registration !== 'invite')
          io.err(
            `note: the configuration this command sees (flags, HUSH_* environment, config file) says registration is "${config.registration}"; a hushd started with it lets people register without a code (--registration invite requires one)`,
          );
        return 0;
      }
    }
  } catch (err) {
    if (err instanceof AccountError) {
      io.err(`hushd: ${err.message}`);
      return 1;
    }
    return storeFailure(err, io, paths.database);
  } finally {
    await opened.close();
  }
}

/**
 * The store an admin command works on. A SQLite schema older than this hushd's is brought up to
 * date on opening, except beneath a running hushd: that one is an older version (it would have
 * upgraded the schema as it started), working with the tables as it knows them, as after
 * `npm install -g` of a new version before the restart.
 */
async function openAdminStore(config: HushdConfig): ReturnType<typeof openStore> {
  if (config.store === null) {
    const { database } = dataPaths(config.dataDir);
    const version = sqliteSchemaVersion(database);
    const holder = version !== undefined && version < SCHEMA_VERSION ? dataDirHolder(config.dataDir) : null;
    if (holder) {
      throw new ServerDataError(
        `${database} has schema version ${version} and this hushd would upgrade it to ${SCHEMA_VERSION} ` +
          `beneath the older hushd running on ${config.dataDir}${holder.pid === undefined ? '' : ` (pid ${holder.pid})`}: ` +
          'restart that one as this version first (it upgrades the schema as it starts), then run this command again',
      );
    }
  }
  return openStore(config, { poolSize: 1 });
}

/** The schema version of an existing SQLite database, read without changing anything; undefined when it cannot be read. */
function sqliteSchemaVersion(database: string): number | undefined {
  let db: Database.Database | undefined;
  try {
    db = new Database(database, { readonly: true, fileMustExist: true });
    return db.pragma('user_version', { simple: true }) as number;
  } catch {
    return undefined; // the open that follows says why, in its own words
  } finally {
    db?.close();
  }
}

/**
 * An admin command works on an existing server, never creates one: on SQLite (and for import, whose
 * source it is) the data directory's hush.db must hold a database. `fingerprint` prints an
 * existing key, and creates a missing one only beside a SQLite server's database (a PostgreSQL
 * node's key is a copy of its cluster's).
 */
function requireServerData(command: AdminCommand, config: HushdConfig): void {
  if (command.cmd === 'fingerprint') {
    if (hasIdentity(config.dataDir)) return;
    if (config.store !== null) throw missingIdentity(config.dataDir);
  } else if (config.store !== null && command.cmd !== 'import') return;
  requireDatabase(config.dataDir);
}

/**
 * A store failure in words: SQLite's and the file system's name the data directory's file and what
 * to do, PostgreSQL's never the URL (it may hold a password). Anything else is thrown on.
 */
function storeFailure(err: unknown, io: AdminIO, database: string): number {
  const words = err instanceof ServerDataError ? err.message : storeFailureText(err, database);
  if (words !== undefined) io.err(`hushd: ${words}`);
  else if (typeof (err as { code?: unknown }).code === 'string') io.err(`hushd: PostgreSQL: ${(err as Error).message}`);
  else throw err;
  return 1;
}

/** `hushd migrate` and `hushd import`. The PostgreSQL URL is never printed: it may hold a password. */
async function runStoreCommand(
  command: Extract<AdminCommand, { cmd: 'migrate' | 'import' }>,
  config: HushdConfig,
  io: AdminIO,
): Promise<number> {
  const database = dataPaths(config.dataDir).database;
  if (command.cmd === 'import') {
    const holder = dataDirHolder(config.dataDir);
    if (holder) {
      io.err(
        `hushd: stop the hushd running on ${config.dataDir}${holder.pid === undefined ? '' : ` (pid ${holder.pid})`} first: ` +
          'a copy taken while it runs misses what it writes afterwards',
      );
      return 1;
    }
  }
  try {
    if (command.cmd === 'import') {
      const counts = await importSqliteIntoPostgres(database, config.store!);
      io.out(
        `imported ${database} into PostgreSQL: ${Object.entries(counts)
          .map(([table, n]) => `${table} ${n}`)
          .join(', ')}`,
      );
      return 0;
    }
    // Opening a store brings its schema up to date.
    const opened = await openAdminStore(config);
    const applied = opened.migrated;
    await opened.close();
    if (config.store === null) io.out(`${database}: schema version ${SCHEMA_VERSION}`);
    else {
      io.out(
        `PostgreSQL: schema version ${PG_SCHEMA_VERSION}${applied.length > 0 ? ` (applied ${applied.join(', ')})` : ' (already up to date)'}`,
      );
    }
    return 0;
  } catch (err) {
    return storeFailure(err, io, database);
  }
}

/** Strips control and bidi characters from text shown on a terminal. */
export function printable(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g, '?');
}
