import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { RawClient } from '../src/raw-client.js';
import { rawServer } from './helpers/raw-server.js';

const fixture = rawServer({ maxFileSize: 1024 * 1024, limits: { messagesPerSecond: 1000, messageBurst: 1000 } });
const { user } = fixture;

async function upload(c: RawClient, room: string, data: Buffer): Promise<string> {
  const sha512 = createHash('sha512').update(data).digest('base64url');
  const created = await c.expect({ type: 'file_offer', target: { room }, size: data.length, name: 'big.bin', sha512 }, 'file_created');
  const chunks = Math.ceil(data.length / created.chunkSize);
  for (let i = 0; i < chunks; i++) {
    const part = data.subarray(i * created.chunkSize, (i + 1) * created.chunkSize);
    await c.expect(
      { type: 'file_chunk', fileId: created.fileId, index: i, data: part.toString('base64url'), final: i === chunks - 1 },
      'ok',
    );
  }
  return created.fileId;
}

async function relogin(name: string, device: RawClient['device']): Promise<RawClient> {
  const back = await RawClient.connect(fixture.server.port);
  fixture.track(back);
  back.device = device;
  await back.expect(back.deviceLoginRequest(name), 'welcome');
  return back;
}

describe('a download that never finished', () => {
  it('is offered again at the next login and can be fetched whole; a confirmed one is not', async () => {
    const ada = await user('ada');
    const bea = await user('bea');
    const data = randomBytes(400_000);
    const fileId = await upload(ada, 'lobby', data);
    await bea.next((m) => m.type === 'file_offered' && m.fileId === fileId);
    await bea.expect({ type: 'file_accept', fileId }, 'ok');
    await bea.next((m) => m.type === 'file_data' && m.fileId === fileId);
    // The receiver's process dies mid-download.
    const device = bea.device;
    await bea.close();

    const back = await relogin('bea', device);
    expect(await back.next((m) => m.type === 'file_offered' && m.fileId === fileId)).toMatchObject({ from: 'ada', size: data.length });
    const pending = await back.expect({ type: 'files_pending' }, 'files');
    expect(pending.files.map((f) => f.fileId)).toContain(fileId);
    await back.expect({ type: 'file_accept', fileId }, 'ok');
    const parts: Buffer[] = [];
    for (;;) {
      const m = await back.next((x) => x.type === 'file_data' && x.fileId === fileId);
      if (m.type !== 'file_data') throw new Error('unreachable');
      expect(m.index).toBe(parts.length);
      parts.push(Buffer.from(m.data, 'base64url'));
      if (m.final) break;
    }
    expect(Buffer.concat(parts).equals(data)).toBe(true);
    await back.expect({ type: 'file_received', fileId }, 'ok');
    expect(await ada.next((m) => m.type === 'file_status' && m.status === 'downloaded')).toMatchObject({ fileId, user: 'bea' });

    const device2 = back.device;
    await back.close();
    const third = await relogin('bea', device2);
    const after = await third.expect({ type: 'files_pending' }, 'files');
    expect(after.files.map((f) => f.fileId)).not.toContain(fileId);
    expect(third.take((m) => m.type === 'file_offered' && m.fileId === fileId)).toEqual([]);
  });
});
