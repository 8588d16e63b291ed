import { checkPin } from '@hush/crypto';
import { join } from 'node:path';
import { HushError } from './errors.js';
import { readOptional, writePrivateFile } from './secure-fs.js';

// The `known_servers` file, like SSH's known_hosts: one `host:port fingerprint` per line, `#` comments.
// The parsing and the pin decision are pure; KnownServersFile is the thin file adapter.

export interface KnownServerEntry {
  /** `host:port` (IPv6 hosts in brackets). */
  server: string;
  fingerprint: string;
  /** 1-based line number in the file. */
  line: number;
}

export function serverKey(host: string, port: number): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
}

export function parseKnownServers(text: string): KnownServerEntry[] {
  const out: KnownServerEntry[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const [server, fingerprint, ...rest] = line.split(/\s+/);
    if (!server || !fingerprint || rest.length > 0) return; // malformed lines are kept in the file but ignored
    out.push({ server, fingerprint, line: index + 1 });
  });
  return out;
}

export function findPin(entries: readonly KnownServerEntry[], server: string): KnownServerEntry | undefined {
  return entries.find((e) => e.server === server);
}

export function appendPin(text: string, server: string, fingerprint: string): string {
  const base = text === '' || text.endsWith('\n') ? text : `${text}\n`;
  return `${base}${server} ${fingerprint}\n`;
}

export type PinDecision = { status: 'match' } | { status: 'new' } | { status: 'changed'; known: KnownServerEntry };

export function decidePin(entries: readonly KnownServerEntry[], server: string, presented: string): PinDecision {
  const known = findPin(entries, server);
  const status = checkPin(known?.fingerprint, presented);
  if (status === 'changed' && known) return { status, known };
  return { status: status === 'match' ? 'match' : 'new' };
}

/** SSH-style loud failure: both fingerprints and the exact line to remove if the change is expected. */
export function keyChangedError(file: string, server: string, known: KnownServerEntry, presented: string): HushError {
  return new HushError(
    'SERVER_KEY_CHANGED',
    [
      `WARNING: THE IDENTITY KEY OF SERVER ${server} HAS CHANGED!`,
      'Someone could be intercepting your connection (man in the middle), or the server was reinstalled.',
      `Pinned fingerprint:    ${known.fingerprint}`,
      `Presented fingerprint: ${presented}`,
      `If you know the change is legitimate, remove line ${known.line} from ${file} and connect again.`,
    ].join('\n'),
  );
}

export class KnownServersFile {
  readonly path: string;

  constructor(configDir: string) {
    this.path = join(configDir, 'known_servers');
  }

  async entries(): Promise<KnownServerEntry[]> {
    return parseKnownServers((await readOptional(this.path)) ?? '');
  }

  async add(server: string, fingerprint: string): Promise<void> {
    const text = (await readOptional(this.path)) ?? '';
    await writePrivateFile(this.path, appendPin(text, server, fingerprint));
  }
}
