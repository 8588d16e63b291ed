import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { RawClient } from '../src/raw-client.js';
import { rawServer } from './helpers/raw-server.js';
import { download, upload } from './helpers/file-transfer.js';

const fixture = rawServer({ maxFileSize: 1024 * 1024, limits: { messagesPerSecond: 1000, messageBurst: 1000 } });
const { user } = fixture;

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
    const fileId = await upload(ada, { room: 'lobby' }, data, 'big.bin');
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
    expect((await download(back, fileId)).equals(data)).toBe(true);
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
