// Stress variant of test/app-manual-plan.test.ts's chats: the same six people, longer bursts.
import { afterAll, beforeAll, describe, it } from 'vitest';
import { ChatRoom, everyoneAtOnce, slowBesideFast } from '../test/helpers-app/chat-room.js';

let room: ChatRoom;
beforeAll(async () => {
  room = await ChatRoom.open();
}, 120_000);
afterAll(async () => {
  await room?.close();
});

describe('the manual test plan, longer (stress)', () => {
  it('six people typing 100 lines each as fast as send-keys can: every pane shows all 600 once, in one order', async () => {
    await room.expectChat(everyoneAtOnce(100));
  }, 600_000);

  it('one person sending a line every half second for 40 s while five chat fast loses nothing', async () => {
    await room.expectChat(slowBesideFast({ lines: 80, intervalMs: 500 }, { lines: 100, intervalMs: 400 }));
  }, 600_000);
});
