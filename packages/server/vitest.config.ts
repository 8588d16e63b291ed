import { defineConfig } from 'vitest/config';
import { testConfig } from '../../vitest.shared.ts';

const { include, ...shared } = testConfig('server').test ?? {};

/** The suites that run a real hushd over sockets: they run again with the server on PostgreSQL. */
const SCENARIOS = [
  'test/server-admin-requests.test.ts',
  'test/server-conversation.test.ts',
  'test/server-devices.test.ts',
  'test/server-direct-devices.test.ts',
  'test/server-errors.test.ts',
  'test/server-files.test.ts',
  'test/server-file-resume.test.ts',
  'test/server-idempotency.test.ts',
  'test/server-lists.test.ts',
  'test/server-messaging.test.ts',
  'test/server-prekeys.test.ts',
  'test/server-remove-device.test.ts',
  'test/server-password-change.test.ts',
  'test/server-room-kinds.test.ts',
  'test/server-rooms.test.ts',
  'test/server-postgres.test.ts',
  'test/cluster-*.test.ts',
];

/** The scenario suites that run again against three nodes behind a TCP balancer (helpers/cluster.ts). */
const CLUSTER_SCENARIOS = SCENARIOS.filter((file) => file.startsWith('test/server-') && file !== 'test/server-postgres.test.ts');

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
          // Tests that assert one node's own state are declared with nodeLocalIt (helpers/store-under-test.ts).
          provide: { cluster: true },
        },
      },
    ],
  },
});
