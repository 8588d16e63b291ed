// The addresses of one server: its name and port first, then the other nodes of its cluster. Each
// name counts once per address it resolves to (DNS A/AAAA records), so a name behind several nodes
// is several addresses. Dialled round robin; names are resolved again each time round.
import { lookup as dnsLookup } from 'node:dns/promises';
import { HushError } from './errors.js';

export interface ServerAddress {
  host: string;
  port: number;
}

export type Lookup = (host: string) => Promise<readonly string[]>;

const systemLookup: Lookup = async (host) => (await dnsLookup(host, { all: true })).map((a) => a.address);

/** Every address, in the order given (a name's addresses in the resolver's order), each once. */
export async function resolveAddresses(list: readonly ServerAddress[], lookup: Lookup = systemLookup): Promise<ServerAddress[]> {
  const out: ServerAddress[] = [];
  const seen = new Set<string>();
  for (const { host, port } of list) {
    let hosts: readonly string[];
    try {
      hosts = await lookup(host);
    } catch {
      hosts = [host]; // the dial reports why the name does not work
    }
    for (const h of hosts.length > 0 ? hosts : [host]) {
      const key = `${h}|${port}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ host: h, port });
    }
  }
  return out;
}

/** Round robin over a server's addresses: `next()` is the one to dial now. */
export class AddressRing {
  private resolved: ServerAddress[] = [];
  private index = 0;

  constructor(
    private readonly list: readonly ServerAddress[],
    private readonly lookup: Lookup = systemLookup,
  ) {
    // Checked here, not at the dial: Node's own error would come as a RangeError, or `host: ''` would dial localhost.
    for (const { host, port } of list) {
      if (typeof host !== 'string' || host.trim() === '')
        throw new HushError('BAD_REQUEST', `no server address: the host is empty (${JSON.stringify(host)})`);
      if (!Number.isInteger(port) || port < 1 || port > 65535) {
        throw new HushError('BAD_REQUEST', `${host}: port ${String(port)} is not a port number (a whole number from 1 to 65535)`);
      }
    }
  }

  /** How many addresses one round has (known after the first `next()`; at least 1). */
  get size(): number {
    return Math.max(1, this.resolved.length);
  }

  async next(): Promise<ServerAddress> {
    if (this.index >= this.resolved.length) {
      this.resolved = await resolveAddresses(this.list, this.lookup);
      this.index = 0;
    }
    return this.resolved[this.index++]!;
  }
}
