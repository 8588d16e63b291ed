// The fuzzing campaign against a live hushd, shared by the normal test and its
// stress variant: bounded batches of hostile connections over real sockets, with counts of what
// was sent, what the server parsed, what reached its handlers and how it answered.
import { connect } from 'node:net';
import { encodeFrame, type ServerMessage } from '@hush/protocol';
import { garbageLine, hostileRequest, preHandshakeBytes, Rng } from './fuzz.js';
import { RawClient } from './raw-client.js';

export interface FuzzPlan {
  seed: number;
  /** Connections that misbehave before/during the handshake (one hostile input each). */
  preHandshake: number;
  /** Authenticated connections each sending `linesPerGarbage` hostile lines, pipelined in sealed records. */
  garbage: number;
  linesPerGarbage: number;
  /** Logged-in connections each sending `requestsPerHostile` schema-valid hostile requests. */
  hostile: number;
  requestsPerHostile: number;
  /** Connections that send an unauthenticated or altered record after the handshake. */
  badRecord: number;
  concurrency: number;
  /** Bound for any one connection to be answered or closed (a hang fails the run). */
  connectionTimeoutMs: number;
  victim: string;
  maxFrameSize: number;
}

export interface FuzzStats {
  preHandshakeInputs: number;
  garbageLinesSent: number;
  garbageRecordsSent: number;
  hostileRequestsSent: number;
  hostileReplies: number;
  badRecordsSent: number;
  /** error / goodbye codes the server sent, by code. */
  codes: Record<string, number>;
  /** Messages from the server that failed the client-side schema (must stay 0). */
  undecodable: number;
  hangs: string[];
  /** Hostile connections the server closed before their batches were done (and why). */
  hostileClosed: string[];
  /** INTERNAL errors (a handler threw something unexpected). */
  internal: number;
}

export function totalInputs(s: FuzzStats): number {
  return s.preHandshakeInputs + s.garbageLinesSent + s.hostileRequestsSent + s.badRecordsSent;
}

async function inBatches(count: number, concurrency: number, run: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(concurrency, count) }, async () => {
    while (next < count) await run(next++);
  });
  await Promise.all(workers);
}

function bump(map: Record<string, number>, key: string, by = 1): void {
  map[key] = (map[key] ?? 0) + by;
}

function merge(stats: FuzzStats, client: RawClient): void {
  for (const [code, n] of client.codes) bump(stats.codes, code, n);
  stats.undecodable += client.decodeErrors.length;
  stats.internal += client.codes.get('INTERNAL') ?? 0;
}

/** Waits for `p`, or records a hang. */
async function bounded<T>(p: Promise<T>, ms: number, what: string, stats: FuzzStats): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'hang'>((resolve) => (timer = setTimeout(() => resolve('hang'), ms)));
  const result = await Promise.race([p, timeout]);
  clearTimeout(timer);
  if (result === 'hang') {
    stats.hangs.push(what);
    return undefined;
  }
  return result as T;
}

/** After its input, a connection must either answer a ping or be closed by the server. */
async function answeredOrClosed(client: RawClient, ms: number, what: string, stats: FuzzStats): Promise<void> {
  if (!client.isClosed) {
    try {
      client.send([{ type: 'ping', nonce: 'end' }]);
    } catch {
      // closed meanwhile
    }
  }
  await bounded(
    Promise.race([
      client.closed,
      client.next((m: ServerMessage) => m.type === 'pong' && m.nonce === 'end', ms + 1000).catch(() => undefined),
    ]),
    ms,
    what,
    stats,
  );
}

export async function runFuzz(port: number, plan: FuzzPlan): Promise<FuzzStats> {
  const stats: FuzzStats = {
    preHandshakeInputs: 0,
    garbageLinesSent: 0,
    garbageRecordsSent: 0,
    hostileRequestsSent: 0,
    hostileReplies: 0,
    badRecordsSent: 0,
    codes: {},
    undecodable: 0,
    hangs: [],
    hostileClosed: [],
    internal: 0,
  };

  /** `count` raw clients, `plan.concurrency` at a time, each with its own seeded Rng; what they saw goes into stats. */
  const eachClient = (count: number, salt: number, run: (client: RawClient, rng: Rng, i: number) => Promise<void>): Promise<void> =>
    inBatches(count, plan.concurrency, async (i) => {
      const rng = new Rng(plan.seed * salt + i);
      const client = await RawClient.connect(port, { maxFrameSize: plan.maxFrameSize });
      try {
        await run(client, rng, i);
      } finally {
        merge(stats, client);
        await client.close();
      }
    });

  // 1. Before and during the handshake: one hostile input per connection (the server closes at the first).
  await inBatches(plan.preHandshake, plan.concurrency, async (i) => {
    const rng = new Rng(plan.seed * 7919 + i);
    const bytes = preHandshakeBytes(rng);
    const socket = connect({ port, host: '127.0.0.1', noDelay: true });
    let reply = Buffer.alloc(0);
    socket.on('data', (d: Buffer) => (reply = reply.length < 8192 ? Buffer.concat([reply, d]) : reply));
    socket.on('error', () => {});
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.once('connect', () => {
      socket.write(bytes);
      socket.end();
    });
    stats.preHandshakeInputs++;
    await bounded(closed, plan.connectionTimeoutMs, `pre-handshake #${i}`, stats);
    socket.destroy();
    // A goodbye, when there is one, is a plaintext frame carrying a code.
    for (let at = 0; at + 4 <= reply.length; ) {
      const length = reply.readUInt32BE(at);
      if (at + 4 + length > reply.length) break;
      try {
        const m = JSON.parse(reply.subarray(at + 4, at + 4 + length).toString('utf8')) as { type?: string; code?: string };
        if (m.type === 'goodbye') bump(stats.codes, `pre:${m.code ?? 'NO_CODE'}`);
      } catch {
        // server_hello etc. are JSON; anything else would be a finding, counted below
      }
      at += 4 + length;
    }
  });

  // 2. Authenticated, sealed garbage: many hostile lines per record; half of the connections log in first.
  await eachClient(plan.garbage, 104729, async (client, rng, i) => {
    if (i % 2 === 1) await client.register(`fz${plan.seed % 100000}g${i}`);
    if (i % 5 === 0) {
      client.write(client.sealRaw(rng.bytes(1 + rng.int(500)))); // not UTF-8 / not JSON
      stats.garbageLinesSent++;
      stats.garbageRecordsSent++;
    }
    const lines: string[] = [];
    for (let n = 0; n < plan.linesPerGarbage; n++) lines.push(garbageLine(rng));
    const before = client.socket.bytesWritten;
    client.send(lines);
    stats.garbageLinesSent += lines.length;
    stats.garbageRecordsSent += Math.max(1, Math.ceil((client.socket.bytesWritten - before) / plan.maxFrameSize));
    await answeredOrClosed(client, plan.connectionTimeoutMs, `garbage #${i}`, stats);
  });

  // 3. Logged in, schema-valid but hostile requests that reach the handlers and the database.
  await eachClient(plan.hostile, 15485863, async (client, rng, i) => {
    const me = `fz${plan.seed % 100000}h${i}`;
    await client.register(me);
    const ownRoom = `fzr${plan.seed % 100000}x${i}`;
    await client.request({ type: 'room_create', room: ownRoom });
    const perRecord = 250;
    for (let sent = 0; sent < plan.requestsPerHostile && !client.isClosed; sent += perRecord) {
      const batch: Record<string, unknown>[] = [];
      for (let n = 0; n < Math.min(perRecord, plan.requestsPerHostile - sent); n++)
        batch.push(hostileRequest(rng, { ownRoom, victim: plan.victim, me, device: client.device }));
      const repliesBefore = [...client.counts.values()].reduce((a, b) => a + b, 0);
      const expected = batch.filter((m) => m.type !== 'typing').length;
      client.send(batch.map((m) => JSON.stringify(m)));
      stats.hostileRequestsSent += batch.length;
      const nonce = `b${sent}`;
      client.send([{ type: 'ping', nonce }]);
      // Answered, or closed by the server (e.g. QUEUE_OVERFLOW: 250 pipelined requests can ask for
      // more than maxQueueBytes of replies); only neither is a hang.
      const pong = await bounded(
        Promise.race([
          client.next((m) => m.type === 'pong' && m.nonce === nonce, plan.connectionTimeoutMs + 1000).catch(() => undefined),
          client.closed.then(() => 'closed' as const),
        ]),
        plan.connectionTimeoutMs,
        `hostile #${i} batch ${sent}`,
        stats,
      );
      if (pong === 'closed')
        stats.hostileClosed.push(
          `#${i}@${sent}:${[...client.codes.keys()].filter((c) => c === 'QUEUE_OVERFLOW' || c === 'RATE_LIMITED').join('+') || 'closed'}`,
        );
      if (!pong || pong === 'closed') break;
      const replies = [...client.counts.values()].reduce((a, b) => a + b, 0) - repliesBefore - 1;
      stats.hostileReplies += Math.min(replies, expected);
    }
  });

  // 4. Records the session cipher did not seal, or sealed then altered: the session must end.
  await eachClient(plan.badRecord, 32452843, async (client, rng, i) => {
    let record: Buffer;
    if (rng.chance(0.5)) record = encodeFrame(rng.bytes(rng.int(2000)));
    else {
      record = client.sealRaw(Buffer.from('{"type":"ping","nonce":"x"}'));
      const at = 4 + rng.int(record.length - 4);
      record[at] = record[at]! ^ (1 << rng.int(8));
    }
    client.write(record);
    stats.badRecordsSent++;
    await bounded(client.closed, plan.connectionTimeoutMs, `bad record #${i}`, stats);
  });

  return stats;
}
