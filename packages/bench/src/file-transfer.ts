import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BENCH_PASSWORD, benchUsername } from './devices.js';
import { withTimeout } from './hush-client.js';
import type { Target } from './target.js';

// One end-to-end file to one recipient through the real SDK (sealing, chunking, flow control and
// saving are the SDK's work, so this is what a user waits for). Runs in the load-generator process.

export type FileResult =
  | { available: true; bytes: number; wallMs: number; mbPerSec: number; identical: boolean }
  | { available: false; reason: string };

export async function fileTransfer(o: { target: Target; bytes: number; timeoutMs: number }): Promise<FileResult> {
  let sdk: typeof import('@hush/client');
  try {
    sdk = await import('@hush/client');
  } catch (error) {
    return { available: false, reason: `@hush/client does not load (${(error as Error).message.split('\n')[0]})` };
  }
  const dir = mkdtempSync(join(tmpdir(), 'hush-bench-file-'));
  const clients: { close(): Promise<void> }[] = [];
  try {
    const source = join(dir, 'payload.bin');
    const content = randomBytes(o.bytes);
    writeFileSync(source, content);
    const open = async (name: string) => {
      const c = await sdk.HushClient.connect({
        host: o.target.host,
        port: o.target.port,
        reconnect: false,
        trust: () => true,
        paths: { configDir: join(dir, name, 'config'), dataDir: join(dir, name, 'data') },
      });
      clients.push(c);
      await c.register(name, BENCH_PASSWORD);
      return c;
    };
    const sender = await open(benchUsername('fx', 0));
    const receiver = await open(benchUsername('fx', 1));
    const downloads = join(dir, 'downloads');
    const done = new Promise<string>((resolve, reject) => {
      receiver.on('fileOffer', (offer) => {
        receiver.acceptFile(offer.fileId, downloads).catch(reject);
      });
      receiver.on('fileComplete', (e) => {
        if (e.direction === 'down' && e.path) resolve(e.path);
      });
      receiver.on('fileCancelled', (e) => reject(new Error(`cancelled: ${e.reason ?? ''}`)));
    });
    const t0 = performance.now();
    try {
      await sender.sendFile({ user: receiver.user! }, source);
    } catch (error) {
      const e = error as { code?: string; message?: string };
      if (e.code === 'NOT_IMPLEMENTED' || e.code === 'UNSUPPORTED') return { available: false, reason: `SDK: ${e.message ?? e.code}` };
      throw error;
    }
    const path = await withTimeout(done, o.timeoutMs, 'file transfer');
    const wallMs = performance.now() - t0;
    const identical = createHash('sha512').update(readFileSync(path)).digest().equals(createHash('sha512').update(content).digest());
    return {
      available: true,
      bytes: o.bytes,
      wallMs: Math.round(wallMs),
      mbPerSec: Math.round((o.bytes / 1e6 / (wallMs / 1000)) * 10) / 10,
      identical,
    };
  } finally {
    for (const c of clients) await c.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}
