// Stress variant of test/app-manual-plan.test.ts's chats: the same six people, longer bursts.
import { describe } from 'vitest';
import { ChatRoom, chatTests } from '../test/helpers-app/chat-room.js';

const plan = ChatRoom.forSuite();

describe('the manual test plan, longer (stress)', () => {
  chatTests(plan, { everyone: 100, slow: { lines: 80, intervalMs: 500 }, fast: { lines: 100, intervalMs: 400 }, timeoutMs: 600_000 });
});
