// A file's upload and download over a raw client, as a receiving or sending client does them.
import { createHash } from 'node:crypto';
import { expect } from 'vitest';
import type { RawClient } from '../../src/raw-client.js';

/** Uploads `data` to `target` in the server's chunk size; the file's id. Room files carry `name` and their hash. */
export async function upload(c: RawClient, target: { room: string } | { user: string }, data: Buffer, name?: string): Promise<string> {
  // Room files carry their name and hash; direct files keep both inside the end-to-end envelope.
  const meta = 'room' in target ? { name: name ?? 'file.bin', sha512: createHash('sha512').update(data).digest('base64url') } : {};
  const created = await c.expect({ type: 'file_offer', target, size: data.length, ...meta }, 'file_created');
  const chunks = Math.max(1, Math.ceil(data.length / created.chunkSize));
  for (let i = 0; i < chunks; i++) {
    const part = data.subarray(i * created.chunkSize, (i + 1) * created.chunkSize);
    await c.expect(
      {
        type: 'file_chunk',
        fileId: created.fileId,
        index: i,
        data: part.toString('base64url'),
        final: i === chunks - 1,
      },
      'ok',
    );
  }
  return created.fileId;
}

/** Accepts `fileId` and reads its chunks, in order from 0, to the final one. */
export async function download(c: RawClient, fileId: string): Promise<Buffer> {
  await c.expect({ type: 'file_accept', fileId }, 'ok');
  const parts: Buffer[] = [];
  for (;;) {
    const m = await c.next((x) => x.type === 'file_data' && x.fileId === fileId);
    if (m.type !== 'file_data') throw new Error('unreachable');
    expect(m.index).toBe(parts.length);
    parts.push(Buffer.from(m.data, 'base64url'));
    if (m.final) return Buffer.concat(parts);
  }
}
