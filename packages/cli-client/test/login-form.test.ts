// The login form as a person fills it in: Enter on the server field logs in once a username is
// there, what is no host is refused in words before any lookup, and an error about the values as
// they were goes away once they change.
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningApp } from '../src/app.js';
import { loginLayout } from '../src/view/login-view.js';
import { launchApp } from './helpers/fake-app.js';
import { waitFor } from './helpers/fake-terminal.js';

let app: RunningApp | null = null;
afterEach(async () => {
  app?.quit();
  await app?.exited;
  app = null;
});

const UP = '\x1b[A';
const CTRL_U = '\x15';

describe('the login form', () => {
  it('refuses a server that is no host in words, clears that error on an edit, and logs in with Enter on the server field', async () => {
    const t = launchApp({ password: 'pw' });
    app = t.app;
    await t.shows('hush — log in');
    t.type(UP); // from the username to the server
    t.type(CTRL_U);
    t.type('not a host!!');
    t.type('\r');
    await t.shows('is not a host name or an IP');
    expect(t.requests).toHaveLength(0);

    t.type(CTRL_U);
    await waitFor(() => !t.text().includes('is not a host name'), 'the error gone once the server field changed');
    t.type('127.0.0.1:5555');
    t.type('\r');
    await t.shows('#lobby');
    expect(t.requests).toHaveLength(1);
    expect(t.requests[0]).toMatchObject({ host: '127.0.0.1', port: 5555 });
  });
});

describe('loginLayout', () => {
  const fields = ['s', 'u', 'p', 'r', 'i'];
  const kinds = (l: ReturnType<typeof loginLayout>) => l.rows.map((r) => r.kind);

  it('is spacious when it fits: blank rows, the hint, a blank, the error; fields from row 1', () => {
    const l = loginLayout(fields, 'hint', 'went wrong', 62, 20);
    expect(kinds(l)).toEqual(['blank', 'field', 'field', 'field', 'field', 'field', 'blank', 'hint', 'blank', 'message']);
    expect(l.top).toBe(1);
  });

  it('in a small box the blanks go, then the hint gives way to an error; fields always stay', () => {
    expect(kinds(loginLayout(fields, 'hint', '', 38, 7))).toEqual(['field', 'field', 'field', 'field', 'field', 'hint']);
    const tight = loginLayout(fields, 'a hint of several words', 'an error of several words to read', 12, 9);
    expect(tight.top).toBe(0);
    expect(kinds(tight).filter((k) => k === 'hint')).toEqual([]);
    expect(kinds(tight).filter((k) => k === 'message').length).toBe(4);
    // Less room than fields: the fields, cut by the box; never a negative slice.
    expect(kinds(loginLayout(fields, 'hint', 'error', 1, 2))).toEqual(['field', 'field', 'field', 'field', 'field']);
  });
});
