// Questions that matter (trust a server, verify a contact, delete a message) are answered only on
// purpose: never by a letter inside typed words, never before they can be read, never when the
// terminal cannot show them whole; and a refused line never comes back glued to what is typed.
import { describe, expect, it } from 'vitest';
import type { ConnectRequest } from '../src/app.js';
import { questionLayout, TOO_SMALL } from '../src/view/modals.js';
import { appPerTest, FakeSession, type LaunchOptions } from './helpers/fake-app.js';
import { waitFor } from './helpers/fake-terminal.js';

const FINGERPRINT = `SHA512:${'1n2EjLSNag+WKaWvU0DDfAeDhOC/Y3qRehs'.repeat(2)}abcdefghijklmnopqrstuvwqjb30nlw`;

const app = appPerTest();

/** The app, with keys at a typist's pace, a terminal resize and the client's calls by name. */
function launch(opts: LaunchOptions = {}) {
  const t = app.launch(opts);
  return {
    ...t,
    typeSlowly: async (text: string) => {
      for (const ch of text) {
        t.type(ch);
        await sleep(40);
      }
    },
    resize: (cols: number, rows: number) => {
      t.output.columns = cols;
      t.output.rows = rows;
      t.output.emit('resize');
    },
    calls: (name: string) => t.session.calls.filter((c) => c[0] === name),
  };
}

async function inLobby() {
  const t = launch({ password: 'pw', autoLogin: true });
  await t.shows('#lobby');
  return t;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The screen's rows inside dialog borders, without them. */
const dialogRows = (screen: string): string[] => screen.split('\n').flatMap((r) => r.match(/ │ (.*?) *│ /)?.[1] ?? []);

describe('a question fits its terminal or is not asked', () => {
  const trust = [
    'First contact with 127.0.0.1:5555. No key is pinned for it yet.',
    'Server fingerprint:',
    FINGERPRINT,
    'Short fingerprint: 1234 5678',
    'Compare it with the fingerprint hushd printed at start (ask the admin).',
    'Trust this server and remember its key?',
  ];

  it('wraps every line; the fingerprint keeps rows of its own and reads whole', () => {
    const layout = questionLayout(trust, ['[y] yes   [n] no'], 80, 24);
    expect(layout).not.toBeNull();
    const { body, width } = layout!;
    expect(width).toBeLessThanOrEqual(80);
    for (const row of body) expect(row.length).toBeLessThanOrEqual(width - 4);
    const from = body.indexOf('Server fingerprint:') + 1;
    const to = body.findIndex((r) => r.startsWith('Short fingerprint'));
    expect(body.slice(from, to).join('')).toBe(FINGERPRINT);
    expect(body.join(' ')).toContain('Compare it with the fingerprint hushd printed at start (ask the admin).');
  });

  it('is null when the terminal is too small to show all of it', () => {
    expect(questionLayout(trust, ['[y] yes   [n] no'], 30, 8)).toBeNull();
    expect(questionLayout(['Delete message 1?'], ['[y] yes   [n] no'], 12, 4)).toBeNull();
  });
});

describe('the trust prompt at first contact', () => {
  function firstContact(size: [number, number]) {
    const answers: boolean[] = [];
    const t = launch({
      password: 'pw',
      autoLogin: true,
      connect: async (req: ConnectRequest) => {
        const ok = await req.trust({ host: req.host, port: req.port, fingerprint: FINGERPRINT, shortFingerprint: '1234 5678' });
        answers.push(ok);
        if (!ok) throw Object.assign(new Error('server not trusted'), { code: 'UNTRUSTED_SERVER' });
        return new FakeSession();
      },
    });
    t.resize(...size);
    return { ...t, answers };
  }

  it('80x24: the fingerprint shows whole; typed words are ignored, a y after a pause trusts', async () => {
    const t = firstContact([80, 24]);
    await t.shows('[y] yes');
    const rows = dialogRows(t.text());
    const from = rows.indexOf('Server fingerprint:') + 1;
    const to = rows.findIndex((r) => r.startsWith('Short fingerprint'));
    expect(rows.slice(from, to).join('')).toBe(FINGERPRINT);
    await t.typeSlowly('hey yes no');
    await sleep(100);
    expect(t.answers).toEqual([]); // neither the y nor the n of the words answered
    await t.shows('[y] yes'); // armed again after the pause
    t.type('y');
    await t.shows('#lobby');
    expect(t.answers).toEqual([true]);
  }, 20_000);

  it('30x8: says to make the terminal larger and takes no answer until it is', async () => {
    const t = firstContact([30, 8]);
    await t.shows('make the terminal');
    await sleep(800);
    t.type('y');
    await sleep(300);
    expect(t.answers).toEqual([]);
    expect(t.text()).not.toContain('[y] yes');
    t.resize(120, 40);
    await t.shows('[n] no');
    expect(t.text()).not.toContain(TOO_SMALL);
    t.type('n');
    await t.shows('server not trusted: compare it with the');
    expect(t.answers).toEqual([false]);
  }, 20_000);
});

describe('/verify in the chat', () => {
  it('shows the safety number in the question; a sentence typed at it does not verify, closes it and is typed whole', async () => {
    const t = await inLobby();
    t.type('/verify bob\r');
    await t.shows('[y] yes');
    const rows = dialogRows(t.text());
    expect(rows).toContain("Does bob's safety number match?");
    expect(rows.some((r) => r.includes('11111 22222 33333'))).toBe(true);
    await t.typeSlowly('hey there bob');
    await t.shows('bob not verified: answer the question with y or n');
    await waitFor(() => t.inputLine().includes('> hey there bob'), `the words in the input line:\n${t.text()}`);
    expect(t.calls('verifyContact')).toEqual([]);
    expect(t.calls('send')).toEqual([]);
    expect(t.text()).not.toContain('[y] yes');
  }, 20_000);

  it('a y typed before the question is armed does not answer it: it goes to the input line', async () => {
    const t = await inLobby();
    t.type('/verify bob\r');
    await t.shows("Does bob's safety number match?");
    t.type('y');
    await t.shows('bob not verified: answer the question with y or n');
    await waitFor(() => t.inputLine().includes('> y'), 'the y in the input line');
    expect(t.calls('verifyContact')).toEqual([]);
  }, 20_000);

  it('a y once it is armed verifies; Esc says no', async () => {
    const t = await inLobby();
    t.type('/verify bob\r');
    await t.shows('[y] yes');
    expect(t.text()).toContain('Esc: no');
    t.type('\x1b');
    await t.shows('bob not verified');
    expect(t.text()).not.toContain('answer the question with y or n');
    t.type('/verify bob\r');
    await t.shows('[y] yes');
    t.type('y');
    await t.shows('bob is now verified');
    expect(t.calls('verifyContact')).toEqual([['verifyContact', 'bob']]);
  }, 20_000);

  it('yourself: /verify is refused in words, /whois does not suggest it', async () => {
    const t = await inLobby();
    const users = t.session.listUsers.bind(t.session);
    t.session.listUsers = async () => [...(await users()), { user: 'mia', state: 'online', status: '', role: 'user' }];
    t.type('/verify mia\r');
    await t.shows('that is you: /verify another user');
    expect(t.calls('safetyNumber')).toEqual([]);
    t.type('/whois mia\r');
    await t.shows('whois mia:');
    await t.shows('end-to-end: this is you');
    expect(t.text()).not.toContain('/verify mia');
  }, 20_000);
});

describe('delete, confirmed', () => {
  it('words typed at the question do not delete: it closes, says so, and they go to the input line', async () => {
    const t = await inLobby();
    t.type('my own line\r');
    await t.shows('<mia> my own line');
    t.type('\x1b[1;3A'); // Alt+Up selects it
    await t.shows('message 1 selected');
    t.type('d');
    await t.shows('[y] yes');
    expect(dialogRows(t.text())).toContainEqual(expect.stringMatching(/^delete your message of \d\d:\d\d "my own line"\?$/));
    await t.typeSlowly('hello world');
    await t.shows('not deleted: answer the question with y or n');
    await waitFor(() => t.inputLine().includes('> hello world'), `the words in the input line:\n${t.text()}`);
    expect(t.calls('delete')).toEqual([]);
  }, 20_000);

  it('Enter at the question closes it and stops there: the draft in the input line is not sent', async () => {
    const t = await inLobby();
    t.type('my own line\r');
    await t.shows('<mia> my own line');
    t.type('a draft not meant to go');
    t.type('\x1b[1;3A'); // Alt+Up selects the line
    await t.shows('message 1 selected');
    t.type('d');
    await t.shows('[y] yes');
    t.type('\r');
    await t.shows('not deleted: answer the question with y or n');
    await new Promise((r) => setTimeout(r, 200));
    expect(t.calls('send').map((c) => c[2])).toEqual(['my own line']);
    expect(t.calls('delete')).toEqual([]);
    expect(t.inputLine()).toContain('> a draft not meant to go');
  }, 20_000);
});

describe('a refused line is never glued to what is typed', () => {
  it('lines typed on while each is refused go out as typed; /retry sends each once', async () => {
    const t = await inLobby();
    t.session.refuseSends = Object.assign(new Error('you are muted in #lobby'), { code: 'FORBIDDEN' });
    await t.typeSlowly('first line\r');
    await t.typeSlowly('second line\r');
    await t.typeSlowly('third line\r');
    // Each line says it under itself, once.
    await waitFor(() => t.text().split('!!! not sent: you are muted in #lobby [FORBIDDEN]').length === 4, `three refusals:\n${t.text()}`);
    expect(t.text()).not.toContain('not sent: "');
    expect(t.calls('send').map((c) => c[2])).toEqual(['first line', 'second line', 'third line']);
    expect(t.inputLine().trim()).toBe('>');
    t.type('\x1b[A'); // Up: what she typed last
    await waitFor(() => t.inputLine().includes('> third line'), 'Up recalls the line');
    t.type('\x15'); // Ctrl+U
    t.session.refuseSends = null;
    t.type('/retry\r');
    await waitFor(() => t.calls('send').length === 6, 'the three sent again');
    expect(t.calls('send').map((c) => c[2])).toEqual([
      'first line',
      'second line',
      'third line',
      'first line',
      'second line',
      'third line',
    ]);
  }, 20_000);

  it('the same line refused twice is one line for /retry', async () => {
    const t = await inLobby();
    t.session.holdSends = true; // both go out before either is refused
    t.type('again and again\r');
    t.type('again and again\r');
    await waitFor(() => t.calls('send').length === 2, 'both sent');
    t.session.refuseSends = Object.assign(new Error('you are muted in #lobby'), { code: 'FORBIDDEN' });
    t.session.holdSends = false;
    t.session.release();
    await t.shows('!!! not sent');
    await sleep(50);
    t.session.refuseSends = null;
    t.type('/retry\r');
    await waitFor(() => t.calls('send').length === 3, 'sent again');
    await sleep(300);
    expect(t.calls('send').map((c) => c[2])).toEqual(['again and again', 'again and again', 'again and again']);
  }, 20_000);
});
