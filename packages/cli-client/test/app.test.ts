import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sdkConnector } from '../src/connect.js';
import { lowOrderKeyServer } from './helpers/low-order-key-server.js';
import { loginErrorText, type RunningApp } from '../src/app.js';
import { FakeSession, launchApp, type LaunchOptions } from './helpers/fake-app.js';
import { waitFor } from './helpers/fake-terminal.js';

let app: RunningApp | null = null;
afterEach(async () => {
  app?.quit();
  await app?.exited;
  app = null;
});

/** The app, quit after the test. */
function launch(opts: LaunchOptions = {}) {
  const t = launchApp(opts);
  app = t.app;
  return t;
}

/** Logged in on its own, with #lobby on screen. */
async function inLobby() {
  const t = launch({ password: 'pw', autoLogin: true });
  await t.shows('#lobby');
  return t;
}

describe('app (fake terminal, fake client)', () => {
  it('shows the login form with a masked password and logs in with Enter', async () => {
    const t = launch({ password: 'hunter2' });
    await t.shows('hush — log in');
    expect(t.text()).toContain('*******');
    expect(t.text()).not.toContain('hunter2');
    t.type('\r');
    await t.shows('#lobby');
    expect(t.session.loggedIn).toEqual([['mia', 'hunter2']]);
    expect(t.remembered.at(-1)).toMatchObject({ host: '127.0.0.1', port: 5555, user: 'mia' });
    expect(t.output.data).not.toContain('hunter2');
    await t.shows('room messages: encrypted in transit, readable by the server');
  });

  it('asks for trust on first contact and refuses when declined', async () => {
    const t = launch({
      password: 'pw',
      autoLogin: true,
      connect: async (req) => {
        const ok = await req.trust({
          host: req.host,
          port: req.port,
          fingerprint: 'SHA512:abc\x1b]0;evil\x07',
          shortFingerprint: '1111 2222',
        });
        if (!ok) throw Object.assign(new Error('server not trusted'), { code: 'UNTRUSTED_SERVER' });
        return new FakeSession();
      },
    });
    await t.shows('Short fingerprint: 1111 2222');
    expect(t.text()).toContain('SHA512:abc');
    expect(t.output.data).not.toContain('evil');
    await t.shows('[n] no'); // armed
    t.type('n');
    await t.shows('server not trusted: compare it with the');
  });

  it('a changed server key exits non-zero with the SDK error', async () => {
    const t = launch({
      password: 'pw',
      autoLogin: true,
      connect: async () => {
        throw Object.assign(new Error('the server key changed!'), { code: 'SERVER_KEY_CHANGED' });
      },
    });
    const code = await app!.exited;
    expect(code).toBe(2);
    app = null;
    expect(t.text()).toBeDefined();
  });

  it('a refused handshake says why on the form (real SDK, fake server offering a low-order key)', async () => {
    const fake = await lowOrderKeyServer();
    const dir = await mkdtemp(join(tmpdir(), 'hush-app-'));
    try {
      const t = launch({
        password: 'pw',
        autoLogin: true,
        server: `127.0.0.1:${fake.port}`,
        connect: sdkConnector({ configDir: join(dir, 'config'), dataDir: join(dir, 'data') }),
      });
      await t.shows('HANDSHAKE_FAILED');
      // Wrapped over several rows of the form: compare without the line breaks and borders.
      await waitFor(
        () =>
          /the server offered a low-order key/.test(
            t
              .text()
              .replace(/\s*│\s*/g, ' ')
              .replace(/\s+/g, ' '),
          ),
        `the reason in:\n${t.text()}`,
      );
      expect(t.text()).toContain('log in');
    } finally {
      await fake.close();
      await rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    }
  });

  it("shows a peer's read marker as 'seen by' in the status bar", async () => {
    const t = await inLobby();
    t.type('/msg bob lunch?\r');
    await waitFor(() => t.session.calls.some((c) => c[0] === 'sendDirect'), 'the DM');
    t.type('\x1b3'); // Alt+3: the DM with bob
    await t.shows('end-to-end encrypted');
    expect(t.text()).not.toContain('seen by bob');
    t.session.emit('read', { from: 'bob', target: { user: 'bob' }, msgId: `s${t.session.nextId - 1}` }); // the DM's id
    await t.shows('seen by bob');
  });

  it('stays on the form after a failed login', async () => {
    const t = launch({ password: 'wrong', autoLogin: true });
    await t.shows('wrong username or password. New here? Press Ctrl+R to tick');
    expect(t.text()).not.toContain('AUTH_FAILED: AUTH_FAILED');
  });

  it('chat: messages render sanitised, typing shows, Tab completes, the picker inserts', async () => {
    const t = await inLobby();
    t.session.emit('message', {
      kind: 'room',
      id: 'x1',
      ts: Date.now(),
      from: 'bob',
      room: 'lobby',
      text: 'hi\r<alice> fake {red-fg}red\x1b]0;title\x07\x1b[2J',
      action: false,
      mine: false,
    });
    await t.shows('<alice> fake {red-fg}red'); // inside bob's line: a carriage return cannot start a row
    expect(t.text()).not.toMatch(/^\S*<alice>/m);
    t.session.emit('typing', { from: 'bob', target: { room: 'lobby' }, active: true });
    await t.shows('bob typing');
    t.type('b\t');
    await t.shows('> bob: ');
    t.type('\x05'); // Ctrl+E
    await t.shows('search: _');
    await t.shows('↑↓ choose · Enter inserts · Esc closes'); // the keys, said in the picker
    t.type('tada');
    await t.shows(':tada:');
    t.type('\r');
    await t.shows('> bob: 🎉');
    t.type('\r');
    await waitFor(() => t.session.calls.some((c) => c[0] === 'send' && c[2] === 'bob: 🎉'), 'send');
  });

  it('chat: Ctrl+O then Enter opens a DM with the selected person', async () => {
    const t = await inLobby();
    t.type('\x0f'); // Ctrl+O
    t.type('\r');
    await t.shows('@bob');
    await t.shows('end-to-end encrypted (unverified)');
  });

  it('rings the bell on a direct message and on a mention, not on plain chatter', async () => {
    const t = await inLobby();
    const bells = () => t.output.data.split('\x07').length - 1;
    // OSC sequences that blessed itself writes end in BEL too: count from here
    const base = bells();
    t.session.emit('message', {
      kind: 'room',
      id: 'p1',
      ts: Date.now(),
      from: 'bob',
      room: 'lobby',
      text: 'plain',
      action: false,
      mine: false,
    });
    await t.shows('<bob> plain');
    t.session.emit('message', {
      kind: 'room',
      id: 'p2',
      ts: Date.now(),
      from: 'bob',
      room: 'lobby',
      text: 'hey mia',
      action: false,
      mine: false,
    });
    await t.shows('<bob> hey mia');
    await waitFor(() => bells() === base + 1, 'the mention bell');
    t.session.emit('message', { kind: 'dm', id: 'd1', ts: Date.now(), from: 'bob', peer: 'bob', text: 'psst', action: false, mine: false });
    await t.shows('@bob');
    await waitFor(() => bells() === base + 2, 'the DM bell');
    expect(bells()).toBe(base + 2);
  });

  it('PageUp scrolls back and PageDown returns', async () => {
    const t = await inLobby();
    for (let i = 0; i < 120; i++) {
      t.session.emit('message', {
        kind: 'room',
        id: `m${i}`,
        ts: Date.now(),
        from: 'bob',
        room: 'lobby',
        text: `line number ${i}`,
        action: false,
        mine: false,
      });
    }
    await t.shows('line number 119');
    expect(t.text()).not.toContain('line number 50 ');
    t.type('\x1b[5~\x1b[5~'); // PageUp twice
    await t.shows('(PageDown)');
    expect(t.text()).not.toContain('line number 119');
    t.type('\x1b[6~\x1b[6~\x1b[6~');
    await waitFor(() => t.text().includes('line number 119') && !t.text().includes('(PageDown)'), 'back at the bottom');
  });

  it('Ctrl+C quits cleanly and closes the client', async () => {
    const t = await inLobby();
    t.type('\x03');
    expect(await app!.exited).toBe(0);
    app = null;
    expect(t.session.calls.some((c) => c[0] === 'close')).toBe(true);
  });
});

describe('app: the first hour', () => {
  it('states the username rule before connecting, and asks for a password to register', async () => {
    const t = launch({ user: 'Bob Smith', password: 'pw', autoLogin: true });
    await t.shows('cannot be a username: a username is 3 to 24');
    expect(t.requests).toHaveLength(0);
    app!.quit();
    await app!.exited;
    const r = launch({ user: 'newbie', register: true });
    r.type('\r'); // on the username field with no password: moves to the password
    r.type('\r');
    await r.shows('type a password for the new account');
    // Connected only to learn whether this device holds the account already (then it logs in).
    expect(r.requests).toHaveLength(1);
  });

  it('says the rule or the way out for each refusal, never a code twice', () => {
    const attempt = { register: true, user: 'bob', host: 'h', port: 1 };
    const e = (code: string, message = code) => Object.assign(new Error(message), { code });
    expect(loginErrorText(e('PASSWORD_WEAK'), attempt)).toMatch(/at least 8 characters/);
    // The rule broken, as the server says it.
    expect(loginErrorText(e('PASSWORD_WEAK', 'password must not be the username'), attempt)).toBe(
      'that password is too weak: password must not be the username',
    );
    expect(loginErrorText(e('INVALID_INVITE', 'that invite code is not valid, or it was used already'), attempt)).toBe(
      'that invite code is not valid, or it was used already: type the code its admin gave you in the invite field',
    );
    expect(loginErrorText(e('USERNAME_INVALID', 'username must be at least 3 characters'), attempt)).toMatch(
      /3 to 24 characters.*\(username must be at least 3/,
    );
    expect(loginErrorText(e('USERNAME_TAKEN'), attempt)).toMatch(/"bob" is taken/);
    expect(loginErrorText(e('INVALID_INVITE'), attempt)).toMatch(/invite field/);
    expect(loginErrorText(e('AUTH_FAILED'), { ...attempt, register: false })).toMatch(/Ctrl\+R to tick "register"/);
    expect(loginErrorText(e('NOT_FOUND'), attempt)).toBe('not found [NOT_FOUND]');
    expect(loginErrorText(e('FORBIDDEN', 'you may not'), attempt)).toBe('you may not [FORBIDDEN]');
  });

  it('a connection refused before any session says what to check: the address, the fingerprint', () => {
    const attempt = { register: false, user: 'bob', host: 'h', port: 1 };
    const e = (code: string, message = code) => Object.assign(new Error(message), { code });
    // The network's reason in words, its code kept for whoever searches it.
    const socket = (errno: string) => Object.assign(e('CONNECT_FAILED', `h:1: getaddrinfo ${errno} h`), { cause: { code: errno } });
    expect(loginErrorText(socket('ENOTFOUND'), attempt)).toBe(
      'could not reach h:1: no host has that name (ENOTFOUND): check the server address, and that hushd runs there',
    );
    expect(loginErrorText(socket('ECONNREFUSED'), attempt)).toMatch(/^could not reach h:1: nothing listens on that port \(ECONNREFUSED\)/);
    expect(loginErrorText(socket('EWHATEVER'), attempt)).toBe(
      'could not reach h:1 (h:1: getaddrinfo EWHATEVER h): check the server address, and that hushd runs there',
    );
    // Something listens there that is not hushd: it never answers, or answers in another tongue.
    expect(loginErrorText(e('TIMEOUT', 'no handshake from h:1'), attempt)).toBe(
      "h:1 does not speak hushd's protocol (no handshake from h:1): check the server address and port with its admin [TIMEOUT]",
    );
    expect(loginErrorText(e('HANDSHAKE_FAILED', 'the server sent an invalid handshake'), attempt)).toMatch(
      /^h:1 does not speak hushd's protocol/,
    );
    // A tampered handshake keeps its own words; a timeout once connected is no address problem.
    const tampered = "handshake refused: the server's signature does not verify: someone may be intercepting the connection";
    expect(loginErrorText(e('HANDSHAKE_FAILED', tampered), attempt)).toBe(`${tampered} [HANDSHAKE_FAILED]`);
    expect(loginErrorText(e('TIMEOUT', 'no reply to login within 10000 ms'), { ...attempt, connected: true })).toBe(
      'no reply to login within 10000 ms [TIMEOUT]',
    );
    expect(
      loginErrorText(e('UNTRUSTED_SERVER', 'server fingerprint X does not match the expected Y'), { ...attempt, expected: 'Y' }),
    ).toMatch(/does not match the expected Y: check it with the admin; while it does not match, do not log in: .* \[UNTRUSTED_SERVER\]$/);
    expect(loginErrorText(e('UNTRUSTED_SERVER', 'first contact with h:1: fingerprint X was not confirmed'), attempt)).toMatch(
      /not confirmed: compare it with the fingerprint the admin gave you, then press Enter to be asked again \[UNTRUSTED_SERVER\]$/,
    );
  });

  it('registers with the invite code typed in the form', async () => {
    class InviteSession extends FakeSession {
      invites: Array<string | undefined> = [];
      override async register(username: string, _password: string, opts: { invite?: string } = {}): Promise<void> {
        this.invites.push(opts.invite);
        this.user = username;
      }
    }
    const session = new InviteSession();
    const t = launch({ user: 'newbie', password: 'long enough pw', register: true, connect: async () => session });
    await t.shows('hush — register');
    t.type('\x1b[B\x1b[B\x1b[B'); // Down x3: username -> password -> register -> invite
    t.type('k3y-2026\r');
    await t.shows('#lobby');
    expect(session.invites).toEqual(['k3y-2026']);
  });
});

describe('app: what the SDK says while logging in', () => {
  it("a new account's end-to-end notice, given during registration, is shown in its room's pane", async () => {
    class Registering extends FakeSession {
      override async register(username: string): Promise<void> {
        this.user = username;
        this.emit('notice', {
          level: 'info',
          code: 'E2E_ROOM_JOINED',
          text: '#lobby is end-to-end encrypted: you read what is sent from now on; earlier messages stay closed to you',
        });
      }
    }
    const session = new Registering();
    const t = launch({ user: 'newbie', password: 'long enough pw', register: true, autoLogin: true, connect: async () => session });
    await t.shows('earlier messages stay closed to you');
    expect(t.text()).toContain('hush  #lobby'); // in the room's pane, where it is read
  });
});

describe('app: pastes', () => {
  const PASTE = (s: string) => `\x1b[200~${s}\x1b[201~`;

  it('a short multi-line paste lands in the input and goes as one message', async () => {
    const t = await inLobby();
    expect(t.output.data).toContain('\x1b[?2004h'); // bracketed paste on
    t.type(PASTE('first line\rsecond line\r'));
    await waitFor(() => t.inputLine().includes('first line↵second line'), 'the paste in the input');
    expect(t.session.calls.filter((c) => c[0] === 'send')).toEqual([]);
    t.type('\r');
    await waitFor(() => t.session.calls.some((c) => c[0] === 'send'), 'the send');
    expect(t.session.calls.filter((c) => c[0] === 'send')).toEqual([['send', 'lobby', 'first line\nsecond line']]);
  });

  it('a long paste asks first; y sends it as one message, n drops it, e puts it in the input line', async () => {
    const t = await inLobby();
    const lines = Array.from({ length: 20 }, (_, i) => `pasted ${i + 1}`);
    t.type(PASTE(lines.join('\r')));
    await t.shows('You pasted 20 lines');
    await t.shows('[y] send');
    t.type('y');
    await waitFor(() => t.session.calls.some((c) => c[0] === 'send'), 'the send');
    expect(t.session.calls.filter((c) => c[0] === 'send')).toEqual([['send', 'lobby', lines.join('\n')]]);
    t.type(PASTE(lines.join('\n')));
    await t.shows('You pasted 20 lines');
    t.type('x'); // a key typed as the prompt opens is meant for the input line
    await t.shows('[n] drop the paste');
    t.type('n');
    await waitFor(() => !t.text().includes('You pasted'), 'the prompt closed');
    expect(t.session.calls.filter((c) => c[0] === 'send')).toHaveLength(1);
    expect(t.inputLine().trim()).toBe('> x');
    t.type('\x15'); // Ctrl+U
    t.type(PASTE(lines.join('\n')));
    await t.shows('[e] edit');
    t.type('e');
    await waitFor(() => t.inputLine().includes('pasted 19↵pasted 20'), `the paste in the input line:\n${t.inputLine()}`);
    expect(t.session.calls.filter((c) => c[0] === 'send')).toHaveLength(1);
  });

  it('the Escape key still works alone, and a paste that never ends is let through', async () => {
    const t = await inLobby();
    t.type('\x05'); // Ctrl+E: the picker
    await t.shows('search: _');
    t.type('\x1b'); // Esc alone: it could start a paste marker, so it waits a moment, then closes the picker
    await waitFor(() => !t.text().includes('search: _'), 'the picker closed');
    t.type('\x1b[200~no end marker');
    await waitFor(() => t.inputLine().includes('no end marker'), 'the unfinished paste in the input');
    t.type('!');
    await waitFor(() => t.inputLine().includes('no end marker!'), 'typing goes on');
  });

  it('a 10,000-character paste shows in the input at once, and sends split at word boundaries', async () => {
    const t = await inLobby();
    const words = Array.from({ length: 2000 }, (_, i) => `w${i}`).join(' ');
    const text = `${words} end`.slice(-10_000);
    const t0 = performance.now();
    t.type(PASTE(text));
    await waitFor(() => t.inputLine().includes('w1999 end'), 'the paste in the input');
    expect(performance.now() - t0).toBeLessThan(10_000); // holds on a loaded machine
    t.type('\r');
    await waitFor(() => t.session.calls.filter((c) => c[0] === 'send').length === 3, 'three sends');
    const sent = t.session.calls.filter((c) => c[0] === 'send').map((c) => c[2] as string);
    for (const piece of sent) expect(piece.length).toBeLessThanOrEqual(4000);
    expect(sent.join(' ')).toBe(text);
  });
});

/** bob offers a file to #lobby. */
const roomOffer = (fileId: string, name: string, size: number) => ({
  fileId,
  from: 'bob',
  target: { room: 'lobby' },
  name,
  size,
  e2e: false,
  ts: Date.now(),
});

/** bob offers a file and the question about it is on screen, with the answer `key`. */
async function offerAsked(t: Awaited<ReturnType<typeof inLobby>>, fileId: string, name: string, key: string): Promise<void> {
  t.session.emit('fileOffer', roomOffer(fileId, name, 1));
  await t.shows(`bob offers "${name}"`);
  await t.shows(key);
}

describe('app: file offers', () => {
  it('asks there and then: a accepts into the prefilled downloads folder', async () => {
    const t = await inLobby();
    await offerAsked(t, 'f1', 'notes.txt', '[a] accept');
    t.type('a');
    await t.shows('into folder:');
    await t.shows('> /tmp/dl');
    t.type('\r');
    await waitFor(() => t.session.calls.some((c) => c[0] === 'acceptFile'), 'the accept');
    expect(t.session.calls.find((c) => c[0] === 'acceptFile')).toEqual(['acceptFile', 'f1', '/tmp/dl']);
  });

  it('waits while a line is being typed, and keys typed as it opens stay in the input line', async () => {
    const t = await inLobby();
    t.type('a half-typed line');
    t.session.emit('fileOffer', roomOffer('f1', 'c.bin', 1));
    await t.shows('file offer from bob: "c.bin"');
    t.type(' and more');
    expect(t.text()).not.toContain('bob offers');
    t.type('\r');
    await t.shows('bob offers "c.bin"');
    t.type('a'); // typed at once: the start of the next line, not an answer; the prompt is put off
    await waitFor(() => !t.text().includes('bob offers'), 'the prompt put off');
    await waitFor(() => t.inputLine().includes('> a'), 'the key in the input line');
    expect(t.session.calls.filter((c) => c[0] === 'send')).toEqual([['send', 'lobby', 'a half-typed line and more']]);
    expect(t.session.calls.some((c) => c[0] === 'acceptFile')).toBe(false);
  });

  it('d declines; l leaves it for /accept', async () => {
    const t = await inLobby();
    await offerAsked(t, 'f1', 'a.bin', '[d] decline');
    t.type('d');
    await waitFor(() => t.session.calls.some((c) => c[0] === 'declineFile'), 'the decline');
    await offerAsked(t, 'f2', 'b.bin', '[l] later');
    t.type('l');
    await waitFor(() => !t.text().includes('bob offers'), 'the prompt closed');
    await t.shows('/accept');
    expect(t.session.calls.filter((c) => c[0] === 'acceptFile' || c[0] === 'declineFile')).toEqual([['declineFile', 'f1']]);
  });
});
