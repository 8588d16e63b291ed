import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Accounts, type AccountsOptions } from '../src/accounts.js';
import { AccountError } from '../src/errors.js';
import { asyncStore, SqliteStore } from '../src/store/index.js';

const N = 2 ** 10; // fast hashing for tests
let store: SqliteStore;
beforeEach(() => {
  store = SqliteStore.open(':memory:');
});
afterEach(() => store.close());

const make = (opts: Partial<AccountsOptions> = {}) =>
  new Accounts(asyncStore(store), { registration: 'open', minPasswordLength: 8, scryptN: N, ...opts });
const PW = 'correct horse battery';

describe('register', () => {
  it('creates a user with role "user" and a self-describing scrypt hash', async () => {
    const a = make();
    const r = await a.register({ username: 'Alice', password: PW }, 1000);
    expect(r).toMatchObject({ ok: true, user: { name: 'alice', role: 'user', createdAt: 1000 } });
    const stored = store.getUser('alice')!;
    expect(stored.passwordHash).toMatch(/^scrypt\$1024\$8\$1\$/);
    expect(stored.passwordHash).not.toContain(PW);
  });

  it('refuses registration when closed', async () => {
    expect(await make({ registration: 'closed' }).register({ username: 'alice', password: PW }, 1)).toEqual({
      ok: false,
      code: 'REGISTRATION_CLOSED',
    });
    expect(store.listUsers()).toEqual([]);
  });

  it('needs a valid, unused invite in invite mode', async () => {
    const a = make({ registration: 'invite' });
    const code = await a.createInvite(null, 1);
    expect(code).toMatch(/^[A-Za-z0-9_-]{24}$/);
    const noCode = { ok: false, code: 'INVALID_INVITE', message: 'this server registers new accounts only with an invite code' };
    const badCode = { ok: false, code: 'INVALID_INVITE', message: 'that invite code is not valid, or it was used already' };
    expect(await a.register({ username: 'alice', password: PW }, 1)).toEqual(noCode);
    expect(await a.register({ username: 'alice', password: PW, invite: 'wrong' }, 1)).toEqual(badCode);
    expect(store.getUser('alice')).toBeUndefined();
    expect(await a.register({ username: 'alice', password: PW, invite: code }, 1)).toMatchObject({ ok: true });
    expect(await a.register({ username: 'bob', password: PW, invite: code }, 1)).toEqual(badCode);
    expect(store.getUser('bob')).toBeUndefined();
  });

  it('does not spend an invite on a failed registration', async () => {
    const a = make({ registration: 'invite' });
    const code = await a.createInvite(null, 1);
    expect(await a.register({ username: 'x', password: PW, invite: code }, 1)).toMatchObject({ ok: false, code: 'USERNAME_INVALID' });
    expect(await a.register({ username: 'carol', password: 'short', invite: code }, 1)).toMatchObject({ ok: false, code: 'PASSWORD_WEAK' });
    expect(await a.register({ username: 'carol', password: PW, invite: code }, 1)).toMatchObject({ ok: true });
  });

  it('refuses invalid usernames', async () => {
    const a = make();
    for (const username of ['ab', '\u0430dmin', 'ad\u200bmin', 'bad name', 'x'.repeat(30)]) {
      // The rule broken, in words (the normaliser's reason).
      expect(await a.register({ username, password: PW }, 1), username).toEqual({
        ok: false,
        code: 'USERNAME_INVALID',
        message: expect.stringMatching(/^username (must|contains) /),
      });
    }
  });

  it('refuses weak passwords', async () => {
    const a = make({ minPasswordLength: 10 });
    // Each refusal names the rule broken.
    for (const [password, message] of [
      ['', 'password must be at least 10 characters'],
      ['short', 'password must be at least 10 characters'],
      ['123456789', 'password must be at least 10 characters'],
      ['aaaaaaaaaaaa', 'password must not repeat one character'],
      ['Alice12345', 'password must not be the username'],
      ['x'.repeat(1025), 'password must be at most 1024 characters'],
    ]) {
      const username = password === 'Alice12345' ? 'alice12345' : 'alice';
      expect(await a.register({ username, password: password! }, 1), password).toEqual({ ok: false, code: 'PASSWORD_WEAK', message });
    }
    expect(await a.register({ username: 'alice', password: '0123456789' }, 1)).toMatchObject({ ok: true });
  });

  it('refuses taken names, case variants and look-alikes', async () => {
    const a = make();
    expect(await a.register({ username: 'walter', password: PW }, 1)).toMatchObject({ ok: true });
    for (const username of ['walter', 'Walter', 'WALTER', 'vvalter', 'wa_lter', 'ｗａｌｔｅｒ']) {
      expect(await a.register({ username, password: PW }, 1), username).toEqual({ ok: false, code: 'USERNAME_TAKEN' });
    }
    expect(await a.register({ username: 'walters', password: PW }, 1)).toMatchObject({ ok: true });
  });

  it('reserves admin-like names over the network but lets the admin create them', async () => {
    const a = make();
    for (const username of ['admin', 'Admin', 'adm1n', 'root', 'system']) {
      expect(await a.register({ username, password: PW }, 1), username).toEqual({ ok: false, code: 'USERNAME_TAKEN' });
    }
    const admin = await a.addUser('admin', PW, 'admin', 1);
    expect(admin).toMatchObject({ name: 'admin', role: 'admin' });
    await expect(a.addUser('adm1n', PW, 'user', 1)).rejects.toMatchObject({ code: 'USERNAME_TAKEN' });
  });

  it('lets only one of two concurrent registrations of the same name win', async () => {
    const a = make();
    const results = await Promise.all([
      a.register({ username: 'dave', password: PW }, 1),
      a.register({ username: 'Dave', password: PW }, 1),
    ]);
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok)).toEqual([{ ok: false, code: 'USERNAME_TAKEN' }]);
  });
});

describe('login', () => {
  it('accepts the right password (any case of the name)', async () => {
    const a = make();
    await a.register({ username: 'alice', password: PW }, 1);
    expect(await a.login({ username: 'ALICE', password: PW, address: '1.1.1.1' }, 2)).toMatchObject({ ok: true, user: { name: 'alice' } });
  });

  it('answers unknown users and wrong passwords with the same generic AUTH_FAILED', async () => {
    const a = make();
    await a.register({ username: 'alice', password: PW }, 1);
    const wrong = await a.login({ username: 'alice', password: 'not the password', address: 'a' }, 2);
    const unknown = await a.login({ username: 'mallory', password: PW, address: 'b' }, 2);
    const invalid = await a.login({ username: '\u0430lice', password: PW, address: 'c' }, 2);
    expect(wrong).toEqual({ ok: false, code: 'AUTH_FAILED' });
    expect(unknown).toEqual(wrong);
    expect(invalid).toEqual(wrong);
  });

  it('refuses an account with no password', async () => {
    store.createUser('nopass', null, 'user', 1);
    expect(await make().login({ username: 'nopass', password: '', address: 'a' }, 1)).toEqual({ ok: false, code: 'AUTH_FAILED' });
  });

  it('reports BANNED only after the right password, and only while the ban lasts', async () => {
    const a = make();
    await a.register({ username: 'alice', password: PW }, 1);
    store.setUserBan('alice', 10_000, 'spam');
    expect(await a.login({ username: 'alice', password: 'wrong password', address: 'a' }, 5000)).toEqual({
      ok: false,
      code: 'AUTH_FAILED',
    });
    expect(await a.login({ username: 'alice', password: PW, address: 'a' }, 5000)).toEqual({
      ok: false,
      code: 'BANNED',
      message: 'this account is banned: spam (until 1970-01-01 00:00 UTC)',
    });
    expect(await a.login({ username: 'alice', password: PW, address: 'a' }, 10_000)).toMatchObject({ ok: true });
    store.setUserBan('alice', Number.POSITIVE_INFINITY, null);
    expect(await a.login({ username: 'alice', password: PW, address: 'a' }, 9e15)).toEqual({
      ok: false,
      code: 'BANNED',
      message: 'this account is banned (until an admin lifts it)',
    });
  });

  it('backs off per account after repeated failures, exponentially and capped', async () => {
    const a = make({ accountBackoff: { freeAttempts: 2, baseMs: 1000, maxMs: 4000 }, addressBackoff: { freeAttempts: 1000 } });
    await a.register({ username: 'alice', password: PW }, 0);
    let t = 0;
    const attempt = (password: string, address = `10.0.0.${t}`) => a.login({ username: 'alice', password, address }, t);
    expect(await attempt('bad-1')).toEqual({ ok: false, code: 'AUTH_FAILED' });
    expect(await attempt('bad-2')).toEqual({ ok: false, code: 'AUTH_FAILED' });
    t = 1;
    expect(await attempt('bad-3')).toEqual({ ok: false, code: 'AUTH_FAILED' }); // third failure: 1 s delay
    // Even the right password waits, from any address: the account is what is protected.
    expect(await attempt(PW)).toEqual({
      ok: false,
      code: 'RATE_LIMITED',
      retryAfterMs: 1000,
      message: 'too many failed logins: try again in 1 s',
    });
    t = 1001;
    expect(await attempt('bad-4')).toEqual({ ok: false, code: 'AUTH_FAILED' }); // 2 s
    expect(await attempt(PW)).toEqual({
      ok: false,
      code: 'RATE_LIMITED',
      retryAfterMs: 2000,
      message: 'too many failed logins: try again in 2 s',
    });
    t = 3001;
    expect(await attempt('bad-5')).toEqual({ ok: false, code: 'AUTH_FAILED' }); // 4 s (cap)
    t = 7001;
    expect(await attempt('bad-6')).toEqual({ ok: false, code: 'AUTH_FAILED' }); // still 4 s
    expect(await attempt(PW)).toEqual({
      ok: false,
      code: 'RATE_LIMITED',
      retryAfterMs: 4000,
      message: 'too many failed logins: try again in 4 s',
    });
    t = 11_001;
    expect(await attempt(PW)).toMatchObject({ ok: true });
    // Success resets the account's counter.
    expect(await attempt('bad-7')).toEqual({ ok: false, code: 'AUTH_FAILED' });
    expect(await attempt(PW)).toMatchObject({ ok: true });
  });

  it('backs off per address across many accounts (also unknown ones)', async () => {
    const a = make({ addressBackoff: { freeAttempts: 3, baseMs: 500, maxMs: 60_000 } });
    await a.register({ username: 'alice', password: PW }, 0);
    for (const username of ['u1x', 'u2x', 'u3x']) {
      expect(await a.login({ username, password: 'x', address: '192.0.2.9' }, 0)).toEqual({ ok: false, code: 'AUTH_FAILED' });
    }
    expect(await a.login({ username: 'u4x', password: 'x', address: '192.0.2.9' }, 0)).toEqual({ ok: false, code: 'AUTH_FAILED' });
    expect(await a.login({ username: 'alice', password: PW, address: '192.0.2.9' }, 100)).toEqual({
      ok: false,
      code: 'RATE_LIMITED',
      retryAfterMs: 400,
      message: 'too many failed logins: try again in 1 s',
    });
    // Another address is unaffected.
    expect(await a.login({ username: 'alice', password: PW, address: '192.0.2.10' }, 100)).toMatchObject({ ok: true });
    expect(await a.login({ username: 'alice', password: PW, address: '192.0.2.9' }, 500)).toMatchObject({ ok: true });
  });

  it('checks a dummy hash for unknown users (same work as a real user)', async () => {
    const a = make({ scryptN: 2 ** 14 });
    await a.register({ username: 'alice', password: PW }, 0);
    await a.login({ username: 'warmup', password: 'x', address: 'w' }, 0); // computes the dummy once
    const time = async (username: string, address: string) => {
      const t0 = process.hrtime.bigint();
      await a.login({ username, password: 'wrong password', address }, 0);
      return Number(process.hrtime.bigint() - t0) / 1e6;
    };
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 3; i++) {
      known.push(await time('alice', `k${i}`));
      unknown.push(await time(`ghost${i}`, `u${i}`));
    }
    const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[1]!;
    // An unknown user must cost a real scrypt (tens of ms at N=2^14), not return at once.
    expect(median(unknown)).toBeGreaterThan(median(known) * 0.4);
  });

  it('limits concurrent hashing and refuses beyond the queue with RATE_LIMITED', async () => {
    const a = make({ scryptN: 2 ** 14, maxConcurrentHashes: 1, maxQueuedHashes: 1 });
    await a.register({ username: 'alice', password: PW }, 0);
    const results = await Promise.all([0, 1, 2, 3].map((i) => a.login({ username: 'alice', password: PW, address: `a${i}` }, 0)));
    expect(results.filter((r) => r.ok)).toHaveLength(2);
    expect(results.filter((r) => !r.ok)).toEqual([
      { ok: false, code: 'RATE_LIMITED', retryAfterMs: 1000, message: 'the server is busy checking passwords: try again in a second' },
      { ok: false, code: 'RATE_LIMITED', retryAfterMs: 1000, message: 'the server is busy checking passwords: try again in a second' },
    ]);
    const reg = await Promise.all(['bob', 'carol', 'dave'].map((username) => a.register({ username, password: PW }, 0)));
    expect(reg.map((r) => (r.ok ? 'ok' : r.code))).toEqual(['ok', 'ok', 'RATE_LIMITED']);
  });

  it('upgrades a weaker stored hash after a successful login', async () => {
    const weak = make({ scryptN: 2 ** 10 });
    await weak.register({ username: 'alice', password: PW }, 0);
    const strong = make({ scryptN: 2 ** 11 });
    expect(await strong.login({ username: 'alice', password: PW, address: 'a' }, 1)).toMatchObject({ ok: true });
    expect(store.getUser('alice')!.passwordHash).toMatch(/^scrypt\$2048\$/);
    expect(await strong.login({ username: 'alice', password: PW, address: 'a' }, 1)).toMatchObject({ ok: true });
  });
});

describe('setPassword', () => {
  it('replaces the password and resets the account back-off', async () => {
    const a = make({ accountBackoff: { freeAttempts: 1 } });
    await a.register({ username: 'alice', password: PW }, 0);
    await a.login({ username: 'alice', password: 'bad bad bad', address: 'x1' }, 0);
    await a.login({ username: 'alice', password: 'bad bad bad', address: 'x2' }, 0);
    expect(await a.login({ username: 'alice', password: PW, address: 'x3' }, 0)).toMatchObject({ code: 'RATE_LIMITED' });
    await a.setPassword('Alice', 'a brand new password');
    expect(await a.login({ username: 'alice', password: PW, address: 'x4' }, 0)).toEqual({ ok: false, code: 'AUTH_FAILED' });
    expect(await a.login({ username: 'alice', password: 'a brand new password', address: 'x5' }, 0)).toMatchObject({ ok: true });
  });

  it('throws AccountError for unknown users and weak passwords', async () => {
    const a = make();
    await a.register({ username: 'alice', password: PW }, 0);
    await expect(a.setPassword('ghost', PW)).rejects.toBeInstanceOf(AccountError);
    await expect(a.setPassword('ghost', PW)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(a.setPassword('alice', 'short')).rejects.toMatchObject({ code: 'PASSWORD_WEAK' });
  });
});
