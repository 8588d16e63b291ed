// Account registration and password login. Every failure a client can provoke is answered with a
// generic code, unknown users cost the same hashing work as real ones, and failures back off.
import { randomBytes } from 'node:crypto';
import { hashPassword, verifyPassword } from '@hush/crypto';
import type { RegistrationMode } from './config.js';
import { AccountError, GateBusyError, StoreError } from './errors.js';
import { HashGate } from './hash-gate.js';
import { LoginBackoff, type BackoffOptions } from './login-backoff.js';
import type { AsyncStore } from './store/async-store.js';
import type { ServerRole, UserRecord } from './store/types.js';
import { normalizeUsername, usernameSkeleton } from './usernames.js';

export type { RegistrationMode } from './config.js';

export type RegisterFailure =
  | 'REGISTRATION_CLOSED'
  | 'INVALID_INVITE'
  | 'USERNAME_TAKEN'
  | 'USERNAME_INVALID'
  | 'PASSWORD_WEAK'
  | 'RATE_LIMITED';
/** A failure's `message` says which rule was broken, where there are several. */
export type RegisterResult = { ok: true; user: UserRecord } | { ok: false; code: RegisterFailure; message?: string };
export type LoginResult =
  | { ok: true; user: UserRecord }
  | { ok: false; code: 'AUTH_FAILED' | 'RATE_LIMITED' | 'BANNED'; retryAfterMs?: number; message?: string };

export interface AccountsOptions {
  registration: RegistrationMode;
  minPasswordLength: number;
  /** scrypt cost for new hashes (tests use 2**12). */
  scryptN?: number;
  /** Password hashes computed at once (default 2). */
  maxConcurrentHashes?: number;
  /** Hashes allowed to wait for a slot before RATE_LIMITED (default 64). */
  maxQueuedHashes?: number;
  /** Back-off per client address. */
  addressBackoff?: Partial<BackoffOptions>;
  /** Back-off per account name. */
  accountBackoff?: Partial<BackoffOptions>;
}

/** Names nobody can register over the network (an admin may still create them offline). */
export const RESERVED_USERNAMES: ReadonlySet<string> = new Set(
  [
    'admin',
    'administrator',
    'root',
    'system',
    'server',
    'hush',
    'hushd',
    'moderator',
    'mod',
    'support',
    'staff',
    'security',
    'nobody',
    'everyone',
    'here',
  ].map(usernameSkeleton),
);

const MAX_PASSWORD_LENGTH = 1024;
const DEFAULT_ADDRESS_BACKOFF: BackoffOptions = {
  freeAttempts: 10,
  baseMs: 1000,
  maxMs: 5 * 60_000,
  forgetAfterMs: 15 * 60_000,
  maxEntries: 50_000,
};
const DEFAULT_ACCOUNT_BACKOFF: BackoffOptions = {
  freeAttempts: 5,
  baseMs: 1000,
  maxMs: 15 * 60_000,
  forgetAfterMs: 60 * 60_000,
  maxEntries: 50_000,
};
const BUSY_RETRY_MS = 1000;

/** A login's outcome as the back-off counts it: told to the other nodes of a cluster, which count it too. */
export interface LoginHit {
  address: string;
  account: string;
  failed: boolean;
}

export class Accounts {
  private readonly scryptN: number;
  private readonly gate: HashGate;
  private readonly byAddress: LoginBackoff;
  private readonly byAccount: LoginBackoff;
  private dummy: Promise<string> | undefined;
  private tellHit: (hit: LoginHit) => void = () => undefined;

  constructor(
    private readonly store: AsyncStore,
    private readonly opts: AccountsOptions,
  ) {
    this.scryptN = opts.scryptN ?? 2 ** 17;
    this.gate = new HashGate(Math.max(1, opts.maxConcurrentHashes ?? 2), Math.max(0, opts.maxQueuedHashes ?? 64));
    this.byAddress = new LoginBackoff({ ...DEFAULT_ADDRESS_BACKOFF, ...opts.addressBackoff });
    this.byAccount = new LoginBackoff({ ...DEFAULT_ACCOUNT_BACKOFF, ...opts.accountBackoff });
  }

  /** Where this node's login outcomes go (the other nodes), so the back-off holds across a cluster. */
  tellHitsTo(tell: (hit: LoginHit) => void): void {
    this.tellHit = tell;
  }

  /** A login outcome on another node: counted as if it happened here. */
  replayHit(hit: LoginHit, now: number): void {
    if (!hit.failed) this.byAccount.reset(hit.account);
    else {
      this.byAddress.fail(hit.address, now);
      this.byAccount.fail(hit.account, now);
    }
  }

  private hit(hit: LoginHit, now: number): void {
    this.replayHit(hit, now);
    this.tellHit(hit);
  }

  get registration(): RegistrationMode {
    return this.opts.registration;
  }

  async register(input: { username: string; password: string; invite?: string }, now: number): Promise<RegisterResult> {
    const mode = this.opts.registration;
    if (mode === 'closed') return { ok: false, code: 'REGISTRATION_CLOSED' };
    if (mode === 'invite' && !input.invite)
      return { ok: false, code: 'INVALID_INVITE', message: 'this server registers new accounts only with an invite code' };
    const norm = normalizeUsername(input.username);
    if (!norm.ok) return { ok: false, code: 'USERNAME_INVALID', message: norm.reason };
    if (RESERVED_USERNAMES.has(usernameSkeleton(norm.name))) return { ok: false, code: 'USERNAME_TAKEN' };
    const weak = this.passwordProblem(norm.name, input.password);
    if (weak) return { ok: false, code: 'PASSWORD_WEAK', message: weak };
    if (await this.isTaken(norm.name)) return { ok: false, code: 'USERNAME_TAKEN' };
    let hash: string;
    try {
      hash = await this.hash(input.password);
    } catch (err) {
      if (err instanceof GateBusyError) return { ok: false, code: 'RATE_LIMITED' };
      throw err;
    }
    // Hashing yielded the event loop: someone may have taken the name meanwhile. The store's key
    // settles a race for the very same name (ALREADY_EXISTS; the losing side's invite is spent).
    if (await this.isTaken(norm.name)) return { ok: false, code: 'USERNAME_TAKEN' };
    if (mode === 'invite' && !(await this.store.consumeInvite(input.invite ?? '', norm.name, now))) {
      return { ok: false, code: 'INVALID_INVITE', message: 'that invite code is not valid, or it was used already' };
    }
    try {
      return { ok: true, user: await this.store.createUser(norm.name, hash, 'user', now) };
    } catch (err) {
      if (err instanceof StoreError && err.code === 'ALREADY_EXISTS') return { ok: false, code: 'USERNAME_TAKEN' };
      throw err;
    }
  }

  /**
   * Same error and similar timing for unknown users (a dummy hash is checked). Back-off per address
   * and per account after failures. A banned account is reported only after a correct password.
   */
  async login(input: { username: string; password: string; address: string }, now: number): Promise<LoginResult> {
    const norm = normalizeUsername(input.username);
    const accountKey = norm.ok ? norm.name : `?${input.username.slice(0, 64)}`;
    const wait = Math.max(this.byAddress.blockedFor(input.address, now), this.byAccount.blockedFor(accountKey, now));
    if (wait > 0) {
      return {
        ok: false,
        code: 'RATE_LIMITED',
        retryAfterMs: wait,
        message: `too many failed logins: try again in ${Math.ceil(wait / 1000)} s`,
      };
    }

    const user = norm.ok ? await this.store.getUser(norm.name) : undefined;
    let valid: boolean;
    try {
      const stored = user?.passwordHash ?? (await this.dummyHash());
      valid = await this.gate.run(() => verifyPassword(input.password, stored));
    } catch (err) {
      if (err instanceof GateBusyError) {
        return {
          ok: false,
          code: 'RATE_LIMITED',
          retryAfterMs: BUSY_RETRY_MS,
          message: 'the server is busy checking passwords: try again in a second',
        };
      }
      throw err;
    }
    // Re-read: the account may have changed (ban, password reset) while hashing.
    const current = user ? await this.store.getUser(user.name) : undefined;
    if (!valid || !current || current.passwordHash !== user?.passwordHash || current.passwordHash === null) {
      this.hit({ address: input.address, account: accountKey, failed: true }, now);
      return { ok: false, code: 'AUTH_FAILED' };
    }
    this.hit({ address: input.address, account: accountKey, failed: false }, now);
    if (isBanned(current, now)) return { ok: false, code: 'BANNED', message: bannedWords(current) };
    if (hashCost(current.passwordHash) < this.scryptN) await this.upgradeHash(current.name, input.password);
    return { ok: true, user: current };
  }

  /** Admin: create an account offline, any role, reserved names allowed. Throws AccountError. */
  async addUser(name: string, password: string, role: ServerRole, now: number): Promise<UserRecord> {
    const norm = normalizeUsername(name);
    if (!norm.ok) throw new AccountError('USERNAME_INVALID', norm.reason);
    const weak = this.passwordProblem(norm.name, password);
    if (weak) throw new AccountError('PASSWORD_WEAK', weak);
    if (await this.isTaken(norm.name)) throw new AccountError('USERNAME_TAKEN', 'that name or a look-alike of it is taken');
    const hash = await this.hashOrThrow(password);
    if (await this.isTaken(norm.name)) throw new AccountError('USERNAME_TAKEN', 'that name or a look-alike of it is taken');
    return this.store.createUser(norm.name, hash, role, now);
  }

  /** Admin: replace a user's password. Throws AccountError NOT_FOUND / PASSWORD_WEAK. */
  async setPassword(name: string, password: string): Promise<void> {
    const norm = normalizeUsername(name);
    if (!norm.ok || !(await this.store.getUser(norm.name))) throw new AccountError('NOT_FOUND', 'no such user');
    const weak = this.passwordProblem(norm.name, password);
    if (weak) throw new AccountError('PASSWORD_WEAK', weak);
    const hash = await this.hashOrThrow(password);
    try {
      await this.store.setPasswordHash(norm.name, hash);
    } catch (err) {
      if (err instanceof StoreError && err.code === 'NOT_FOUND') throw new AccountError('NOT_FOUND', 'no such user');
      throw err;
    }
    this.byAccount.reset(norm.name);
  }

  /** A fresh random invite code, stored (hashed) for registration mode "invite". */
  async createInvite(createdBy: string | null, now: number): Promise<string> {
    const code = randomBytes(18).toString('base64url');
    await this.store.createInvite(code, createdBy, now);
    return code;
  }

  /** True when `name` (canonical) or a look-alike of it belongs to an existing account. */
  async isTaken(name: string): Promise<boolean> {
    if (await this.store.getUser(name)) return true;
    const skeleton = usernameSkeleton(name);
    return (await this.store.listUsers()).some((u) => usernameSkeleton(u.name) === skeleton);
  }

  /** Why a password is refused, or undefined when it is acceptable. */
  passwordProblem(name: string, password: string): string | undefined {
    if (typeof password !== 'string') return 'password must be text';
    const length = Array.from(password).length;
    if (length < this.opts.minPasswordLength) return `password must be at least ${this.opts.minPasswordLength} characters`;
    if (password.length > MAX_PASSWORD_LENGTH) return `password must be at most ${MAX_PASSWORD_LENGTH} characters`;
    if (new Set(password).size === 1) return 'password must not repeat one character';
    if (password.normalize('NFKC').toLowerCase() === name) return 'password must not be the username';
    return undefined;
  }

  private hash(password: string): Promise<string> {
    return this.gate.run(() => hashPassword(password, { N: this.scryptN }));
  }

  private async hashOrThrow(password: string): Promise<string> {
    try {
      return await this.hash(password);
    } catch (err) {
      if (err instanceof GateBusyError) throw new AccountError('RATE_LIMITED', 'too many password operations at once');
      throw err;
    }
  }

  /** A hash of a random password with the current cost: what unknown users are checked against. */
  private dummyHash(): Promise<string> {
    this.dummy ??= this.gate.run(() => hashPassword(randomBytes(16).toString('base64url'), { N: this.scryptN }));
    const d = this.dummy;
    d.catch(() => {
      if (this.dummy === d) this.dummy = undefined;
    });
    return d;
  }

  private async upgradeHash(name: string, password: string): Promise<void> {
    try {
      await this.store.setPasswordHash(name, await this.hash(password));
    } catch {
      // Busy or gone: keep the old hash, upgrade next time.
    }
  }
}

function isBanned(user: UserRecord, now: number): boolean {
  return user.bannedUntil !== null && user.bannedUntil > now;
}

/** What a banned account is told when it logs in: why, and until when (a bare "banned" said neither). */
export function bannedWords(user: Pick<UserRecord, 'bannedUntil' | 'banReason'>): string {
  return `this account is banned${user.banReason ? `: ${user.banReason}` : ''} (${banEnd(user.bannedUntil)})`;
}

/** When a ban ends, in words: `until 2026-12-08 16:00 UTC`, or `until an admin lifts it` (forever). */
export function banEnd(until: number | null): string {
  return until === null || !Number.isFinite(until)
    ? 'until an admin lifts it'
    : `until ${new Date(until).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** N of a stored "scrypt$N$r$p$salt$hash" record; Infinity when unreadable (never "upgrade" junk). */
function hashCost(stored: string): number {
  const n = Number(stored.split('$')[1]);
  return Number.isSafeInteger(n) ? n : Number.POSITIVE_INFINITY;
}
