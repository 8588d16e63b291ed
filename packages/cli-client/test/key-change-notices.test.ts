import { describe, expect, it } from 'vitest';
import { appPerTest } from './helpers/fake-app.js';
import { waitFor } from './helpers/fake-terminal.js';

// A contact's device change is said where it concerns her: in the conversation with that person,
// else in (status), never in whatever room happens to be open; in words of what happened, and
// loudly only for a contact she verified. A direct message refused for that change says to verify
// first, since /retry alone would be refused the same way.

const { inLobby } = appPerTest();

/** The chat pane's text on one line (between the conversation list and the people list): notices wrap there. */
const pane = (text: string): string =>
  text
    .split('\n')
    .map((row) => row.split('││')[1] ?? '')
    .join(' ')
    .replace(/┆/g, ' ')
    .replace(/\s+/g, ' ');

describe('key change notices (fake terminal, fake client)', () => {
  it('a device added by someone she never wrote to: said in (status), not in the open room, as what happened', async () => {
    const t = await inLobby();
    t.session.emit('keyChange', { user: 'alice', verified: false });
    await new Promise((r) => setTimeout(r, 200));
    expect(t.text()).not.toContain('devices changed');
    expect(t.text()).not.toContain('CHANGED');
    t.type('\x1b1'); // Alt+1: (status)
    await t.shows("alice's devices changed");
    expect(pane(t.text())).toContain('(a device was added, removed or replaced)');
    expect(pane(t.text())).toContain('if you rely on it');
    expect(t.text()).not.toContain('CHANGED');
  });

  it('a verified contact with a conversation: said loudly in that conversation only', async () => {
    const t = await inLobby();
    t.type('/msg bob lunch?\r');
    await waitFor(() => t.session.calls.some((c) => c[0] === 'sendDirect'), 'the DM');
    t.session.emit('keyChange', { user: 'bob', verified: true });
    await new Promise((r) => setTimeout(r, 200));
    expect(t.text()).not.toContain('CHANGED'); // #lobby is open
    t.type('\x1b1');
    await t.shows('(status)');
    expect(t.text()).not.toContain('CHANGED');
    t.type('\x1b3'); // Alt+3: the conversation with bob
    await t.shows('CHANGED since you verified');
    expect(pane(t.text())).toContain('Direct messages to bob are blocked');
  });

  it('a direct message refused for a changed key says /verify first, then /retry', async () => {
    const t = await inLobby();
    t.type('/msg bob lunch?\r');
    await waitFor(() => t.session.calls.some((c) => c[0] === 'sendDirect'), 'the DM');
    t.type('\x1b3');
    await t.shows('lunch?');
    t.session.refuseSends = Object.assign(new Error('the keys of bob changed since you verified them'), { code: 'E2E_KEY_CHANGED' });
    t.type('private words\r');
    // Said once, under the line (the conversation is on screen), and /retry alone is offered nowhere.
    await waitFor(() => pane(t.text()).includes('[E2E_KEY_CHANGED] — /verify bob, then /retry'), `the refusal on screen:\n${t.text()}`);
    expect(pane(t.text())).not.toContain('/retry sends it again');
  });
});
