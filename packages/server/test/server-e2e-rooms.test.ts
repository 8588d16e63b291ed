// End-to-end rooms over the raw protocol, beyond messages (server-room-kinds.test.ts): a room file
// is sealed like a direct file (its name and hash never reach the server), and a banned account
// leaves every room with a `ban` event, so members rotate their sender keys.
import { randomBytes } from 'node:crypto';
import { FILE_CHUNK_OVERHEAD } from '@hush/crypto';
import { describe, expect, it } from 'vitest';
import { RawClient } from '../src/raw-client.js';
import { rawServer } from './helpers/raw-server.js';

const fixture = rawServer({ maxFileSize: 1024, limits: { messagesPerSecond: 10_000, messageBurst: 10_000 } });
const { user } = fixture;

describe('end-to-end rooms', () => {
  it('a room file keeps its name and hash out of the server: a named offer is refused, a sealed one relayed without them', async () => {
    const ann = await user('e2ef-ann');
    const ben = await user('e2ef-ben');
    await ann.expect({ type: 'room_create', room: 'sealed-files' }, 'ok');
    await ben.expect({ type: 'room_join', room: 'sealed-files' }, 'ok');
    const target = { room: 'sealed-files' };
    const named = await ann.request({
      type: 'file_offer',
      target,
      size: 10,
      name: 'secret-plans.txt',
      sha512: randomBytes(64).toString('base64url'),
    });
    expect(named).toMatchObject({ type: 'error', code: 'BAD_REQUEST', message: expect.stringContaining('end-to-end encrypted') });
    // The size limit is on the content: a sealed chunk's overhead does not count against it.
    const sealedSize = 1024 + FILE_CHUNK_OVERHEAD;
    const created = await ann.expect({ type: 'file_offer', target, size: sealedSize }, 'file_created');
    const data = randomBytes(sealedSize).toString('base64url');
    await ann.expect({ type: 'file_chunk', fileId: created.fileId, index: 0, data, final: true }, 'ok');
    const offered = await ben.next((m) => m.type === 'file_offered' && m.fileId === created.fileId);
    expect(offered).toEqual({
      type: 'file_offered',
      fileId: created.fileId,
      from: 'e2ef-ann',
      target,
      size: sealedSize,
      ts: expect.any(Number),
    });
    expect(fixture.server.store.getFile(created.fileId)).toMatchObject({ name: null, sha512: null });
    expect(await ann.request({ type: 'file_offer', target, size: sealedSize + 1 })).toMatchObject({ code: 'FILE_TOO_LARGE' });
    // An open room still wants them, in clear.
    expect(await ann.request({ type: 'file_offer', target: { room: 'lobby' }, size: 10 })).toMatchObject({ code: 'BAD_REQUEST' });
  });

  it('a banned account leaves every room: members see a ban event in each, and it is no member any more', async () => {
    const boss = await user('e2eb-boss');
    fixture.server.store.setServerRole('e2eb-boss', 'admin');
    await boss.close();
    const admin = fixture.track(await RawClient.connect(fixture.server.port));
    admin.device = boss.device;
    await admin.expect(admin.deviceLoginRequest('e2eb-boss'), 'welcome');
    const kim = await user('e2eb-kim');
    const mal = await user('e2eb-mal');
    await kim.expect({ type: 'room_create', room: 'ban-a' }, 'ok');
    await kim.expect({ type: 'room_create', room: 'ban-b' }, 'ok');
    for (const room of ['ban-a', 'ban-b']) await mal.expect({ type: 'room_join', room }, 'ok');
    await admin.expect({ type: 'ban', user: 'e2eb-mal', reason: 'spam' }, 'ok');
    for (const room of ['lobby', 'ban-a', 'ban-b']) {
      expect(await kim.next((m) => m.type === 'room_event' && m.event === 'ban' && m.room === room)).toMatchObject({
        user: 'e2eb-mal',
        by: 'e2eb-boss',
        reason: 'spam',
      });
      expect(fixture.server.store.getMember(room, 'e2eb-mal')).toBeUndefined();
    }
  });
});
