// A throwaway PostgreSQL server for tests and the bench: initdb into a temp dir, started on a free
// port (TCP on 127.0.0.1 and a Unix socket in the same dir), stopped and removed after. As root (CI)
// it runs as the `postgres` user, since initdb refuses root. A machine without PostgreSQL fails the
// test with what to install: nothing is skipped.
import { execFile } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { closedPort } from './ports.js';

const run = promisify(execFile);

/** openssl req arguments for a new unencrypted P-256 key. */
const NEW_EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

export interface TestPostgres {
  /** URL of the `postgres` database (the superuser is `hush`, trust auth). */
  url: string;
  /** With `tls`: the CA file that signed the server's certificate (issued to IP 127.0.0.1 only). */
  caFile?: string;
  port: number;
  /** The postmaster's PID while it runs (its backends are its children), else undefined. */
  readonly pid: number | undefined;
  /** A new empty database on this server; returns its URL. */
  createDatabase(): Promise<string>;
  /** pg_ctl restart (fast mode: open connections are cut, as in a real restart). */
  restart(): Promise<void>;
  /** pg_ctl stop, fast mode (connections cut), keeping the data: the database is gone until `start`. */
  halt(): Promise<void>;
  /** Starts a halted server again on the same port. */
  start(): Promise<void>;
  /** Stops the server and removes its directory. Idempotent. */
  stop(): Promise<void>;
}

/** The directory holding initdb and pg_ctl: `pg_config --bindir`, else the newest /usr/lib/postgresql/N/bin. */
async function serverBinaries(): Promise<string> {
  const candidates: string[] = [];
  try {
    candidates.push((await run('pg_config', ['--bindir'])).stdout.trim());
  } catch {
    // pg_config comes with the client dev package; the server may be there without it
  }
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((v) => join(root, v, 'bin')));
  }
  const found = candidates.find((dir) => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl')));
  if (!found) {
    throw new Error(
      'PostgreSQL server binaries (initdb, pg_ctl) not found via pg_config --bindir or /usr/lib/postgresql/*/bin: ' +
        'install them (Debian: apt-get install -y postgresql) to run the PostgreSQL store tests',
    );
  }
  return found;
}

/**
 * A new CA in `dir` (ca.pem, ca.key); with `server`, also server.crt/server.key it signed for IP
 * 127.0.0.1 or, given `dnsName`, for that name, owned by `owner` when given (PostgreSQL wants its key
 * 0600 and its own).
 */
export async function makeCa(dir: string, server?: { owner?: { uid: number; gid: number }; dnsName?: string }): Promise<string> {
  const ca = join(dir, 'ca.pem');
  const caKey = join(dir, 'ca.key');
  await run('openssl', ['req', '-x509', ...NEW_EC_KEY, '-days', '2', '-subj', '/CN=hush test CA', '-keyout', caKey, '-out', ca]);
  if (server) {
    const key = join(dir, 'server.key');
    const csr = join(dir, 'server.csr');
    const crt = join(dir, 'server.crt');
    const ext = join(dir, 'server.ext');
    await run('openssl', ['req', ...NEW_EC_KEY, '-subj', `/CN=${server.dnsName ?? '127.0.0.1'}`, '-keyout', key, '-out', csr]);
    const altName = server.dnsName ? `DNS:${server.dnsName}` : 'IP:127.0.0.1';
    writeFileSync(ext, `subjectAltName=${altName}\n`);
    await run('openssl', [
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      ca,
      '-CAkey',
      caKey,
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      ext,
      '-out',
      crt,
    ]);
    chmodSync(key, 0o600);
    if (server.owner) for (const f of [key, crt]) chownSync(f, server.owner.uid, server.owner.gid);
  }
  return ca;
}

export async function startPostgres(opts: { tls?: boolean } = {}): Promise<TestPostgres> {
  const bin = await serverBinaries();
  const asRoot = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), 'hush-pg-'));
  const data = join(dir, 'data');
  // initdb refuses to run as root: the server runs as `postgres`, in a directory it owns.
  const owner = asRoot
    ? { uid: Number((await run('id', ['-u', 'postgres'])).stdout), gid: Number((await run('id', ['-g', 'postgres'])).stdout) }
    : undefined;
  if (owner) chownSync(dir, owner.uid, owner.gid);
  const tool = (name: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', join(bin, name), ...args]) : run(join(bin, name), args);
  const port = await closedPort();
  let running = false;
  let caFile: string | undefined;
  let options = '';
  const stop = async () => {
    if (running) {
      running = false;
      await tool('pg_ctl', ['stop', '-D', data, '-m', 'fast', '-w']);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await tool('initdb', ['-D', data, '-A', 'trust', '-U', 'hush', '-E', 'UTF8', '--no-sync', '--no-instructions']);
    options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100`;
    if (opts.tls) {
      caFile = await makeCa(dir, owner ? { owner } : {});
      options += ` -c ssl=on -c ssl_cert_file=${join(dir, 'server.crt')} -c ssl_key_file=${join(dir, 'server.key')}`;
    }
    await tool('pg_ctl', ['start', '-D', data, '-w', '-l', join(dir, 'log'), '-o', options]);
    running = true;
  } catch (err) {
    await stop().catch(() => undefined);
    throw new Error(`could not start a test PostgreSQL (as ${asRoot ? 'postgres via runuser' : userInfo().username}): ${String(err)}`, {
      cause: err,
    });
  }
  const url = (db: string) => `postgres://hush@127.0.0.1:${port}/${db}`;
  let databases = 0;
  return {
    url: url('postgres'),
    port,
    ...(caFile === undefined ? {} : { caFile }),
    get pid() {
      if (!running) return undefined;
      // postmaster.pid: its first line is the PID
      const pid = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
      return Number.isInteger(pid) && pid > 0 ? pid : undefined;
    },
    async createDatabase() {
      const name = `test_${++databases}`;
      await run(join(bin, 'createdb'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'hush', name]);
      return url(name);
    },
    async restart() {
      await tool('pg_ctl', ['restart', '-D', data, '-m', 'fast', '-w', '-l', join(dir, 'log')]);
    },
    async halt() {
      await tool('pg_ctl', ['stop', '-D', data, '-m', 'fast', '-w']);
      running = false;
    },
    async start() {
      await tool('pg_ctl', ['start', '-D', data, '-w', '-l', join(dir, 'log'), '-o', options]);
      running = true;
    },
    stop,
  };
}
