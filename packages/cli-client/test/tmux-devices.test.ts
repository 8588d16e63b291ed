// A lost laptop, driven as people do it: alice has hush on her desk and on her laptop; /devices on
// each lists both by the ids the server's admin uses, marking this device; the admin runs the real
// `hushd user remove-device` beside the running server; the laptop's hush says it was removed and
// stays closed, and /devices (hers, and bob's of her) lists the desk alone.
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { TuiBed } from './helpers/tui-bed.js';

const bed = TuiBed.install();
const HUSHD = join(dirname(createRequire(import.meta.url).resolve('@hush/server/package.json')), 'dist', 'cli.js');
const hushd = async (...args: string[]) =>
  (await promisify(execFile)(process.execPath, [HUSHD, ...args, '--data-dir', bed.dataDir])).stdout;
/** `id` marked as this device, though the notice may wrap between them (the pane's border and gutter). */
const thisDevice = (id: string) => new RegExp(`${id}[\\sx┆]*\\(this device,`);
/** Words of a notice, though it may wrap between any two of them. */
const wrapped = (...words: string[]) => new RegExp(words.join('[\\sx┆]*'));

describe('hush in tmux: removing a lost device', () => {
  it('/devices names each device; hushd user remove-device closes the laptop for good', async () => {
    const { alice: desk, bob } = await bed.aliceAndBob();
    const laptop = await bed.newDevice('alice');
    // The admin lists alice's devices, oldest first: her desk, then her laptop.
    const [deskId, laptopId] = (await hushd('user', 'devices', 'alice'))
      .trim()
      .split('\n')
      .slice(1)
      .map((row) => row.split('\t')[0]!);

    await laptop.typeLine('/devices');
    await laptop.waitFor(thisDevice(laptopId!));
    await desk.typeLine('/devices');
    const deskScreen = await desk.waitFor(thisDevice(deskId!));
    expect(deskScreen).toContain('your devices (2)');
    expect(deskScreen).toContain(laptopId);
    expect(deskScreen).toContain('remove-device alice <id>');
    // When each was added and last logged in: today, both.
    expect(deskScreen).toMatch(wrapped('this', 'device,', 'added', 'today'));
    expect(deskScreen).toMatch(wrapped(laptopId!, '\\(added', 'today', '\\d\\d:\\d\\d,', 'last', 'login', 'today'));

    expect(await hushd('user', 'remove-device', 'alice', laptopId!)).toBe('removed a device of alice\n');

    await laptop.waitFor((s) => s.includes('closed for good: this device was removed from the') && s.includes('[DEVICE_UNKNOWN]'));
    await desk.typeLine('/devices');
    await desk.waitFor((s) => s.includes('your devices (1)'));
    await bob.typeLine('/devices alice');
    const seen = await bob.waitFor('devices of alice (1)');
    expect(seen).toContain(deskId);
    expect(seen).not.toMatch(wrapped('last', 'login')); // another's devices: ids only
    expect(seen).not.toContain(laptopId);
  }, 90_000);
});
