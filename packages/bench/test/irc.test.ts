// The IRC load client (the driver of `pnpm bench --peers`) against a real IRC server when one is
// installed, and always against a tiny in-process IRC server over TLS: every message is counted at
// every other member, every PING answered as the message's ack, stamps read at observers.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stampedText } from '../src/deliveries.js';
import { IRC_CHANNEL, IrcLoadClient } from '../src/irc-client.js';
import { installedPeers, IRC_OPER, procUsage, selfSignedCert, startIrcPeer } from '../src/irc-peers.js';
import { waitFor } from '../src/stats.js';

/** NICK/USER, JOIN, PRIVMSG relay, PING/PONG and OPER: what the driver uses, each answer in its own small write. */
function fakeIrcServer(key: string, cert: string): Promise<Server> {
  const members = new Map<TLSSocket, string>();
  const server = createServer({ key: readFileSync(key), cert: readFileSync(cert) }, (socket) => {
    let nick = '*';
    let rest = '';
    socket.on('error', () => undefined);
    socket.on('close', () => members.delete(socket));
    socket.on('data', (chunk: Buffer) => {
      const lines = (rest + chunk.toString('latin1')).split('\r\n');
      rest = lines.pop()!;
      for (const line of lines) {
        const [command, ...params] = line.split(' ');
        if (command === 'NICK') nick = params[0]!;
        else if (command === 'USER') socket.write(`:fake 001 ${nick} :welcome\r\n:fake 422 ${nick} :no MOTD\r\n`);
        else if (command === 'OPER') socket.write(`:fake 381 ${nick} :operator\r\n`);
        else if (command === 'JOIN') {
          members.set(socket, nick);
          socket.write(`:${nick}!u@h JOIN ${IRC_CHANNEL}\r\n:fake 366 ${nick} ${IRC_CHANNEL} :End of /NAMES list.\r\n`);
        } else if (command === 'PRIVMSG') {
          // Split in two writes, so that the client sees lines cut across reads.
          const relay = `:${nick}!u@h ${line}\r\n`;
          for (const [other] of members)
            if (other !== socket) {
              other.write(relay.slice(0, 7));
              other.write(relay.slice(7));
            }
        } else if (command === 'PING') socket.write(`:fake PONG fake ${params.join(' ')}\r\n`);
      }
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

async function exchange(host: string, port: number, oper?: { name: string; password: string }): Promise<void> {
  const clients: IrcLoadClient[] = [];
  for (const nick of ['ircaa', 'ircab', 'ircac']) clients.push(await IrcLoadClient.connect(host, port, nick, oper));
  try {
    const [sender, observer, other] = clients as [IrcLoadClient, IrcLoadClient, IrcLoadClient];
    observer.observer = true;
    for (let i = 0; i < 20; i++) sender.sendTexts([stampedText(performance.now(), 64), stampedText(performance.now(), 64)]);
    other.sendTexts(['from the other one']);
    const done = await waitFor(
      () => sender.counts.acks === 40 && observer.counts.messages === 41 && other.counts.messages === 40 && sender.counts.messages === 1,
      10_000,
    );
    expect({ sender: sender.counts, observer: observer.counts, other: other.counts, done }).toEqual({
      sender: { messages: 1, acks: 40 },
      observer: { messages: 41, acks: 0 },
      other: { messages: 40, acks: 1 },
      done: true,
    });
    expect(observer.latencies).toHaveLength(40);
    for (const ms of observer.latencies) expect(ms).toBeGreaterThanOrEqual(0);
    expect(clients.flatMap((c) => c.problems)).toEqual([]);
  } finally {
    for (const c of clients) c.close();
  }
}

describe('the IRC load client', () => {
  let dir: string;
  let fake: Server;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hush-bench-irc-'));
    const { key, cert } = selfSignedCert(dir);
    fake = await fakeIrcServer(key, cert);
  });
  afterAll(async () => {
    await new Promise((resolve) => fake.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it('counts every relayed message and every PONG against an in-process IRC server over TLS', async () => {
    await exchange('127.0.0.1', (fake.address() as AddressInfo).port, IRC_OPER);
  });

  // The real server when installed (`pnpm bench --peers` installs it as root): started, driven and
  // stopped by PID as the benchmark does. ngircd is left out here: even for an operator with +F its
  // flood protection paces one client's burst (the benchmark's many clients keep it busy anyway).
  for (const kind of installedPeers().filter((k) => k === 'inspircd')) {
    it(`drives ${kind} over TLS, which is stopped afterwards`, async () => {
      const peer = await startIrcPeer(kind);
      try {
        await exchange(peer.host, peer.port);
        expect(procUsage(peer.pid).rss).toBeGreaterThan(0);
      } finally {
        await peer.stop();
      }
      expect(() => process.kill(peer.pid, 0)).toThrow();
    });
  }
});
