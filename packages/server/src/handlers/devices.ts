// devices_get: a device lists its account's devices (when each was added and last logged in).
// remove_device: a device of an account removes another one of the same account (a lost laptop),
// as `hushd user remove-device` does, after the account's password is given again.
import { deviceId } from '@hush/crypto';
import { fromBase64Url, MAX_ACCOUNT_DEVICES, type ClientMessageOf } from '@hush/protocol';
import type { Accounts } from '../accounts.js';
import type { ClusterSender } from '../cluster-sender.js';
import { RequestError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { OnlineUsers } from '../online-users.js';
import type { RoomRegistry } from '../rooms.js';
import type { AsyncStore } from '../store/async-store.js';
import { checkOwnPassword } from './accounts.js';
import type { Fanout } from './fanout.js';
import { devicesRemoved } from './key-change.js';
import { requireUser } from './membership.js';
import type { Session } from './session.js';
import { sessionDevice } from './session-devices.js';

/** What the device requests work with. */
export interface DeviceHandlerDeps {
  accounts: Pick<Accounts, 'login'>;
  store: AsyncStore;
  logger: Pick<Logger, 'info'>;
  metrics: Pick<Metrics, 'inc'>;
  online: Pick<OnlineUsers<Session>, 'get'>;
  rooms: Pick<RoomRegistry<Session>, 'members'>;
  fanout: Pick<Fanout, 'broadcast'>;
  cluster: Pick<ClusterSender, 'devicesChanged' | 'keyChange'>;
  now(): number;
}

export class DeviceHandlers {
  constructor(private readonly deps: DeviceHandlerDeps) {}

  /** The session's own account only: when another's devices last logged in is not for others to know. */
  async list(session: Session, m: ClientMessageOf<'devices_get'>): Promise<void> {
    const user = requireUser(session);
    const devices = (await this.deps.store.listDevices(user.name))
      .sort((a, b) => b.lastSeen - a.lastSeen)
      .slice(0, MAX_ACCOUNT_DEVICES)
      .map((d) => ({ device: deviceId(fromBase64Url(d.signKey)), added: d.createdAt, lastLogin: d.lastSeen }));
    session.send({ type: 'devices', re: m.id, devices });
  }

  /**
   * The password is checked as a login's is (the same hashing gate, back-off and refusal), so that
   * one stolen device cannot remove the owner's others nor guess the password faster than a login.
   */
  async remove(session: Session, m: ClientMessageOf<'remove_device'>): Promise<void> {
    const { deps } = this;
    const user = requireUser(session);
    const own = sessionDevice(session);
    if (own !== undefined && deviceId(fromBase64Url(own)) === m.device) {
      throw new RequestError('FORBIDDEN', 'this is the device you are using: remove it from another device of yours, or ask the admin');
    }
    const target = (await deps.store.listDevices(user.name)).find((d) => deviceId(fromBase64Url(d.signKey)) === m.device);
    if (!target) throw new RequestError('NOT_FOUND', `your account has no device ${m.device}`);
    await checkOwnPassword(deps, session, user.name, m.password, 'remove_device');
    await deps.store.deleteDevice(user.name, target.signKey);
    deps.logger.info('device_removed', { user: user.name, device: m.device, by: 'owner', conn: session.id });
    session.send({ type: 'ok', re: m.id });
    await devicesRemoved(deps, user.name);
  }
}
