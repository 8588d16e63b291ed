// A direct message holds one entry per device; the server checks the envelope's public framing on
// `dm_send` and hands each device only its own entry: live, on catch-up after being offline, and in
// history.
import { describe, expect, it } from 'vitest';
import type { ServerMessage } from '@hush/protocol';
import { directEnvelope, RawClient } from '../src/raw-client.js';
import { rawServer } from './helpers/raw-server.js';

const fixture = rawServer();
const { user, newDevice } = fixture;

const body = (fill: number, n = 12) => new Uint8Array(n).fill(fill);
type Dm = Extract<ServerMessage, { type: 'dm' }>;

describe('direct messages per device', () => {
  it('gives each device only its own entry, live, after being offline, and in history', async () => {
    const kit = await user('pd-kit');
    const kitLaptop = await newDevice('pd-kit');
    const lou = await user('pd-lou');
    const louLaptop = await newDevice('pd-lou');
    const to = (fill: number) =>
      directEnvelope(kit.device, [
        [lou.device, body(fill)],
        [louLaptop.device, body(fill + 1)],
        [kitLaptop.device, body(fill + 2)],
      ]);
    const ack = await kit.expect({ type: 'dm_send', to: 'pd-lou', envelope: to(10) }, 'ack');
    const own = (c: RawClient, fill: number) => directEnvelope(kit.device, [[c.device, body(fill)]]);
    expect(await lou.next('dm')).toMatchObject({ msgId: ack.msgId, envelope: own(lou, 10) });
    expect(await louLaptop.next('dm')).toMatchObject({ msgId: ack.msgId, envelope: own(louLaptop, 11) });
    expect(await kitLaptop.next('dm')).toMatchObject({ msgId: ack.msgId, envelope: own(kitLaptop, 12) });

    // The laptop goes away; what it missed comes on its return, still only its own entry.
    const laptopDevice = louLaptop.device;
    await louLaptop.close();
    const missed = await kit.expect({ type: 'dm_send', to: 'pd-lou', envelope: to(20) }, 'ack');
    await lou.next((m) => m.type === 'dm' && m.msgId === missed.msgId);
    const back = fixture.track(await RawClient.connect(fixture.server.port));
    back.device = laptopDevice;
    // `since`: the laptop's close may race the live delivery; the device says what it really got.
    await back.expect(back.deviceLoginRequest('pd-lou', ack.msgId), 'welcome');
    expect(await back.next((m) => m.type === 'dm' && m.msgId === missed.msgId)).toMatchObject({ envelope: own(back, 21) });

    const page = await back.expect({ type: 'history', target: { user: 'pd-kit' }, limit: 10 }, 'history_page');
    expect(page.messages.map((m) => (m as Dm).envelope)).toEqual([own(back, 11), own(back, 21)]);
    // The sender's other device gets only its entries; the sending device its envelopes as it wrote them.
    const copy = await kitLaptop.expect({ type: 'history', target: { user: 'pd-lou' }, limit: 10 }, 'history_page');
    expect(copy.messages.map((m) => (m as Dm).envelope)).toEqual([own(kitLaptop, 12), own(kitLaptop, 22)]);
    const sent = await kit.expect({ type: 'history', target: { user: 'pd-lou' }, limit: 10 }, 'history_page');
    expect(sent.messages.map((m) => (m as Dm).envelope)).toEqual([to(10), to(20)]);
  });

  it('refuses a malformed envelope, a foreign device, a device twice and another sending device', async () => {
    const max = await user('pd-max');
    const ned = await user('pd-ned');
    const stranger = await user('pd-oz');
    const refused = async (envelope: string, words: RegExp) => {
      const reply = await max.request({ type: 'dm_send', to: 'pd-ned', envelope });
      expect(reply).toMatchObject({ type: 'error', code: 'BAD_REQUEST' });
      expect((reply as Extract<ServerMessage, { type: 'error' }>).message).toMatch(words);
    };
    await refused('AAAA', /malformed/);
    const whole = Buffer.from(directEnvelope(max.device, [[ned.device, body(1)]]), 'base64url');
    await refused(whole.subarray(0, whole.length - 1).toString('base64url'), /malformed/);
    await refused(Buffer.concat([whole, Buffer.from([0])]).toString('base64url'), /malformed/);
    await refused(directEnvelope(max.device, [[stranger.device, body(1)]]), /neither/);
    await refused(
      directEnvelope(max.device, [
        [ned.device, body(1)],
        [ned.device, body(2)],
      ]),
      /twice/,
    );
    await refused(directEnvelope(ned.device, [[ned.device, body(1)]]), /sending device/);
    // Nothing of the refused sends reached anyone, and a good one still goes through.
    const ok = await max.expect({ type: 'dm_send', to: 'pd-ned', envelope: directEnvelope(max.device, [[ned.device, body(3)]]) }, 'ack');
    expect(await ned.next('dm')).toMatchObject({ msgId: ok.msgId });
    expect(stranger.take((m) => m.type === 'dm')).toEqual([]);
  });
});
