// Global setup of the vitest project "postgres" (vitest.config.ts): one throwaway PostgreSQL for
// the whole run, its URL provided to the tests as `pgUrl`; each test server gets a database of its own.
import type { TestProject } from 'vitest/node';
import { startPostgres } from './postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Set in the "postgres" project only: the throwaway server's `postgres` database. */
    pgUrl?: string;
    /** Set in the "cluster" project only: its test servers are three-node clusters. */
    cluster?: boolean;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await startPostgres();
  project.provide('pgUrl', server.url);
  return () => server.stop();
}
