// The raw protocol client of the app tests: @hush/server/testing's RawClient (real handshake,
// any JSON sent as is), seen the way these tests read replies: every message stays in `received`,
// waits take nothing, and a request is answered by its reply or by a refusal without `re`.
import type { DeviceIdentity, HandshakeResult } from '@hush/crypto';
import { bundleToWire, type DeviceBundleWire, type ServerMessage } from '@hush/protocol';
import { RawClient as ProtocolClient } from '@hush/server/testing';

export { toBase64Url as b64, fromBase64Url as unb64 } from '@hush/protocol';

export function bundleWire(device: DeviceIdentity): DeviceBundleWire {
  return bundleToWire(device.bundle());
}

export interface RawConnectOptions {
  host: string;
  port: number;
  /** Source address (Linux routes all of 127/8 to loopback: distinct "clients" for per-address limits). */
  localAddress?: string;
  timeoutMs?: number;
}

export class RawClient {
  private constructor(private readonly client: ProtocolClient) {}

  static async connect(opts: RawConnectOptions): Promise<RawClient> {
    const client = await ProtocolClient.connect(opts.port, {
      host: opts.host,
      answerPings: true,
      ...(opts.localAddress !== undefined ? { localAddress: opts.localAddress } : {}),
      ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
    });
    return new RawClient(client);
  }

  /** Every message received, in order. */
  get received(): readonly ServerMessage[] {
    return this.client.received;
  }

  get closed(): boolean {
    return this.client.isClosed;
  }

  get device(): DeviceIdentity {
    return this.client.device;
  }

  set device(device: DeviceIdentity) {
    this.client.device = device;
  }

  get user(): string | null {
    return this.client.user;
  }

  get session(): HandshakeResult {
    return this.client.session!;
  }

  get sessionId(): Uint8Array {
    return this.client.sessionId;
  }

  /** Sends one JSON object as is (no schema check here: the server is the one being tested). */
  sendRaw(message: Record<string, unknown>): void {
    this.client.sendRaw(message);
  }

  nextId(): string {
    return this.client.nextId();
  }

  /**
   * Sends a request (an id is added unless given) and resolves with its reply: the message whose
   * `re` is the id, or an `error` without `re` (what a message that failed to decode gets).
   */
  request(message: Record<string, unknown>, timeoutMs = 5000): Promise<ServerMessage> {
    const id = typeof message.id === 'string' ? message.id : this.nextId();
    const reply = this.next(
      (m) => ('re' in m && m.re === id) || (m.type === 'error' && m.re === undefined) || m.type === 'goodbye',
      timeoutMs,
    );
    this.sendRaw({ ...message, id });
    return reply;
  }

  /** Resolves with the next received message passing `match` (also one already received since `from`). */
  next(match: (m: ServerMessage) => boolean, timeoutMs = 5000, from?: number): Promise<ServerMessage> {
    return this.client.waitFor(match, timeoutMs, from);
  }

  /** The reply, whatever it is (a test of refusals reads it). */
  async register(username: string, password: string): Promise<ServerMessage> {
    const reply = await this.request({ type: 'register', username, password, device: bundleWire(this.device) });
    if (reply.type === 'welcome') this.client.user = reply.user;
    return reply;
  }

  async login(username: string, password: string, device: DeviceIdentity = this.device): Promise<ServerMessage> {
    const reply = await this.request({ type: 'login', username, password, device: bundleWire(device) });
    if (reply.type === 'welcome') this.client.user = reply.user;
    return reply;
  }

  /** Ends the connection and waits for the socket to close. */
  close(): Promise<void> {
    return this.client.close();
  }

  /** Resolves when the server closes the connection. */
  whenClosed(): Promise<void> {
    return this.client.closed;
  }
}
