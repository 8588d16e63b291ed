// Resource-limit attacks, shared by the normal test and its stress variant. Each
// returns what it observed; the tests decide what must hold.
import { connect, type Socket } from 'node:net';
import { encodeFrame, PROTOCOL_VERSION, type ClientMessage } from '@hush/protocol';
import { RawClient } from './raw-client.js';

/** Limits of the child server the attacks run against (short deadlines so the test is quick). */
export const LIMITS_UNDER_TEST = {
  handshakeTimeoutMs: 1000,
  authTimeoutMs: 1500,
  maxQueueBytes: 256 * 1024,
  messagesPerSecond: 10,
  messageBurst: 40,
};

function parseGoodbyes(reply: Buffer): string[] {
  const codes: string[] = [];
  for (let at = 0; at + 4 <= reply.length; ) {
    const length = reply.readUInt32BE(at);
    if (at + 4 + length > reply.length) break;
    try {
      const m = JSON.parse(reply.subarray(at + 4, at + 4 + length).toString('utf8')) as { type?: string; code?: string };
      if (m.type === 'goodbye' && m.code) codes.push(m.code);
    } catch {
      // not a plaintext message
    }
    at += 4 + length;
  }
  return codes;
}

async function openSocket(port: number): Promise<{ socket: Socket; reply: () => Buffer; closed: Promise<number> }> {
  const socket = connect({ port, host: '127.0.0.1', noDelay: true });
  let reply = Buffer.alloc(0);
  socket.on('data', (d: Buffer) => (reply = Buffer.concat([reply, d])));
  socket.on('error', () => {});
  const start = performance.now();
  const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(performance.now() - start)));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return { socket, reply: () => reply, closed };
}

/** Pre-handshake length headers over the limit: each connection gets FRAME_TOO_LARGE and is closed. */
export async function oversizedHeadersPlain(
  port: number,
  lengths: number[],
): Promise<Array<{ length: number; codes: string[]; closedMs: number }>> {
  return Promise.all(
    lengths.map(async (length) => {
      const s = await openSocket(port);
      const header = Buffer.alloc(4);
      header.writeUInt32BE(length >>> 0, 0);
      s.socket.write(Buffer.concat([header, Buffer.alloc(1024, 0x41)])); // and some payload, which must not be buffered
      const closedMs = await s.closed;
      return { length, codes: parseGoodbyes(s.reply()), closedMs };
    }),
  );
}

/** The same after the handshake (and after login): the sealed channel refuses too. */
export async function oversizedHeadersSealed(
  port: number,
  lengths: number[],
  login: boolean,
): Promise<Array<{ length: number; codes: string[]; closed: boolean }>> {
  return Promise.all(
    lengths.map(async (length, i) => {
      const client = await RawClient.connect(port);
      if (login) await client.register(`big${Date.now() % 100000}x${i}`);
      const header = Buffer.alloc(4);
      header.writeUInt32BE(length >>> 0, 0);
      client.write(Buffer.concat([header, Buffer.alloc(4096, 0x42)]));
      const closed = await Promise.race([client.closed.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 5000))]);
      await client.close();
      return { length, codes: [...client.codes.keys()], closed };
    }),
  );
}

/**
 * Slowloris: `count` sockets each dribbling one byte of a client_hello every `everyMs`. Returns how
 * long each survived and the goodbye codes they got.
 */
export async function slowloris(
  port: number,
  count: number,
  everyMs: number,
  giveUpMs: number,
): Promise<Array<{ closedMs: number; codes: string[]; bytesSent: number }>> {
  const hello = encodeFrame(Buffer.from(JSON.stringify({ type: 'client_hello', versions: [PROTOCOL_VERSION], ephemeral: 'A'.repeat(43) })));
  const sockets = await Promise.all(Array.from({ length: count }, () => openSocket(port)));
  return Promise.all(
    sockets.map(async (s) => {
      let sent = 0;
      const timer = setInterval(() => {
        if (s.socket.destroyed || sent >= hello.length - 1) return; // never completes the frame
        s.socket.write(hello.subarray(sent, sent + 1));
        sent++;
      }, everyMs);
      const closedMs = await Promise.race([s.closed, new Promise<number>((r) => setTimeout(() => r(Infinity), giveUpMs))]);
      clearInterval(timer);
      s.socket.destroy();
      return { closedMs, codes: parseGoodbyes(s.reply()), bytesSent: sent };
    }),
  );
}

/** Slowloris after the handshake, before login: the authentication deadline must cut it. */
export async function slowAuth(
  port: number,
  count: number,
  everyMs: number,
  giveUpMs: number,
): Promise<Array<{ closedMs: number; codes: string[] }>> {
  const clients = await Promise.all(Array.from({ length: count }, () => RawClient.connect(port)));
  return Promise.all(
    clients.map(async (c) => {
      const start = performance.now();
      const partial = c.sealRaw(Buffer.from('{"type":"ping"}')).subarray(0, 20);
      let at = 0;
      const timer = setInterval(() => {
        if (!c.isClosed && at < partial.length) c.write(partial.subarray(at, ++at));
      }, everyMs);
      const closed = await Promise.race([
        c.closed.then(() => performance.now() - start),
        new Promise<number>((r) => setTimeout(() => r(Infinity), giveUpMs)),
      ]);
      clearInterval(timer);
      await c.close();
      return { closedMs: closed, codes: [...c.codes.keys()] };
    }),
  );
}

export interface FloodResult {
  sent: number;
  acked: number;
  /** RATE_LIMITED codes seen: error replies and the goodbye. */
  rateLimited: number;
  /** Error replies of any code. */
  errors: number;
  retryAfterSeen: boolean;
  goodbye: string | undefined;
  closedAfterMs: number;
}

/**
 * A logged-in client sending room messages (or signals: typing and read markers) as fast as it can
 * (pipelined), until cut or `maxMs`.
 */
export async function flood(
  port: number,
  name: string,
  room: string,
  perTick: number,
  maxMs: number,
  kind: 'messages' | 'signals' = 'messages',
): Promise<FloodResult> {
  const client = await RawClient.connect(port);
  await client.register(name);
  const join = await client.request({ type: 'room_join', room });
  if (join.type !== 'ok' && join.type !== 'rooms') throw new Error(`join failed: ${JSON.stringify(join)}`);
  let sent = 0;
  let retryAfterSeen = false;
  const start = performance.now();
  while (!client.isClosed && performance.now() - start < maxMs) {
    const batch: ClientMessage[] = Array.from({ length: perTick }, (_, i) => {
      const id = `fl${sent + i}`;
      if (kind === 'messages') return { type: 'send', id, room, text: `flood ${sent + i}` };
      return i % 2 === 0 ? { type: 'typing', target: { room }, active: i % 4 === 0 } : { type: 'read', id, target: { room }, msgId: '1' };
    });
    try {
      client.send(batch);
      sent += batch.length;
    } catch {
      break;
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  await Promise.race([client.closed, new Promise((r) => setTimeout(r, 3000))]);
  const closedAfterMs = performance.now() - start;
  for (const m of client.inbox) if (m.type === 'error' && m.code === 'RATE_LIMITED' && m.retryAfterMs !== undefined) retryAfterSeen = true;
  const goodbye = client.inbox.find((m) => m.type === 'goodbye');
  const result: FloodResult = {
    sent,
    acked: client.counts.get('ack') ?? 0,
    rateLimited: client.codes.get('RATE_LIMITED') ?? 0,
    errors: client.counts.get('error') ?? 0,
    retryAfterSeen,
    goodbye: goodbye?.type === 'goodbye' ? goodbye.code : undefined,
    closedAfterMs: client.isClosed ? closedAfterMs : Infinity,
  };
  await client.close();
  return result;
}

/** Whether hushd's log shows a queue overflow for each of `count` readers. */
export function overflowsLogged(output: string, count: number): boolean {
  return (output.match(/"queue_overflow"/g) ?? []).length >= count;
}

/**
 * Readers that never read: each logs in, stops reading (socket paused), and asks for large history
 * pages of `room` while others keep talking there. Returns the clients (still paused) so the test
 * can watch the server cut them off; `resume()` lets them read what reached them.
 */
export async function neverReaders(port: number, count: number, room: string, requests: number, prefix: string): Promise<RawClient[]> {
  // In groups: the server lets at most 64 password hashes wait at once (RATE_LIMITED beyond).
  const clients: RawClient[] = [];
  for (let start = 0; start < count; start += 20) {
    clients.push(
      ...(await Promise.all(
        Array.from({ length: Math.min(20, count - start) }, async (_, k) => {
          const c = await RawClient.connect(port);
          await c.register(`${prefix}${start + k}`);
          await c.request({ type: 'room_join', room });
          return c;
        }),
      )),
    );
  }
  for (const c of clients) {
    c.socket.pause();
    c.send(Array.from({ length: requests }, (_, i) => ({ type: 'history' as const, id: `nr${i}`, target: { room }, limit: 500 })));
  }
  return clients;
}
