// Setup of the vitest project "cluster": the scenario tests that vitest.config.ts names as asserting
// one node's own state are left out there (they run in the projects "sqlite" and "postgres").
import { beforeEach, inject } from 'vitest';

const leftOut = new Set(inject('cluster')?.leftOut ?? []);

beforeEach(({ task, skip }) => {
  if (leftOut.has(task.name)) skip("asserts one node's own state: left out of the cluster project (vitest.config.ts)");
});
