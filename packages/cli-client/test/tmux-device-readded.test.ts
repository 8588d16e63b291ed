// alice removed her laptop from her account (she thought it lost), then found it: hush there logs in
// again with her password, and says in front of her that what was sent while it was removed stays
// closed to it (those messages were sealed for her other devices only).
import { describe, expect, it } from 'vitest';
import { PASSWORD, quit, TuiBed } from './helpers/tui-bed.js';

const bed = TuiBed.install();

describe('hush in tmux: a removed device back on the account', () => {
  it('says what stays closed to it, once, in front', async () => {
    const desk = await bed.sdkUser('alice');
    const home = bed.keptHome();
    let laptop = await bed.launch('alice', home, false);
    const laptopId = (await desk.listDevices()).find((d) => !d.thisDevice)!.id;
    await desk.removeDevice(laptopId, PASSWORD);
    await laptop.waitFor((s) => s.includes('closed for good: this device was removed from the') && s.includes('[DEVICE_UNKNOWN]'));
    await quit(laptop);

    laptop = await bed.launch('alice', home, false);
    const screen = await laptop.waitFor('[DEVICE_READDED]');
    expect(screen.replace(/[\s│x┆]+/g, ' ')).toContain(
      'this device had been removed from your account and is on it again: what was sent to you while it was removed stays closed to it',
    );
    expect(screen.split('[DEVICE_READDED]')).toHaveLength(2);
  }, 90_000);
});
