// Who is online on the other nodes of a cluster, per node (a node that goes down takes its users
// with it). Kept by the presence batch, filled from what the other nodes tell (cluster-receiver.ts).
import type { PresenceState } from '@hush/protocol';

export interface Presence {
  state: Exclude<PresenceState, 'offline'>;
  status: string;
}

export class RemotePresence {
  private readonly byNode = new Map<string, Map<string, Presence>>();

  get(user: string): Presence | undefined {
    for (const users of this.byNode.values()) {
      const p = users.get(user);
      if (p) return p;
    }
    return undefined;
  }

  /** `presence` null: the user left that node. `replace`: the node's whole list (a snapshot). */
  set(node: string, entries: ReadonlyArray<readonly [string, Presence | null]>, replace = false): string[] {
    const before = replace ? [...(this.byNode.get(node)?.keys() ?? [])] : [];
    const users = replace ? new Map<string, Presence>() : (this.byNode.get(node) ?? new Map<string, Presence>());
    for (const [user, p] of entries) {
      if (p) users.set(user, p);
      else users.delete(user);
    }
    this.byNode.set(node, users);
    return [...new Set([...before, ...entries.map(([user]) => user)])];
  }

  /** Forgets a node; returns the users it had. */
  drop(node: string): string[] {
    const users = [...(this.byNode.get(node)?.keys() ?? [])];
    this.byNode.delete(node);
    return users;
  }
}
