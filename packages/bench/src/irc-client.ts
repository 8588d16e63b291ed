import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { readStamps } from './deliveries.js';
import { LoadClientBase } from './load-client.js';

/** The IRC channel every IRC load client joins: the peers' counterpart of Hush's lobby. */
export const IRC_CHANNEL = '#lobby';

const LF = 10;
const SPACE = 32;
const PRIVMSG = Buffer.from('PRIVMSG');
const PONG = Buffer.from('PONG');

/**
 * A load-generator client of an IRC server (the peers of `pnpm bench --peers`) over TLS: NICK/USER,
 * JOIN, then PRIVMSG to the channel. IRC has no acknowledgement, so each message is followed by a
 * PING whose PONG counts as its ack (the server answers in order, after relaying the message): the
 * saturation loop keeps its window in flight as with Hush's acks. Counts come from each line's
 * command, never a full parse; observers read send stamps as the other clients do.
 */
export class IrcLoadClient extends LoadClientBase {
  private socket!: TLSSocket;
  /** The unfinished last line of the previous read. */
  private rest: Buffer | null = null;
  private waiting: { numeric: Buffer; resolve: () => void; reject: (error: Error) => void } | null = null;

  private constructor(private readonly nick: string) {
    super();
  }

  /** Connects over TLS (any certificate: the peers run with a self-signed one), registers and joins the channel. */
  static async connect(
    host: string,
    port: number,
    nick: string,
    oper?: { name: string; password: string },
    timeoutMs = 30_000,
  ): Promise<IrcLoadClient> {
    const client = new IrcLoadClient(nick);
    client.socket = await new Promise<TLSSocket>((resolve, reject) => {
      const socket = tlsConnect({ host, port, rejectUnauthorized: false });
      socket.setNoDelay(true);
      socket.once('error', reject);
      socket.once('secureConnect', () => {
        socket.off('error', reject);
        resolve(socket);
      });
    });
    client.socket.on('data', (chunk: Buffer) => client.onData(chunk));
    client.socket.on('error', (error) => client.fail(`socket: ${(error as NodeJS.ErrnoException).code ?? error.message}`));
    client.socket.on('close', () => client.fail('socket closed'));
    const registered = client.until('001', timeoutMs);
    client.socket.write(`NICK ${nick}\r\nUSER ${nick} 0 * :${nick}\r\n`);
    await registered;
    if (oper) {
      // ngircd relaxes its flood protection only for operators with user mode +F.
      const opered = client.until('381', timeoutMs);
      client.socket.write(`OPER ${oper.name} ${oper.password}\r\nMODE ${nick} +F\r\n`);
      await opered;
    }
    const joined = client.until('366', timeoutMs); // end of the channel's names: joined
    client.socket.write(`JOIN ${IRC_CHANNEL}\r\n`);
    await joined;
    return client;
  }

  sendTexts(texts: readonly string[]): void {
    let out = '';
    for (const text of texts) out += `PRIVMSG ${IRC_CHANNEL} :${text}\r\nPING :a\r\n`;
    this.socket.write(out);
  }

  close(): void {
    this.socket.destroy();
  }

  private until(numeric: string, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`irc ${this.nick}: no ${numeric} within ${timeoutMs} ms (${this.problems.join(', ')})`)),
        timeoutMs,
      );
      this.waiting = {
        numeric: Buffer.from(numeric),
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
    });
  }

  private fail(problem: string): void {
    this.problems.push(problem);
    const waiting = this.waiting;
    this.waiting = null;
    waiting?.reject(new Error(`irc ${this.nick}: ${problem}`));
  }

  private onData(chunk: Buffer): void {
    if (this.discards(chunk)) return;
    const data = this.rest ? Buffer.concat([this.rest, chunk]) : chunk;
    const complete = data.lastIndexOf(LF) + 1;
    this.rest = complete < data.length ? Buffer.from(data.subarray(complete)) : null;
    if (complete === 0) return;
    const lines = data.subarray(0, complete);
    let start = 0;
    while (start < complete) {
      const stop = lines.indexOf(LF, start);
      this.onLine(lines, start, stop);
      start = stop + 1;
    }
    if (this.observer) readStamps(lines, performance.now(), this.latencies);
    this.onPayload?.();
  }

  /** One line, `[:prefix ]COMMAND params`, between `start` and the LF at `stop`. */
  private onLine(buf: Buffer, start: number, stop: number): void {
    let at = start;
    if (buf[at] === 0x3a /* : */) {
      at = buf.indexOf(SPACE, at);
      if (at === -1 || at > stop) return;
      at++;
    }
    if (is(buf, at, PRIVMSG)) this.counts.messages++;
    else if (is(buf, at, PONG)) this.counts.acks++;
    else if (is(buf, at, PING_COMMAND)) this.socket.write(`PONG ${buf.toString('latin1', at + 5, stop).trim()}\r\n`);
    else if (this.waiting && is(buf, at, this.waiting.numeric)) {
      const waiting = this.waiting;
      this.waiting = null;
      waiting.resolve();
    } else if ((buf[at] === 0x34 /* 4xx: an error reply */ && !is(buf, at, NO_MOTD)) || is(buf, at, ERROR_COMMAND)) {
      this.fail(`server: ${buf.toString('latin1', at, Math.min(stop, at + 80)).trim()}`);
    }
  }
}

const PING_COMMAND = Buffer.from('PING ');
const ERROR_COMMAND = Buffer.from('ERROR');
const NO_MOTD = Buffer.from('422');

function is(buf: Buffer, at: number, word: Buffer): boolean {
  for (let i = 0; i < word.length; i++) if (buf[at + i] !== word[i]) return false;
  return buf[at + word.length] === SPACE || word[word.length - 1] === SPACE;
}
