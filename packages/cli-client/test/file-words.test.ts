import { afterEach, describe, expect, it } from 'vitest';
import { ChatController, type UiHooks } from '../src/controller.js';
import { activeConversation, dmKey, findConversation } from '../src/state.js';
import { FakeClient } from './helpers/fake-client.js';

// What hush says about a file in words: sizes counted right, a failed download named wherever it
// is shown, a cancelled offer that only its sender can bring back, and the download's line at the
// bottom when it starts.

const NOW = 1_700_000_000_000;
const running: ChatController[] = [];
afterEach(() => {
  for (const ctl of running.splice(0)) ctl.stop();
});

async function started() {
  const client = new FakeClient();
  const choices: string[][] = [];
  const ui: UiHooks = {
    bell() {},
    async secrets() {
      return null;
    },
    async ask(_q, initial) {
      return initial;
    },
    async confirm() {
      return false;
    },
    async choose(title, lines) {
      choices.push([title, ...lines]);
      return 'l';
    },
    quit() {},
  };
  let now = NOW;
  const ctl = new ChatController({
    client,
    ui,
    downloadsDir: '/home/me/Downloads',
    now: () => now,
    fileSize: async () => 1,
    readMarkDelayMs: 1,
  });
  running.push(ctl);
  await ctl.start();
  return { client, ctl, choices, later: (ms: number) => (now += ms) };
}
const settle = () => new Promise((r) => setTimeout(r, 10));
const texts = (ctl: ChatController, key?: string) =>
  (key ? findConversation(ctl.state, key)! : activeConversation(ctl.state)).lines.map((l) =>
    l.kind === 'file' ? `file:${l.fileId}` : l.text,
  );

describe('files in words', () => {
  it('one byte is "1 byte"', async () => {
    const { client, choices } = await started();
    client.emit('fileOffer', { fileId: 'f1', from: 'bob', target: { user: 'me' }, name: 'one.txt', size: 1, e2e: true, ts: NOW });
    await settle();
    expect(choices[0]?.[1]).toBe('bob offers "one.txt" (1 byte), to you, end-to-end encrypted.');
  });

  it('a download that fails names its file in the pane on screen; a cancelled offer says who can offer it again', async () => {
    const { client, ctl } = await started();
    client.emit('fileOffer', { fileId: 'f1', from: 'bob', target: { user: 'me' }, name: 'ten.bin', size: 10, e2e: true, ts: NOW });
    await settle();
    client.failWith.acceptFile = Object.assign(new Error('the connection is closed'), { code: 'CONNECTION_CLOSED' });
    await ctl.submit('/accept ten.bin /tmp/dl'); // from #lobby, not @bob
    expect(activeConversation(ctl.state).key).not.toBe(dmKey('bob'));
    const said = texts(ctl).at(-1) ?? '';
    expect(said).toContain('file "ten.bin" from bob failed: the connection is closed');

    client.emit('fileOffer', { fileId: 'f2', from: 'bob', target: { user: 'me' }, name: 'two.bin', size: 10, e2e: true, ts: NOW });
    await settle();
    await ctl.submit('/cancel two.bin');
    await ctl.submit('/accept two.bin');
    expect(texts(ctl).at(-1)).toContain('"two.bin" is not an open offer (cancelled): only bob can offer it again');
  });

  it('/accept takes the newest offer by when it was made, whatever order offers arrive in (at a start: any)', async () => {
    const { client, ctl } = await started();
    const offer = (fileId: string, name: string, ts: number) =>
      client.emit('fileOffer', { fileId, from: 'bob', target: { user: 'me' }, name, size: 10, e2e: true, ts });
    offer('f2', 'new.txt', NOW + 60_000);
    offer('f1', 'old.txt', NOW);
    await settle();
    await ctl.submit('/accept');
    expect(client.calls.filter((c) => c[0] === 'acceptFile').map((c) => c[1])).toEqual(['f2']);
  });

  it('/accept name takes the open offer of that name, not a saved file of the same name', async () => {
    const { client, ctl } = await started();
    client.emit('fileOffer', { fileId: 'f1', from: 'bob', target: { user: 'me' }, name: 'ten.bin', size: 10, e2e: true, ts: NOW });
    client.emit('fileOffer', { fileId: 'f2', from: 'bob', target: { user: 'me' }, name: 'ten.bin', size: 10, e2e: true, ts: NOW + 1 });
    await settle();
    await ctl.submit('/accept f2 /tmp/dl');
    await ctl.submit('/accept ten.bin /tmp/dl');
    expect(texts(ctl).join('\n')).not.toContain('is not an open offer');
    expect(client.calls.filter((c) => c[0] === 'acceptFile').map((c) => c[1])).toEqual(['f2', 'f1']);
  });

  it('a download that fails is said once, naming the file (the SDK also emits it as an error event)', async () => {
    const { client, ctl } = await started();
    client.emit('fileOffer', { fileId: 'f1', from: 'bob', target: { user: 'me' }, name: 'ten.bin', size: 10, e2e: true, ts: NOW });
    await settle();
    const full = Object.assign(new Error('cannot save into /mnt/small: the disk is full'), { code: 'FILE_IO' });
    client.failWith.acceptFile = full;
    const accepting = ctl.submit('/accept ten.bin /mnt/small');
    client.emit('error', full as never);
    await accepting;
    const said = texts(ctl).filter((t) => t?.includes('the disk is full'));
    expect(said).toEqual(['file "ten.bin" from bob failed: cannot save into /mnt/small: the disk is full [FILE_IO]']);
  });

  it('an accepted download moves its line to the bottom, below what came after the offer', async () => {
    const { client, ctl, later } = await started();
    client.emit('fileOffer', { fileId: 'f1', from: 'bob', target: { user: 'me' }, name: 'a.bin', size: 10, e2e: true, ts: NOW });
    await settle();
    client.emit('message', {
      kind: 'dm',
      id: 'm1',
      ts: NOW + 1,
      from: 'bob',
      peer: 'bob',
      text: 'did you get it?',
      action: false,
      mine: false,
    });
    later(60_000);
    await ctl.submit('/accept a.bin /tmp/dl');
    const lines = findConversation(ctl.state, dmKey('bob'))!.lines;
    expect(lines.at(-1)).toEqual({ kind: 'file', ts: NOW + 60_000, fileId: 'f1' });
    expect(lines.filter((l) => l.kind === 'file')).toHaveLength(1);
  });
});
