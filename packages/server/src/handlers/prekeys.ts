// prekeys_upload / prekey_bundle_get: the server keeps each device's public prekeys and hands them
// out (each one-time prekey once). It cannot use them: the secret halves never leave the device.
import { verifySignedPrekey } from '@hush/crypto';
import type { ClientMessageOf } from '@hush/protocol';
import { RequestError } from '../errors.js';
import { requireUser } from './membership.js';
import { wireBundle } from './replies.js';
import { sessionDevice } from './session-devices.js';
import type { ClusterSender } from '../cluster-sender.js';
import type { OnlineUsers } from '../online-users.js';
import type { AsyncStore } from '../store/async-store.js';
import type { Session } from './session.js';

/** Below this many one-time prekeys after a bundle request (none left included), the device is told to upload more. */
export const PREKEYS_LOW = 25;

/** What the prekey requests work with. */
export interface PrekeyHandlerDeps {
  store: AsyncStore;
  online: Pick<OnlineUsers<Session>, 'get'>;
  cluster: Pick<ClusterSender, 'notice'>;
}

export class PrekeyHandlers {
  constructor(private readonly deps: PrekeyHandlerDeps) {}

  async upload(session: Session, m: ClientMessageOf<'prekeys_upload'>): Promise<void> {
    const { deps } = this;
    const user = requireUser(session);
    const signKey = sessionDevice(session);
    if (signKey === undefined) throw new RequestError('AUTH_REQUIRED', 'log in with a device first');
    const prekey = m.signedPrekey;
    try {
      verifySignedPrekey(bytesOf(signKey), {
        id: prekey.id,
        createdAt: prekey.createdAt,
        publicKey: bytesOf(prekey.publicKey),
        signature: bytesOf(prekey.signature),
      });
    } catch {
      throw new RequestError('BAD_REQUEST', 'the signed prekey is not signed by this device');
    }
    await deps.store.setSignedPrekey(user.name, signKey, prekey);
    const remaining = await deps.store.addOneTimePrekeys(user.name, signKey, m.oneTimePrekeys);
    session.send({ type: 'prekeys', re: m.id, remaining });
  }

  async bundleGet(session: Session, m: ClientMessageOf<'prekey_bundle_get'>): Promise<void> {
    const { deps } = this;
    requireUser(session);
    if (!(await deps.store.getUser(m.user))) throw new RequestError('NOT_FOUND', `no user ${m.user}`);
    const bundles = [];
    const left = new Map<string, number>();
    for (const device of (await deps.store.listDevices(m.user)).slice(-32)) {
      const signedPrekey = await deps.store.getSignedPrekey(m.user, device.signKey);
      if (!signedPrekey) continue;
      const oneTimePrekey = await deps.store.takeOneTimePrekey(m.user, device.signKey);
      const remaining = await deps.store.countOneTimePrekeys(m.user, device.signKey);
      if (remaining < PREKEYS_LOW) left.set(device.signKey, remaining);
      bundles.push({ device: wireBundle(device), signedPrekey, ...(oneTimePrekey ? { oneTimePrekey } : {}) });
    }
    session.send({ type: 'prekey_bundles', re: m.id, user: m.user, bundles });
    const owner = deps.online.get(m.user);
    for (const [device, remaining] of left) {
      const low = { type: 'prekeys_low', remaining } as const;
      for (const target of owner?.sessions ?? []) if (sessionDevice(target) === device) target.send(low);
      deps.cluster.notice(m.user, low, device);
    }
  }
}

function bytesOf(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'base64url'));
}
