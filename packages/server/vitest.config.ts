import { defineConfig } from 'vitest/config';
import { testConfig } from '../../vitest.shared.ts';

const { include, ...shared } = testConfig('server').test ?? {};

/** The suites that run a real hushd over sockets: they run again with the server on PostgreSQL. */
const SCENARIOS = [
  'test/server-conversation.test.ts',
  'test/server-devices.test.ts',
  'test/server-direct-devices.test.ts',
  'test/server-errors.test.ts',
  'test/server-files.test.ts',
  'test/server-idempotency.test.ts',
  'test/server-lists.test.ts',
  'test/server-messaging.test.ts',
  'test/server-prekeys.test.ts',
  'test/server-room-kinds.test.ts',
  'test/server-rooms.test.ts',
  'test/server-postgres.test.ts',
  'test/cluster-*.test.ts',
];

/** The scenario suites that run again against three nodes behind a TCP balancer (helpers/cluster.ts). */
const CLUSTER_SCENARIOS = SCENARIOS.filter((file) => file.startsWith('test/server-') && file !== 'test/server-postgres.test.ts');

/** Scenario tests left out of the cluster project (test/helpers/cluster-setup.ts): each asserts one node's own state. */
const NODE_LOCAL = [
  // Spies on one node's store for the offline query; the reconnects land on other nodes.
  'skips the offline query when nothing newer than the start point is stored for the user',
  // The per-address connection limit is per node, and a node caches address bans for a second.
  'limits connections per address and bans addresses at accept',
  // Unbans through one node's store object: the other nodes hold the ban in their cache for a second.
  'bans an address: matching connections are closed and refused at accept until unbanned',
  // Counts one node's encodings of a turn; each node encodes the turn for its own members.
  "encodes a room's messages of one turn once, whatever the number of members, and every member gets them in server order",
];

export default defineConfig({
  test: {
    ...shared,
    projects: [
      // Projects that extend the root would add their include to the root's: each names its own.
      { extends: true, test: { name: 'sqlite', include, exclude: ['test/server-postgres.test.ts', 'test/cluster-*.test.ts'] } },
      { extends: true, test: { name: 'postgres', include: SCENARIOS, globalSetup: ['test/helpers/postgres-global.ts'] } },
      {
        extends: true,
        test: {
          name: 'cluster',
          include: CLUSTER_SCENARIOS,
          globalSetup: ['test/helpers/postgres-global.ts'],
          setupFiles: ['test/helpers/cluster-setup.ts'],
          provide: { cluster: { leftOut: NODE_LOCAL } },
        },
      },
    ],
  },
});
