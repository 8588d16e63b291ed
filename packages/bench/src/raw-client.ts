import type { Socket } from 'node:net';
import { encodeFrame, FrameDecoder } from '@hush/protocol';
import { countLines, readStamps } from './deliveries.js';
import { connectSocket, LoadClientBase } from './load-client.js';

/** A load-generator client of the raw ceiling server: sends ready-made message lines. */
export class RawLoadClient extends LoadClientBase {
  private readonly decoder = new FrameDecoder({ maxFrameSize: 64 * 1024 * 1024 });

  private socket!: Socket;

  private constructor(private readonly name: string) {
    super();
  }

  private onData(chunk: Buffer): void {
    if (this.discards(chunk)) return;
    const now = performance.now();
    for (const payload of this.decoder.push(chunk)) {
      countLines(payload, this.counts);
      if (this.observer) readStamps(payload, now, this.latencies);
    }
    this.onPayload?.();
  }

  static async connect(host: string, port: number, name: string): Promise<RawLoadClient> {
    const client = new RawLoadClient(name);
    const socket = await connectSocket(host, port, (chunk) => client.onData(chunk));
    client.socket = socket;
    socket.on('error', (error) => client.problems.push(`socket: ${(error as NodeJS.ErrnoException).code ?? error.message}`));
    return client;
  }

  sendTexts(texts: readonly string[]): void {
    const frames = texts.map((text) =>
      encodeFrame(
        Buffer.from(
          `{"type":"message","room":"lobby","msgId":"0","ts":${Date.now()},"from":${JSON.stringify(this.name)},"text":${JSON.stringify(text)},"action":false}`,
        ),
      ),
    );
    this.socket.write(frames.length === 1 ? frames[0]! : Buffer.concat(frames));
  }

  close(): void {
    this.socket.destroy();
  }
}
