// Moving from one node to many: copies a SQLite database (a data directory's hush.db) into an
// empty PostgreSQL database, table by table and row by row, in one PostgreSQL transaction. The
// schemas share table and column names, so rows copy as they are; message ids are kept and the id
// sequence continues after the highest id SQLite ever assigned.
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { createPool, inTransaction, migrate } from './postgres.js';
import { PG_TABLES } from './postgres-schema.js';
import { SqliteStore } from './sqlite.js';
import { StoreError } from './store-error.js';

/** Rows per INSERT, and bytes (file chunks) per INSERT, whichever comes first. */
const ROWS_PER_INSERT = 500;
const BYTES_PER_INSERT = 8 * 1024 * 1024;

/** Rows copied, per table, in copy order. */
export type ImportCounts = Record<string, number>;

/**
 * Copies the SQLite database at `sqlitePath` into the PostgreSQL database at `url` (whose schema
 * is created or brought up to date first). Refuses a PostgreSQL database that holds any row.
 * The SQLite file is first brought to the current schema; it is then read in one snapshot, so a
 * daemon writing to it meanwhile does not tear the copy (stop it anyway: later writes are not copied).
 */
export async function importSqliteIntoPostgres(sqlitePath: string, url: string): Promise<ImportCounts> {
  if (!existsSync(sqlitePath)) throw new StoreError('NOT_FOUND', `no SQLite database at ${sqlitePath}`);
  SqliteStore.open(sqlitePath).close();
  const source = new Database(sqlitePath, { readonly: true, fileMustExist: true });
  const pool = createPool({ url, poolSize: 1 });
  try {
    await migrate(pool);
    source.exec('BEGIN');
    return await inTransaction(pool, async (c) => {
      for (const { name } of PG_TABLES) {
        const { rows } = await c.query(`SELECT EXISTS (SELECT 1 FROM ${name}) AS used`);
        if ((rows[0] as { used: boolean }).used) {
          throw new StoreError(
            'ALREADY_EXISTS',
            `the PostgreSQL database already holds data (table ${name}): import only into an empty one`,
          );
        }
      }
      const counts: ImportCounts = {};
      for (const { name, key } of PG_TABLES) {
        const columns = (source.pragma(`table_info(${name})`) as { name: string }[]).map((col) => col.name);
        const select = source.prepare(`SELECT ${columns.map(quote).join(', ')} FROM ${name} ORDER BY ${key.map(quote).join(', ')}`).raw();
        const insert = (n: number) =>
          `INSERT INTO ${name} (${columns.map(quote).join(', ')}) VALUES ${Array.from(
            { length: n },
            (_, r) => `(${columns.map((_, k) => `$${r * columns.length + k + 1}`).join(', ')})`,
          ).join(', ')}`;
        let pending: unknown[][] = [];
        let bytes = 0;
        let copied = 0;
        const flush = async () => {
          if (pending.length === 0) return;
          await c.query(insert(pending.length), pending.flat());
          copied += pending.length;
          pending = [];
          bytes = 0;
        };
        for (const row of select.iterate() as Iterable<unknown[]>) {
          pending.push(row);
          for (const v of row) if (Buffer.isBuffer(v)) bytes += v.byteLength;
          if (pending.length >= ROWS_PER_INSERT || bytes >= BYTES_PER_INSERT) await flush();
        }
        await flush();
        counts[name] = copied;
      }
      // New ids continue after the highest SQLite ever gave out (retention may have deleted it).
      for (const table of ['messages', 'admin_requests']) {
        const seq = source.prepare('SELECT seq FROM sqlite_sequence WHERE name = ?').get(table) as { seq: number } | undefined;
        const last = seq?.seq ?? 0;
        await c.query('SELECT setval(pg_get_serial_sequence($1, $2), $3, $4)', [table, 'id', Math.max(last, 1), last > 0]);
      }
      return counts;
    });
  } finally {
    if (source.inTransaction) source.exec('COMMIT');
    source.close();
    await pool.end();
  }
}

/** Column names as PostgreSQL identifiers ("user" is a reserved word there). */
function quote(column: string): string {
  return `"${column.replace(/"/g, '""')}"`;
}
