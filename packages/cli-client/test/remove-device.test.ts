// /devices remove without a terminal: what is asked, in which order, the words of each outcome, and
// that the password goes to the SDK alone (never a notice, never the input line or its history).
import { afterEach, describe, expect, it } from 'vitest';
import { ChatController, type UiHooks } from '../src/controller.js';
import { helpLines } from '../src/help.js';
import { activeConversation } from '../src/state.js';
import { FakeClient } from './helpers/fake-client.js';

const SECRET = 'my secret words';
const running: ChatController[] = [];
afterEach(() => {
  for (const ctl of running.splice(0)) ctl.stop();
});

async function setup(answers: { confirm?: boolean | null; password?: string | null }) {
  const client = new FakeClient();
  client.devices.me = [
    { id: 'deskdeskdeskdeskdesk01', thisDevice: true },
    { id: 'laptoplaptoplaptop0001', thisDevice: false },
  ];
  client.deviceId = 'deskdeskdeskdeskdesk01';
  const removed: string[] = [];
  client.removeDevice = async (id: string, password: string) => {
    removed.push(`${id}:${password}`);
    const err = client.failWith.removeDevice;
    if (err) throw err;
  };
  const asked: string[] = [];
  const ui: UiHooks = {
    bell() {},
    async ask(question, initial) {
      asked.push(`ask: ${question}|${initial}`);
      return null;
    },
    async secrets(questions) {
      asked.push(`secrets: ${questions.join(' / ')}`);
      if (answers.password === null) return null; // cancelled
      return [answers.password ?? SECRET];
    },
    async confirm(question, details = []) {
      asked.push(`confirm: ${[...details, question].join(' / ')}`);
      return answers.confirm === undefined ? true : answers.confirm;
    },
    async choose() {
      return null;
    },
    quit() {},
  };
  const ctl = new ChatController({ client, ui, downloadsDir: '/tmp', now: () => 1_700_000_000_000, readMarkDelayMs: 1 });
  running.push(ctl);
  await ctl.start();
  const last = () => {
    const line = activeConversation(ctl.state).lines.at(-1);
    return line && 'text' in line ? { level: 'level' in line ? line.level : undefined, text: line.text } : undefined;
  };
  const everything = () => JSON.stringify(ctl.state);
  return { client, ctl, asked, removed, last, everything };
}

describe('/devices remove', () => {
  it('asks the password as a secret, then yes or no, and removes with it; the password shows nowhere', async () => {
    const { ctl, asked, removed, last, everything } = await setup({});
    await ctl.submit('/devices remove laptoplaptoplaptop0001');
    expect(asked).toEqual([
      'secrets: your password (it is not shown), to remove the device laptoplaptoplaptop0001:',
      'confirm: the device laptoplaptoplaptop0001 is logged out at once and can log in again only with your password / your contacts are told that your devices changed / Remove the device laptoplaptoplaptop0001 from your account?',
    ]);
    expect(removed).toEqual([`laptoplaptoplaptop0001:${SECRET}`]);
    expect(last()).toMatchObject({
      level: 'info',
      text: 'removed the device laptoplaptoplaptop0001: it is logged out and can log in again only with your password (if it may know your password, change it too with /passwd)',
    });
    expect(everything()).not.toContain(SECRET);
    expect(ctl.editor.text).toBe('');
  });

  it('refuses this device and a word that is no device id before asking the password; an unknown id before asking the server', async () => {
    const { ctl, asked, removed, last, everything } = await setup({});
    await ctl.submit('/devices remove deskdeskdeskdeskdesk01');
    expect(last()).toMatchObject({
      level: 'error',
      text: "deskdeskdeskdeskdesk01 is this device: remove it from another of your devices, or ask the server's admin",
    });
    await ctl.submit('/devices remove phone');
    expect(last()).toMatchObject({
      level: 'error',
      text: 'phone is not a device id (22 letters, digits, - and _): /devices lists yours',
    });
    // Said in a dialog too, which takes a password typed ahead of the question that never came.
    expect(asked).toEqual([
      "secrets: deskdeskdeskdeskdesk01 is this device: remove it from another of your devices, or ask the server's admin. Nothing was asked; what you type here is dropped",
      'secrets: phone is not a device id (22 letters, digits, - and _): /devices lists yours. Nothing was asked; what you type here is dropped',
    ]);
    expect(removed).toEqual([]);
    asked.splice(0);
    await ctl.submit('/devices remove unknownunknownunknown1');
    expect(last()).toMatchObject({ level: 'error', text: 'your account has no device unknownunknownunknown1: /devices lists yours' });
    expect(asked.filter((q) => q.startsWith('confirm'))).toEqual([]);
    expect(removed).toEqual([]);
    expect(everything()).not.toContain(SECRET);
  });

  it('keeps the device on a no, a question closed by another key, or no password', async () => {
    for (const [answers, why] of [
      [{ confirm: false }, 'you said no'],
      [{ confirm: null }, 'answer the question with y or n'],
      [{ password: null }, 'no password given'],
      [{ password: '' }, 'no password given'],
    ] as const) {
      const { ctl, removed, last } = await setup(answers);
      await ctl.submit('/devices remove laptoplaptoplaptop0001');
      expect(last()?.text).toBe(`the device laptoplaptoplaptop0001 stays: ${why}`);
      expect(removed).toEqual([]);
    }
  });

  it("says the server's refusals in words, never its bare codes", async () => {
    const refusals: [Error, string][] = [
      [Object.assign(new Error('AUTH_FAILED'), { code: 'AUTH_FAILED' }), 'wrong password'],
      [
        Object.assign(new Error('RATE_LIMITED'), { code: 'RATE_LIMITED', retryAfterMs: 1500 }),
        'too many wrong passwords: try again in 2 s',
      ],
      [Object.assign(new Error('the connection is closed'), { code: 'CONNECTION_CLOSED' }), 'the connection is closed [CONNECTION_CLOSED]'],
    ];
    for (const [err, words] of refusals) {
      const { client, ctl, last, everything } = await setup({});
      client.failWith.removeDevice = err;
      await ctl.submit('/devices remove laptoplaptoplaptop0001');
      expect(last()).toMatchObject({ level: 'error', text: `the device laptoplaptoplaptop0001 stays: ${words}` });
      expect(everything()).not.toContain(SECRET);
    }
  });

  it('while not connected, /devices remove and /passwd say so in a dialog that takes a password typed ahead, and ask nothing', async () => {
    const { client, ctl, asked, removed, last } = await setup({});
    let changed = 0;
    client.changePassword = async () => {
      changed += 1;
    };
    client.state = 'reconnecting';
    await ctl.submit('/devices remove laptoplaptoplaptop0001');
    await ctl.submit('/passwd');
    const dialog =
      'secrets: not connected: this needs the server; try again once hush says connected. Nothing was asked; what you type here is dropped';
    expect(asked).toEqual([dialog, dialog]);
    expect(last()).toMatchObject({ level: 'error', text: 'not connected: this needs the server; try again once hush says connected' });
    expect(removed).toEqual([]);
    expect(changed).toBe(0);
  });

  it('is in /help, and /devices with other words shows the usage', async () => {
    expect(helpLines('devices')).toEqual([
      "/devices [nick|remove id] — your account's devices (or a user's), by id; /devices remove id logs a lost one of yours out for good (asks your password)",
    ]);
    const { ctl, removed, asked, last } = await setup({});
    await ctl.submit(`/devices remove laptoplaptoplaptop0001 ${SECRET}`);
    expect(last()?.text).toContain('/devices [nick|remove id]');
    expect(asked).toEqual([]);
    expect(removed).toEqual([]);
  });
});
