// What a node tells the other nodes of a cluster. Messages travel the bus's commit stream
// (handlers/message-batch.ts); everything else that lives in memory goes as signals: presence,
// typing, room events (joins, parts, topics, kicks, bans, mutes, roles, which also change the
// cached memberships of the users online there), account and address bans (their sessions there
// are closed), server role changes (read again for the sessions there), device removals (their
// sessions there are closed), key changes, file events (offered, cancelled, handled), login
// outcomes (each node's login back-off counts every node's failures), how many messages each user
// sent here (each node debits them from that user's budget, so it holds across nodes), and
// notices for one user's sessions (read markers relayed to their other sessions and their direct
// peer, prekeys_low to the device that runs short). cluster-receiver.ts applies them on the other
// side. One node alone (LocalBus) has nobody to tell: every signal is dropped by the bus.
import type { PresenceState, ServerMessageOf } from '@hush/protocol';
import type { LoginHit } from './accounts.js';
import type { BusSignal, JsonValue } from './bus/index.js';
import type { FileEvent } from './files.js';
import type { OnlineUsers } from './online-users.js';

/** What a node relays to one user's sessions on the others. */
export type UserNotice = ServerMessageOf<'read_notice'> | ServerMessageOf<'prekeys_low'> | ServerMessageOf<'notice'>;
export type TypingTarget = { room: string } | { user: string };

export class ClusterSender {
  /** The nodes heard from (and not gone since): with none, message counts are not even kept. */
  private readonly peers = new Set<string>();
  /** Messages per user sent here this turn, told to the others at its end. */
  private sent: Map<string, number> | null = null;

  constructor(
    private readonly online: Pick<OnlineUsers, 'all'>,
    /** The bus's signal sink (the bus connects when the server listens; before that nothing is sent). */
    private readonly send: (signal: BusSignal) => void,
  ) {}

  /** A signal came from `node`: it is up. */
  heardFrom(node: string): void {
    this.peers.add(node);
  }

  /** `node` went down. */
  lost(node: string): void {
    this.peers.delete(node);
  }

  presence(user: string, state: PresenceState, status: string): void {
    this.send({ topic: 'presence', body: { users: [[user, state, status]] } });
  }

  typing(from: string, target: TypingTarget, active: boolean): void {
    this.send({ topic: 'typing', body: { from, target, active } });
  }

  roomEvent(event: ServerMessageOf<'room_event'>): void {
    this.send({ topic: 'moderation', body: event as unknown as JsonValue });
  }

  banned(ban: { user?: string; address?: string; reason: string }): void {
    this.send({ topic: 'moderation', body: { ban } });
  }

  /** An account's server role changed in the store: each node reads it again for its sessions. */
  roleChanged(user: string): void {
    this.send({ topic: 'moderation', body: { roleOf: user } });
  }

  /** Devices were removed from an account: each node closes their sessions there. */
  devicesChanged(user: string): void {
    this.send({ topic: 'moderation', body: { devicesOf: user } });
  }

  keyChange(change: ServerMessageOf<'key_change'>): void {
    this.send({ topic: 'keys', body: change as unknown as JsonValue });
  }

  loginHit(hit: LoginHit): void {
    this.send({ topic: 'hits', body: { ...hit } });
  }

  /** `user` sent a message here: counted, and told with the turn's other counts. */
  messageSent(user: string): void {
    if (this.peers.size === 0) return;
    if (this.sent === null) {
      this.sent = new Map();
      setImmediate(() => this.tellSent());
    }
    this.sent.set(user, (this.sent.get(user) ?? 0) + 1);
  }

  private tellSent(): void {
    const sent = this.sent;
    this.sent = null;
    if (sent) this.send({ topic: 'hits', body: { messages: [...sent] } });
  }

  fileEvent(event: FileEvent): void {
    this.send({ topic: 'files', body: event as unknown as JsonValue });
  }

  /** `message` for `user`'s sessions on the other nodes; with `device`, for that device's only. */
  notice(user: string, message: UserNotice, device?: string): void {
    this.send({ topic: 'notices', body: { user, message, ...(device !== undefined ? { device } : {}) } as unknown as JsonValue });
  }

  /**
   * Who is online here, in full: for a node that came up, and for all the others when this node
   * has its bus back (while it was cut off they may have counted it gone and its users offline).
   * `ask`: the others answer with theirs (a node heard again may have sent its own while its route
   * through NATS was not back yet).
   */
  announcePresence(ask = true): void {
    const users = [...this.online.all()].map((u) => [u.name, u.state, u.status]);
    this.send({ topic: 'presence', body: { snapshot: true, ...(ask ? { ask } : {}), users } });
  }
}
