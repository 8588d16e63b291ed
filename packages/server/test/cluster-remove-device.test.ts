// remove_device across nodes: the removed device is connected to another node than the device that
// removes it; that node closes it, and the contacts on either node hear the new key set.
import { deviceId } from '@hush/crypto';
import { toBase64Url } from '@hush/protocol';
import { describe, expect, it } from 'vitest';
import { RawClient, registered, TEST_PASSWORD } from '../src/raw-client.js';
import { clusterFixture } from './helpers/cluster.js';

const fx = clusterFixture(2, { openRooms: ['lobby'] });

describe('remove_device on a cluster', () => {
  it('closes the device on the other node, refuses its login there, and tells contacts on both nodes', async () => {
    const [first, second] = fx.cluster.nodes;
    const desk = await registered(first!.port, 'crd-owner');
    const laptop = await RawClient.connect(second!.port);
    fx.track(desk, laptop);
    await laptop.login('crd-owner');
    const near = await registered(first!.port, 'crd-near');
    const far = await registered(second!.port, 'crd-far');
    fx.track(near, far);

    await desk.expect({ type: 'remove_device', device: deviceId(laptop.device.signPublicKey), password: TEST_PASSWORD }, 'ok');
    expect(await laptop.next('goodbye')).toMatchObject({ code: 'DEVICE_UNKNOWN', message: 'this device was removed from the account' });
    for (const c of [near, far, desk]) {
      const change = await c.next((m) => m.type === 'key_change' && m.user === 'crd-owner' && m.devices.length === 1);
      expect(change).toMatchObject({ devices: [{ signKey: toBase64Url(desk.device.signPublicKey) }] });
    }
    const again = await RawClient.connect(second!.port);
    fx.track(again);
    again.device = laptop.device;
    expect(await again.request(again.deviceLoginRequest('crd-owner'))).toMatchObject({ type: 'error', code: 'DEVICE_UNKNOWN' });
  });
});
