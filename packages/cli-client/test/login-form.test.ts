// The login form as a person fills it in: Enter on the server field logs in once a username is
// there, what is no host is refused in words before any lookup, and an error about the values as
// they were goes away once they change.
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningApp } from '../src/app.js';
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
