// Presence across nodes, without sockets: a user is online while online on any node; a node that
// goes down (killed: no goodbye) takes offline the users it alone had.
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../src/config.js';
import { Fanout } from '../src/handlers/fanout.js';
import { PresenceBatch } from '../src/handlers/presence-batch.js';
import { Metrics } from '../src/metrics.js';
import { OnlineUsers } from '../src/online-users.js';
import type { SharedBlock } from '../src/outbound.js';

function node() {
  const received: string[] = [];
  const watcher = { sendLine: () => undefined, sendBlock: (b: SharedBlock) => received.push(...b.bytes.toString('utf8').split('\n')) };
  const online = new OnlineUsers<never>();
  online.add('watcher', 'user', [], watcher as never);
  const told: unknown[][] = [];
  const presence = new PresenceBatch(online as never, new Fanout(new Metrics(), DEFAULT_CONFIG.limits), (...change) => told.push(change));
  const notices = () => {
    presence.flush();
    return received.splice(0).map((l) => JSON.parse(l) as { user: string; state: string; status: string });
  };
  return { online, presence, told, notices };
}

describe('presence across nodes', () => {
  it('counts users of other nodes, keeps a user online while any node has them, and drops a dead node’s users', () => {
    const { presence, told, notices } = node();
    presence.remote(presence.others.set('node-b', [['ann', { state: 'online', status: '' }]]));
    presence.remote(
      presence.others.set('node-c', [
        ['ann', { state: 'away', status: 'lunch' }],
        ['bo', { state: 'online', status: '' }],
      ]),
    );
    expect(presence.of('ann').state).not.toBe('offline');
    expect(presence.of('bo')).toEqual({ state: 'online', status: '' });
    expect(presence.of('cy')).toEqual({ state: 'offline', status: '' });
    expect(
      notices()
        .map((n) => n.user)
        .sort(),
    ).toEqual(['ann', 'bo']);
    // Ann leaves node b: still on node c.
    presence.remote(presence.others.set('node-b', [['ann', null]]));
    expect(notices()).toEqual([{ type: 'presence', user: 'ann', state: 'away', status: 'lunch' }]);
    // Node c dies: both of its users go offline.
    presence.remote(presence.others.drop('node-c'));
    expect(notices().sort((x, y) => x.user.localeCompare(y.user))).toEqual([
      { type: 'presence', user: 'ann', state: 'offline', status: '' },
      { type: 'presence', user: 'bo', state: 'offline', status: '' },
    ]);
    // A snapshot replaces a node's list.
    presence.remote(presence.others.set('node-b', [['dee', { state: 'online', status: '' }]], true));
    presence.remote(presence.others.set('node-b', [['eve', { state: 'online', status: '' }]], true));
    expect(
      notices()
        .map((n) => `${n.user}:${n.state}`)
        .sort(),
    ).toEqual(['dee:offline', 'eve:online']);
    expect(told).toEqual([]); // nothing of this was this node's own
  });

  it("a change here is told to the others; this node's last session closing leaves the user online if another node has them", () => {
    const { presence, told, notices } = node();
    presence.remote(presence.others.set('node-b', [['fay', { state: 'online', status: '' }]]));
    notices();
    presence.changed('fay', 'offline', '');
    expect(told).toEqual([['fay', 'offline', '']]);
    expect(notices()).toEqual([{ type: 'presence', user: 'fay', state: 'online', status: '' }]);
  });
});
