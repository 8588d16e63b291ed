import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DeviceIdentity } from '@hush/crypto';
import { fileSafe } from './paths.js';
import { writePrivateFile } from './secure-fs.js';
import { b64, unb64 } from './wire.js';

// One device identity per server and user: <server home>/devices/<user>.key (0600), JSON
// with the 32-byte seed and whether the server has bound it to the account (device login possible).

interface DeviceFile {
  version: 1;
  secret: string;
  bound: boolean;
}

export interface StoredDevice {
  device: DeviceIdentity;
  bound: boolean;
}

export class DeviceStore {
  constructor(private readonly dir: string) {}

  pathFor(user: string): string {
    return join(this.dir, `${fileSafe(user.toLowerCase())}.key`);
  }

  /** Sync on purpose: small file, and hasDeviceFor() is synchronous in the public API. */
  load(user: string): StoredDevice | undefined {
    const path = this.pathFor(user);
    if (!existsSync(path)) return undefined;
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<DeviceFile>;
    if (parsed.version !== 1 || typeof parsed.secret !== 'string') return undefined;
    return { device: DeviceIdentity.fromSecret(unb64(parsed.secret)), bound: parsed.bound === true };
  }

  async save(user: string, device: DeviceIdentity, bound: boolean): Promise<void> {
    const file: DeviceFile = { version: 1, secret: b64(device.secret), bound };
    await writePrivateFile(this.pathFor(user), `${JSON.stringify(file)}\n`);
  }
}
