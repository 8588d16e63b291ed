import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { FlushScheduler, OutboundQueue } from '../src/outbound.js';
import { ConnectionLimiter, normalizeAddress, TokenBucket } from '../src/rate-limit.js';

class FakeSocket extends EventEmitter {
  writes: Buffer[] = [];
  writableLength = 0;
  accept = true;
  write(data: Buffer): boolean {
    this.writes.push(data);
    if (!this.accept) this.writableLength += data.length;
    return this.accept;
  }
}

const framer = {
  frames: 0,
  recordCapacity: 1 << 20,
  frameOverhead: 0,
  sealRecord(plaintext: Uint8Array) {
    this.frames++;
    return Buffer.from(plaintext);
  },
};
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('OutboundQueue', () => {
  it('coalesces everything queued in one turn into one framed write per connection', async () => {
    const socket = new FakeSocket();
    const before: string[] = [];
    const scheduler = new FlushScheduler(() => before.push(`after ${socket.writes.length} write(s)`));
    scheduler.beforeEachFlush(() => before.push('commit'));
    const records: number[] = [];
    const q = new OutboundQueue(socket as unknown as Socket, framer, scheduler, {
      maxQueueBytes: 1 << 20,
      onOverflow: () => {},
      onFrameError: () => {},
      onRecords: (n) => records.push(n),
    });
    framer.frames = 0;
    for (let i = 0; i < 100; i++) q.push(`{"n":${i}}`);
    expect(socket.writes).toHaveLength(0);
    await nextTurn();
    expect(before).toEqual(['commit', 'after 1 write(s)']);
    expect(framer.frames).toBe(1);
    expect(records).toEqual([1]); // what hush_records_out_total counts
    expect(socket.writes).toHaveLength(1);
    expect(socket.writes[0]!.toString().split('\n')).toHaveLength(100);
  });

  it('stops writing under backpressure, resumes on drain, and overflows past the limit', async () => {
    const socket = new FakeSocket();
    let overflowed = 0;
    const q = new OutboundQueue(socket as unknown as Socket, framer, new FlushScheduler(), {
      maxQueueBytes: 1000,
      onOverflow: () => overflowed++,
      onFrameError: () => {},
    });
    socket.accept = false;
    q.push('x'.repeat(300));
    await nextTurn();
    expect(socket.writes).toHaveLength(1);
    q.push('y'.repeat(300));
    await nextTurn();
    expect(socket.writes).toHaveLength(1); // blocked until drain
    socket.accept = true;
    socket.writableLength = 0;
    socket.emit('drain');
    await nextTurn();
    expect(socket.writes).toHaveLength(2);
    socket.writableLength = 900;
    q.push('z'.repeat(200));
    expect(overflowed).toBe(1);
    q.push('after');
    await nextTurn();
    expect(socket.writes).toHaveLength(2);
  });
});

describe('rate limits', () => {
  it('token bucket: burst, refill and wait time', () => {
    const b = new TokenBucket(10, 5, 0);
    for (let i = 0; i < 5; i++) expect(b.tryTake(0)).toBe(true);
    expect(b.tryTake(0)).toBe(false);
    expect(b.waitMs(0)).toBe(100);
    expect(b.tryTake(100)).toBe(true);
    expect(b.tryTake(10_000, 5)).toBe(true);
    expect(b.tryTake(10_000)).toBe(false);
  });

  it('connection limiter counts per address and in total', () => {
    const l = new ConnectionLimiter({ maxConnectionsPerAddress: 2, maxConnections: 3 });
    expect(l.tryAcquire('a')).toBe(true);
    expect(l.tryAcquire('a')).toBe(true);
    expect(l.tryAcquire('a')).toBe(false);
    expect(l.tryAcquire('b')).toBe(true);
    expect(l.tryAcquire('c')).toBe(false);
    l.release('a');
    expect(l.tryAcquire('c')).toBe(true);
    expect(normalizeAddress('::ffff:10.0.0.1')).toBe('10.0.0.1');
    expect(normalizeAddress('::1')).toBe('::1');
  });
});
