// The real IRC servers `pnpm bench --peers` measures Hush against: Debian's inspircd (3.x) and
// ngircd (26), each over TLS with a certificate made at run time, on a free loopback port, with a
// configuration that lifts its flood limits, started in the foreground and stopped by PID.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';

export type IrcPeerKind = 'inspircd' | 'ngircd';
export const IRC_PEERS: readonly IrcPeerKind[] = ['inspircd', 'ngircd'];

const BINARIES: Record<IrcPeerKind, string> = { inspircd: '/usr/sbin/inspircd', ngircd: '/usr/sbin/ngircd' };
/** ngircd keeps its flood protection for everyone but IRC operators with user mode +F. */
export const IRC_OPER = { name: 'bench', password: 'bench-oper' };

/**
 * The peers that can run: installed, or installed now with apt-get when running as root. Prints how
 * to install them otherwise and leaves them out.
 */
export function ensurePeers(log: (line: string) => void): IrcPeerKind[] {
  const missing = IRC_PEERS.filter((kind) => !installedPeers().includes(kind));
  if (missing.length > 0 && process.getuid?.() === 0) {
    log(`installing ${missing.join(', ')} (apt-get)`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'ignore', env });
    execFileSync('apt-get', ['install', '-y', '-qq', ...missing], { stdio: 'ignore', env });
  }
  const present = installedPeers();
  const absent = IRC_PEERS.filter((kind) => !present.includes(kind));
  if (absent.length > 0) log(`not measured: ${absent.join(', ')}; install with: sudo apt-get install ${absent.join(' ')}`);
  return present;
}

export interface IrcPeer {
  kind: IrcPeerKind;
  pid: number;
  host: string;
  port: number;
  /** Stops the server by its PID and removes its directory. */
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (bound and released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Writes `key.pem` and `cert.pem` (self-signed, a day long, made with the openssl command) into `dir`. */
export function selfSignedCert(dir: string): { key: string; cert: string } {
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-keyout', key, '-out', cert],
    { stdio: 'ignore' },
  );
  return { key, cert };
}

/** The peers installed on this machine (nothing is installed here). */
export function installedPeers(): IrcPeerKind[] {
  return IRC_PEERS.filter((kind) => existsSync(BINARIES[kind]));
}

/** Starts one peer and waits until it completes a TLS handshake on its port. */
export async function startIrcPeer(kind: IrcPeerKind, timeoutMs = 20_000): Promise<IrcPeer> {
  const dir = mkdtempSync(join(tmpdir(), `hush-bench-${kind}-`));
  const host = '127.0.0.1';
  const port = await freePort();
  selfSignedCert(dir);
  writeFileSync(join(dir, 'motd'), 'bench\n');
  let child: ChildProcess;
  if (kind === 'inspircd') {
    writeFileSync(join(dir, 'inspircd.conf'), inspircdConfig(dir, host, port));
    child = foreground(dir, BINARIES.inspircd, ['--nofork', '--runasroot', `--config=${join(dir, 'inspircd.conf')}`]);
  } else {
    writeFileSync(join(dir, 'ngircd.conf'), ngircdConfig(dir, host, port, await freePort()));
    child = foreground(dir, BINARIES.ngircd, ['--nodaemon', '--config', join(dir, 'ngircd.conf')]);
  }
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      process.kill(child.pid, 'SIGTERM');
      const killer = setTimeout(() => child.pid !== undefined && child.exitCode === null && process.kill(child.pid, 'SIGKILL'), 5000);
      await exited;
      clearTimeout(killer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const end = Date.now() + timeoutMs;
  while (!(await tlsAnswers(host, port))) {
    if (child.exitCode !== null || Date.now() > end) {
      const log = existsSync(join(dir, 'ircd.log')) ? readFileSync(join(dir, 'ircd.log'), 'utf8').slice(-1000) : '';
      await stop();
      throw new Error(`${kind} did not start on ${host}:${port}: ${stderr.trim()} ${log.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { kind, pid: child.pid!, host, port, stop };
}

/** The server in the foreground, in its own directory, without core dumps (exec keeps the shell's PID). */
function foreground(dir: string, binary: string, args: string[]): ChildProcess {
  return spawn('sh', ['-c', 'ulimit -c 0; exec "$0" "$@"', binary, ...args], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function tlsAnswers(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tlsConnect({ host, port, rejectUnauthorized: false });
    socket.once('secureConnect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** inspircd 3: one TLS listener; the connect class lifts flood control, fake lag and queue limits. */
function inspircdConfig(dir: string, host: string, port: number): string {
  return `<server name="bench.local" description="bench" network="bench">
<admin name="bench" nick="bench" email="bench@bench.local">
<module name="ssl_gnutls">
<sslprofile name="bench" provider="gnutls" certfile="${dir}/cert.pem" keyfile="${dir}/key.pem" hash="sha256" requestclientcert="no">
<bind address="${host}" port="${port}" type="clients" sslprofile="bench">
<connect name="bench" allow="*" maxchans="20" timeout="120" pingfreq="3600" hardsendq="1073741824" softsendq="1073741824" recvq="1073741824" threshold="1000000" commandrate="100000000" fakelag="off" localmax="1000000" globalmax="1000000" maxconnwarn="no" limit="1000000" modes="" resolvehostnames="no" usednsbl="no">
<limits maxnick="30" maxchan="64">
<performance netbuffersize="65536" somaxconn="4096" softlimit="100000" clonesonconnect="no" quietbursts="yes">
<options fixedquit="" syntaxhints="no">
<security hidesplits="yes" announceinvites="none">
<pid file="${dir}/inspircd.pid">
<files motd="${dir}/motd">
<dns timeout="1">
<log method="file" type="* -USERINPUT -USEROUTPUT" level="default" target="${dir}/ircd.log">
`;
}

/** ngircd 26: TLS only on `port` (the plain port it insists on is unused); limits off; the bench operator may set +F. */
function ngircdConfig(dir: string, host: string, port: number, plainPort: number): string {
  return `[Global]
Name = bench.local
Info = bench
Listen = ${host}
Ports = ${plainPort}
MotdFile = ${dir}/motd
PidFile = ${dir}/ngircd.pid
ServerUID = 0
ServerGID = 0
[Limits]
MaxConnections = 0
MaxConnectionsIP = 0
MaxJoins = 0
MaxNickLength = 30
PingTimeout = 3600
PongTimeout = 3600
[Options]
DNS = no
Ident = no
PAM = no
OperCanUseMode = yes
[SSL]
CertFile = ${dir}/cert.pem
KeyFile = ${dir}/key.pem
Ports = ${port}
[Operator]
Name = ${IRC_OPER.name}
Password = ${IRC_OPER.password}
`;
}

/** A process's CPU time (ms, user + system, all threads), RSS and peak RSS (bytes), from /proc (Linux). */
export function procUsage(pid: number): { cpuMs: number; systemMs: number; rss: number; peak: number } {
  const fields = statFields(pid);
  const user = Number(fields[11]); // utime and stime: fields 14 and 15 of the line
  const system = Number(fields[12]);
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0) * 1024;
  return { cpuMs: ((user + system) * 1000) / CLOCK_TICKS, systemMs: (system * 1000) / CLOCK_TICKS, rss: kb('VmRSS'), peak: kb('VmHWM') };
}

/** /proc/<pid>/stat from its third field (state) on: the command name may hold spaces. */
function statFields(pid: number): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/**
 * CPU milliseconds of a process and its children, such as a PostgreSQL postmaster and its
 * backends: its own time, its reaped children's (cutime, cstime) and its live children's.
 */
export function treeCpuMs(pid: number): number {
  const ticks = (f: string[], from: number, to: number) => f.slice(from, to + 1).reduce((sum, v) => sum + Number(v), 0);
  let total = ticks(statFields(pid), 11, 14);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const f = statFields(Number(entry));
      if (Number(f[1]) === pid) total += ticks(f, 11, 12);
    } catch {
      // the process exited meanwhile (its time is now its parent's cutime)
    }
  }
  return (total * 1000) / CLOCK_TICKS;
}

const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
