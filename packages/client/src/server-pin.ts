import { shortFingerprint, type HandshakeResult } from '@hush/crypto';
import { HushError } from './errors.js';
import { decidePin, keyChangedError, KnownServersFile, serverKey } from './known-servers.js';
import type { ConnectOptions } from './types.js';

/**
 * Trust in one server, SSH style: the first key is pinned (after an expected fingerprint or a trust
 * decision), and every later connection must show the same key.
 */
export class ServerPin {
  private _fingerprint = '';
  private _shortFingerprint = '';
  private _sameKey: string[] = [];
  private readonly knownServers: KnownServersFile;

  constructor(
    configDir: string,
    private readonly options: Pick<ConnectOptions, 'host' | 'port' | 'expectedFingerprint' | 'trust'>,
  ) {
    this.knownServers = new KnownServersFile(configDir);
  }

  /** The server's fingerprint once a connection was verified ('' before). */
  get fingerprint(): string {
    return this._fingerprint;
  }

  get shortFingerprint(): string {
    return this._shortFingerprint;
  }

  /**
   * The addresses (`host:port`) that known_servers pinned to this server's key before the first
   * verified connection, this client's own address first: the same server under other names.
   */
  get sameKey(): readonly string[] {
    return this._sameKey;
  }

  /** Throws HushError('SERVER_KEY_CHANGED' | 'UNTRUSTED_SERVER') to refuse; true when pinned just now. */
  async check(session: HandshakeResult): Promise<boolean> {
    const { host, port } = this.options;
    const server = serverKey(host, port);
    const entries = await this.knownServers.entries();
    const decision = decidePin(entries, server, session.fingerprint);
    if (decision.status === 'changed') throw keyChangedError(this.knownServers.path, server, decision.known, session.fingerprint);
    if (this._fingerprint !== '' && this._fingerprint !== session.fingerprint) {
      throw new HushError(
        'SERVER_KEY_CHANGED',
        `the server key changed during this session: was ${this._fingerprint}, now ${session.fingerprint}`,
      );
    }
    const short = shortFingerprint(session.serverIdentity);
    const expected = this.options.expectedFingerprint;
    if (expected !== undefined && !fingerprintMatches(expected, session.fingerprint, short)) {
      // A malformed expectation (an empty or mangled variable) is said as such: it is no other server's key.
      const notOne = looksLikeFingerprint(expected)
        ? ''
        : ', which is not a fingerprint (give it as `hushd fingerprint` prints it, SHA512:..., or as its 30 digits)';
      throw new HushError(
        'UNTRUSTED_SERVER',
        `server fingerprint ${session.fingerprint} does not match the expected ${JSON.stringify(expected)}${notOne}`,
      );
    }
    let pinned = false;
    const knownAs = entries.filter((e) => e.fingerprint === session.fingerprint && e.server !== server).map((e) => e.server);
    if (this._fingerprint === '') this._sameKey = decision.status === 'match' ? [server, ...knownAs] : knownAs;
    if (decision.status === 'new') {
      if (expected === undefined) {
        const trusted = this.options.trust
          ? await this.options.trust({ host, port, fingerprint: session.fingerprint, shortFingerprint: short, knownAs })
          : false;
        if (!trusted) {
          throw new HushError(
            'UNTRUSTED_SERVER',
            `first contact with ${server}: fingerprint ${session.fingerprint} (${short}) was not confirmed`,
          );
        }
      }
      await this.knownServers.add(server, session.fingerprint);
      pinned = true;
    }
    this._fingerprint = session.fingerprint;
    this._shortFingerprint = short;
    return pinned;
  }
}

/** Whether `text` has the shape of a fingerprint as fingerprintMatches takes it (whatever server it names). */
function looksLikeFingerprint(text: string): boolean {
  const e = text.trim();
  return /^(SHA512:)?[A-Za-z0-9+/]{43}$/.test(e) || /^\d{30}$/.test(e.replace(/\s+/g, ''));
}

/** An expected fingerprint may be given in full (`SHA512:...`), without the prefix, or as the short digits. */
export function fingerprintMatches(expected: string, full: string, short: string): boolean {
  const e = expected.trim();
  if (e === full || `SHA512:${e}` === full) return true;
  const digits = e.replace(/\s+/g, '');
  return /^\d{30}$/.test(digits) && digits === short.replace(/\s+/g, '');
}
