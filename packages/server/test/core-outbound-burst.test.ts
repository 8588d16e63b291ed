// OutboundQueue under bursts (real loopback sockets) and shared blocks (packing: protocol's records.test.ts).
import { EventEmitter } from 'node:events';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MessageChannel } from '@hush/protocol';
import { SessionCipher } from '@hush/crypto';
import { FlushScheduler, OutboundQueue, SharedBlock, type OutboundQueueOptions } from '../src/outbound.js';

const cleanup: Array<() => void> = [];
afterEach(() => {
  for (const f of cleanup.splice(0).reverse()) f();
  vi.restoreAllMocks();
});

/** A connected pair on 127.0.0.1: the server side (where the queue writes) and the peer. */
async function pair(): Promise<{ server: Socket; peer: Socket }> {
  const listener: Server = createServer();
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const accepted = new Promise<Socket>((resolve) => listener.once('connection', resolve));
  const peer = connect({ port: (listener.address() as AddressInfo).port, host: '127.0.0.1' });
  const server = await accepted;
  await new Promise<void>((resolve) => (peer.connecting ? peer.once('connect', () => resolve()) : resolve()));
  cleanup.push(() => {
    server.destroy();
    peer.destroy();
    listener.close();
  });
  return { server, peer };
}

/** Frames plaintexts as plain newline-terminated bytes (no crypto: the queue's behaviour is under test). */
const plainFramer = { recordCapacity: 1 << 20, frameOverhead: 1, sealRecord: (p: Uint8Array) => Buffer.concat([p, Buffer.from('\n')]) };
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
const MAX = 256 * 1024;

/** A socket with nothing pending; `write` sees every chunk and says whether the socket pushes back. */
function fakeSocket(write: (data: Buffer) => boolean = () => true): Socket {
  return Object.assign(new EventEmitter(), { writableLength: 0, write, cork() {}, uncork() {} }) as unknown as Socket;
}

/** A queue of plain lines on `socket`; `overflows()` counts how often it cut the reader. */
function plainQueue(socket: Socket, opts: Omit<OutboundQueueOptions, 'onOverflow' | 'onFrameError'>) {
  let overflows = 0;
  const q = new OutboundQueue(socket, plainFramer, new FlushScheduler(), {
    ...opts,
    onOverflow: () => overflows++,
    onFrameError: () => {},
  });
  return { q, overflows: () => overflows };
}

/** A server-side channel sealing with a real cipher (keys from `seed`), and the client's channel that opens it. */
function sealedChannels(seed: number): { server: MessageChannel<'client'>; client: MessageChannel<'server'> } {
  const a = Buffer.alloc(32, seed + 1);
  const b = Buffer.alloc(32, seed + 101);
  const server = new MessageChannel({ peer: 'client' });
  server.upgrade(new SessionCipher({ sendKey: a, receiveKey: b }));
  const client = new MessageChannel({ peer: 'server' });
  client.upgrade(new SessionCipher({ sendKey: b, receiveKey: a }));
  return { server, client };
}

describe('OutboundQueue bursts (loopback sockets)', () => {
  it('a reading peer drains a burst of 40x the limit, landed in one turn, and is not cut', async () => {
    const { server, peer } = await pair();
    let peakSocketBuffer = 0;
    const { q, overflows } = plainQueue(server, { maxQueueBytes: MAX, stallMs: 2000 });
    const line = 'm'.repeat(3999); // + '\n' = 4,000 bytes on the wire
    const count = 2600; // ~10 MB, about what 60 senders x 38 messages of 4,000 bytes land on one member
    let received = 0;
    const done = new Promise<void>((resolve) =>
      peer.on('data', (d: Buffer) => {
        received += d.length;
        peakSocketBuffer = Math.max(peakSocketBuffer, server.writableLength);
        if (received >= count * 4000) resolve();
      }),
    );
    for (let i = 0; i < count; i++) q.pushRelayed(line);
    await done;
    expect(overflows()).toBe(0);
    expect(received).toBe(count * 4000);
    // Sealed ahead of the socket in slices: never the whole burst in the socket's buffer at once.
    expect(peakSocketBuffer).toBeLessThan(2 * MAX);
  });

  it('a peer that never reads is cut once its socket stops draining; the backlog stays bounded', async () => {
    const { server, peer } = await pair();
    peer.pause();
    const { q, overflows } = plainQueue(server, { maxQueueBytes: MAX, stallMs: 300 });
    const line = 'n'.repeat(3999);
    let peakBacklog = 0;
    const started = Date.now();
    // A room keeps talking (1 MB every 20 ms) to a member who never reads.
    while (overflows() === 0 && Date.now() - started < 20_000) {
      for (let i = 0; i < 250; i++) q.pushRelayed(line);
      peakBacklog = Math.max(peakBacklog, q.backlog);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(overflows()).toBe(1);
    expect(peakBacklog).toBeLessThanOrEqual(32 * 1024 * 1024 + 1024 * 1024);
    q.pushRelayed(line); // ignored after the cut
    expect(q.backlog).toBe(server.writableLength);
  }, 30_000);

  it('the stall is checked by the sweep too, without new lines', async () => {
    const { server, peer } = await pair();
    peer.pause();
    const now = 0;
    const { q, overflows } = plainQueue(server, { maxQueueBytes: MAX, stallMs: 1000, now: () => now });
    const line = 'o'.repeat(3999);
    // Fill the kernel buffers until the socket pushes back, then queue more than the limit.
    while (server.writableLength === 0) {
      for (let i = 0; i < 256; i++) q.pushRelayed(line);
      await nextTurn();
    }
    for (let i = 0; i < 100; i++) q.pushRelayed(line);
    await nextTurn();
    q.check(now + 999);
    expect(overflows()).toBe(0);
    q.check(now + 1000);
    expect(overflows()).toBe(1);
  }, 30_000);

  it('a backlog past the absolute ceiling is cut at once, even before any stall', () => {
    const { q, overflows } = plainQueue(fakeSocket(), { maxQueueBytes: 1000, maxBacklogBytes: 10_000 });
    for (let i = 0; i < 9; i++) q.pushRelayed('r'.repeat(1000)); // over the soft limit, not stalled: kept
    expect(overflows()).toBe(0);
    q.pushRelayed('r'.repeat(1001));
    expect(overflows()).toBe(1);
  });

  it("replies to the connection's own requests still count against the limit at once", () => {
    const { q, overflows } = plainQueue(fakeSocket(), { maxQueueBytes: 1000 });
    for (let i = 0; i < 5; i++) q.pushRelayed('r'.repeat(1000)); // relayed: not the client's doing
    q.push('a'.repeat(600));
    expect(overflows()).toBe(0);
    q.push('a'.repeat(600)); // asked for 1,200 bytes it has not read
    expect(overflows()).toBe(1);
  });

  it('finish() writes everything queued, then the goodbye, past backpressure', async () => {
    const writes: string[] = [];
    const socket = fakeSocket((b) => {
      writes.push(b.toString());
      return false;
    });
    const { q } = plainQueue(socket, { maxQueueBytes: 64 * 1024 });
    for (let i = 0; i < 100; i++) q.pushRelayed(`${i}`.padEnd(1000, '.'));
    await nextTurn(); // the first write pushes back: the rest waits for 'drain'
    q.push('ack');
    q.finish('goodbye');
    const lines = writes.join('').split('\n').filter(Boolean);
    expect(lines).toHaveLength(102);
    expect(lines.slice(-2)).toEqual(['ack', 'goodbye']);
    q.push('late');
    expect(writes.join('')).not.toContain('late');
  });
});

describe('frames sealed into the shared pool', () => {
  it("a frame fits in its plaintext's length plus frameOverhead, so room of that size seals it in place", () => {
    const { server } = sealedChannels(7);
    for (const size of [0, 1, 4000, 5000, 200_000]) {
      const into = Buffer.alloc(size + server.frameOverhead);
      const frame = server.sealRecord(Buffer.alloc(size, 0x61), into);
      expect(frame.buffer).toBe(into.buffer);
      expect(frame.byteOffset).toBe(into.byteOffset);
      expect(frame.length).toBeGreaterThan(size);
    }
  });

  // 8 lines a turn: records of about 9 KB; 100 lines: about 110 KB, past the slab's starting size.
  it.each([
    { perTurn: 8, turns: 1000 },
    { perTurn: 100, turns: 100 },
  ])(
    'reach a peer intact whether its socket took them at once or kept them while others reused the room ($perTurn lines a turn)',
    async ({ perTurn, turns }) => {
      const fast = await pair();
      const slow = await pair();
      slow.peer.pause(); // fills the kernel's buffers: the slow socket keeps frames while the fast one's are written at once
      let kept = 0;
      let failure: unknown;
      const write = slow.server.write.bind(slow.server) as (chunk: Buffer) => boolean;
      slow.server.write = ((chunk: Buffer) => {
        const ok = write(chunk);
        if (slow.server.writableLength > 0) kept++;
        return ok;
      }) as typeof slow.server.write;
      const sides = [fast, slow].map(({ server, peer }, n) => {
        const ch = sealedChannels(n);
        const q = new OutboundQueue(server, ch.server, new FlushScheduler(), {
          maxQueueBytes: 64 << 20,
          stallMs: 60_000,
          onOverflow: () => {
            throw new Error('overflow');
          },
          onFrameError: (e) => {
            throw e;
          },
        });
        const texts: string[] = [];
        peer.on('data', (d: Buffer) => {
          try {
            for (const m of ch.client.receive(d)) if (m.type === 'message') texts.push(m.text);
          } catch (error) {
            failure ??= error; // a frame overwritten before the socket sent it no longer opens
          }
        });
        return { q, texts };
      });
      const sent: string[] = [];
      for (let turn = 0; turn < turns; turn++) {
        for (let i = 0; i < perTurn; i++) {
          const text = `${turn}.${i}:`.padEnd(1000, String.fromCharCode(97 + ((turn + i) % 26)));
          sent.push(text);
          const line = JSON.stringify({
            type: 'message',
            room: 'lobby',
            msgId: String(sent.length),
            ts: 0,
            from: 'alice',
            text,
            action: false,
          });
          for (const side of sides) side.q.pushRelayed(line);
        }
        await nextTurn();
      }
      expect(kept).toBeGreaterThan(0);
      slow.peer.resume();
      await vi.waitFor(() => failure ?? expect(sides.map((s) => s.texts.length)).toEqual([sent.length, sent.length]), {
        timeout: 20_000,
        interval: 50,
      });
      expect(failure).toBeUndefined();
      for (const side of sides) expect(side.texts).toEqual(sent);
    },
    30_000,
  );
});

describe('shared blocks', () => {
  function sealedPeer(i: number) {
    const { server, client } = sealedChannels(i);
    const writes: Buffer[] = [];
    // Nothing pending after a write means the bytes were taken (a kernel copies them): so copy.
    const socket = fakeSocket((data) => {
      writes.push(Buffer.from(data));
      return true;
    });
    return { server, client, writes, socket };
  }
  const roomLine = (n: number) =>
    JSON.stringify({ type: 'message', room: 'r', msgId: String(n), ts: n, from: 'ann', text: `hi ${n} ünïcode 👋`, action: false });

  it("one block per turn is sealed as it is for every member; a member's own ack follows it in the same record", async () => {
    const scheduler = new FlushScheduler();
    const peers = Array.from({ length: 20 }, (_, i) => sealedPeer(i));
    const seals = peers.map((p) => vi.spyOn(p.server, 'sealRecord'));
    const queues = peers.map(
      (p) =>
        new OutboundQueue(p.socket, p.server, scheduler, {
          maxQueueBytes: 1 << 20,
          onOverflow: () => {},
          onFrameError: () => {},
        }),
    );
    const blocks = SharedBlock.build([1, 2, 3].map(roomLine), 64 * 1024);
    expect(blocks).toHaveLength(1);
    const block = blocks[0]!;
    expect(block.lines).toBe(3);
    for (const q of queues) q.pushRelayed(block);
    queues[7]!.push(JSON.stringify({ type: 'ack', re: 'x', msgId: '3', ts: 3 }));
    await nextTurn();
    for (const [i, p] of peers.entries()) {
      expect(p.writes).toHaveLength(1);
      expect(seals[i]).toHaveBeenCalledTimes(1);
      // Not re-encoded per recipient: the block's own bytes are the record's plaintext.
      if (i !== 7) expect(seals[i]!.mock.calls[0]![0]).toBe(block.bytes);
      const got = p.client.receive(p.writes[0]!);
      expect(got.map((m) => m.type)).toEqual(i === 7 ? ['message', 'message', 'message', 'ack'] : ['message', 'message', 'message']);
      expect(got[2]).toMatchObject({ msgId: '3', text: 'hi 3 ünïcode 👋' });
    }
    // Records differ per recipient (own keys), though the plaintext was shared.
    expect(new Set(peers.map((p) => p.writes[0]!.toString('hex'))).size).toBe(peers.length);
  });

  it('SharedBlock.build caps blocks by bytes, splitting only between lines; a longer line is a block of its own', () => {
    const lines = ['a'.repeat(40), 'é'.repeat(30), 'b'.repeat(10), 'c'.repeat(200), 'd'];
    const blocks = SharedBlock.build(lines, 100);
    // 41 + 61 bytes (with their newlines) would pass 100: the é line starts the next block.
    expect(blocks.map((b) => b.bytes.toString())).toEqual([lines[0], `${lines[1]}\n${lines[2]}`, lines[3], lines[4]]);
    expect(blocks.map((b) => b.lines)).toEqual([1, 2, 1, 1]);
    expect(blocks.slice(0, 2).every((b) => b.bytes.length <= 100)).toBe(true);
    expect(SharedBlock.build([], 100)).toEqual([]);
  });

  it("a block's bytes count for every recipient toward the absolute ceiling", () => {
    const { q, overflows } = plainQueue(fakeSocket(), { maxQueueBytes: 1000, maxBacklogBytes: 10_000 });
    const block = SharedBlock.build(['w'.repeat(499), 'w'.repeat(500)], 64 * 1024)[0]!; // 1,000 bytes
    for (let i = 0; i < 10; i++) q.pushRelayed(block);
    expect(q.backlog).toBe(10_000);
    expect(overflows()).toBe(0);
    q.pushRelayed('w');
    expect(overflows()).toBe(1);
  });

  it('a reading peer drains a backlog of blocks far past the limit, in slices, every line in order', async () => {
    const { server, peer } = await pair();
    let peakSocketBuffer = 0;
    const { q, overflows } = plainQueue(server, { maxQueueBytes: MAX, stallMs: 2000 });
    const lines = Array.from({ length: 40_000 }, (_, i) => `${i}`.padEnd(99, '.')); // 100 bytes each with '\n'
    const blocks = SharedBlock.build(lines, 64 * 1024);
    expect(blocks.length).toBeGreaterThan(50);
    let text = '';
    const done = new Promise<void>((resolve) =>
      peer.on('data', (d: Buffer) => {
        text += d.toString();
        peakSocketBuffer = Math.max(peakSocketBuffer, server.writableLength);
        if (text.length >= lines.length * 100) resolve();
      }),
    );
    for (const block of blocks) q.pushRelayed(block);
    await done;
    expect(overflows()).toBe(0);
    expect(text.split('\n').filter(Boolean)).toEqual(lines);
    expect(peakSocketBuffer).toBeLessThan(2 * MAX);
  });
});
