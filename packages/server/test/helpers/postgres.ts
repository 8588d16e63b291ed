// The throwaway PostgreSQL server lives in the shared test kit (the bench starts it too).
export { makeCa, startPostgres, type TestPostgres } from '../../../test-kit/src/postgres.js';
