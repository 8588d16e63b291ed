import type { ServerMessageOf } from '@hush/protocol';
import { describe, expect, it } from 'vitest';
import { HushError } from '../src/errors.js';
import type { RequestBody } from '../src/requests.js';
import { SendQueue } from '../src/send-queue.js';

// The outbox's gate: a message to an end-to-end room is listed at once and waits while its sender
// key goes out (urgent DMs, ahead of it); what was sent after it stays behind it.

type Ack = ServerMessageOf<'ack'>;

function harness() {
  const calls: { body: RequestBody; resolve: (a: Ack) => void }[] = [];
  const queue = new SendQueue({
    ready: () => true,
    request: (body) => new Promise<Ack>((resolve) => calls.push({ body, resolve })),
    backOff: () => undefined,
    changed: () => undefined,
    held: () => undefined,
  });
  const send = (text: string, extra: { urgent?: boolean; gate?: () => Promise<void> } = {}) =>
    queue.add({ target: { room: 'vault' }, text, action: false, ...extra }, async (key) => ({ type: 'send', room: 'vault', text, key }));
  const sentTexts = () => calls.map((c) => (c.body as { text: string }).text);
  return { queue, calls, send, sentTexts };
}

const flush = () => new Promise((r) => setTimeout(r, 0));
const ack = (n: number): Ack => ({ type: 'ack', re: `r${n}`, msgId: String(n), ts: n });

describe('SendQueue gate', () => {
  it('lists a gated message at once; urgent sends made by its gate go first; later ones wait behind it', async () => {
    const { queue, calls, send, sentTexts } = harness();
    let keySent!: Promise<Ack>;
    const gated = send('sealed line', {
      gate: async () => {
        keySent = send('sender key', { urgent: true });
        await keySent;
      },
    });
    const after = send('next line');
    expect(queue.pending.map((p) => p.text)).toEqual(['sealed line', 'sender key', 'next line']);
    await flush();
    expect(sentTexts()).toEqual(['sender key']);
    calls[0]!.resolve(ack(1));
    await keySent;
    await flush();
    // In order from here (pipelined, as always): the gated line, then the one sent after it.
    expect(sentTexts()).toEqual(['sender key', 'sealed line', 'next line']);
    calls[1]!.resolve(ack(2));
    calls[2]!.resolve(ack(3));
    expect((await gated).msgId).toBe('2');
    expect((await after).msgId).toBe('3');
  });

  it('a gate that fails for good rejects its message and lets the next go', async () => {
    const { send, sentTexts } = harness();
    const refused = send('to nobody', { gate: () => Promise.reject(new HushError('E2E_NO_PREKEYS', 'no prekeys')) });
    const next = send('plain');
    await expect(refused).rejects.toMatchObject({ code: 'E2E_NO_PREKEYS' });
    await flush();
    expect(sentTexts()).toEqual(['plain']);
    void next;
  });

  it('a gate that fails on a lost connection runs again later, and the message then goes', async () => {
    const { calls, send, sentTexts } = harness();
    let tries = 0;
    const sent = send('after the outage', {
      gate: async () => {
        if (++tries === 1) throw new HushError('CONNECTION_CLOSED');
      },
    });
    await new Promise((r) => setTimeout(r, 1200)); // the queue retries after a second
    expect(tries).toBe(2);
    expect(sentTexts()).toEqual(['after the outage']);
    calls[0]!.resolve(ack(7));
    expect((await sent).msgId).toBe('7');
  });
});
