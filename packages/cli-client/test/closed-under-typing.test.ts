// A room's pane closed by others while a line is being typed for it (a kick, a part on another
// device): its Enter does not send the line to the conversation hush moved her to, but says so.
import { afterEach, describe, expect, it } from 'vitest';
import { ChatController } from '../src/controller.js';
import { activeConversation, findConversation, roomKey } from '../src/state.js';
import { FakeClient, quietUi } from './helpers/fake-client.js';

const running: ChatController[] = [];
afterEach(() => {
  for (const ctl of running.splice(0)) ctl.stop();
});

async function inDev(): Promise<{ client: FakeClient; ctl: ChatController }> {
  const client = new FakeClient();
  const ctl = new ChatController({ client, ui: quietUi(), downloadsDir: '/tmp/dl', now: () => 1_700_000_000_000, readMarkDelayMs: 1 });
  running.push(ctl);
  await ctl.start();
  ctl.dispatch({ type: 'joined', room: 'dev', activate: true });
  return { client, ctl };
}

function typeInto(ctl: ChatController, text: string): void {
  ctl.editor.set(text);
  ctl.inputChanged();
}

const sends = (client: FakeClient) => client.calls.filter((c) => c[0] === 'send');
const lastNotice = (ctl: ChatController) => activeConversation(ctl.state).lines.findLast((l) => l.kind === 'notice');

describe('a line typed for a room that closed under it', () => {
  it('a kick: the first Enter says where she is now and sends nothing; the next sends it there', async () => {
    const { client, ctl } = await inDev();
    typeInto(ctl, 'meant only for dev');
    client.emit('roomEvent', { room: 'dev', event: 'kick', user: 'me', by: 'alice', ts: 1 });
    expect(findConversation(ctl.state, roomKey('dev'))).toBeUndefined();
    expect(ctl.state.active).toBe(roomKey('lobby'));
    await ctl.submitInput();
    expect(sends(client)).toEqual([]);
    expect(lastNotice(ctl)).toMatchObject({
      text: 'not sent: this was typed in #dev, which closed; you are in #lobby now: Enter sends it here',
    });
    expect(ctl.editor.text).toBe('meant only for dev');
    await ctl.submitInput();
    expect(sends(client)).toEqual([['send', 'lobby', 'meant only for dev']]);
  });

  it('a part on another device does the same; a line begun after the move, or an empty input line, is not held', async () => {
    const { client, ctl } = await inDev();
    typeInto(ctl, 'half a thought');
    client.emit('roomEvent', { room: 'dev', event: 'part', user: 'me', ts: 1, elsewhere: true });
    typeInto(ctl, ''); // she cleared it: what comes next is for where she is
    typeInto(ctl, 'hello lobby');
    await ctl.submitInput();
    expect(sends(client)).toEqual([['send', 'lobby', 'hello lobby']]);
  });
});
