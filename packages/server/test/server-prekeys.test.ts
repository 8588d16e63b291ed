// Prekeys as raw protocol: what the server checks on upload, how it hands bundles out (each
// one-time prekey once, then the signed prekey alone), and the prekeys_low notice to the owner.
import { DeviceIdentity, generateOneTimePrekeys, generateSignedPrekey as makeSigned } from '@hush/crypto';
import { toBase64Url, type ServerMessage } from '@hush/protocol';
import { describe, expect, it } from 'vitest';
import type { RawClient } from '../src/raw-client.js';
import { rawServer } from './helpers/raw-server.js';

const fixture = rawServer();
const user = (name: string): Promise<RawClient> => fixture.user(name);

function upload(c: RawClient, o: { signer?: DeviceIdentity; createdAt?: number; oneTime?: number; firstId?: number } = {}) {
  const spk = makeSigned(o.signer ?? c.device, { id: 1, now: o.createdAt ?? 1_000 });
  const otps = generateOneTimePrekeys({ firstId: o.firstId ?? 1, count: o.oneTime ?? 0 });
  return c.request({
    type: 'prekeys_upload',
    signedPrekey: { id: spk.id, createdAt: spk.createdAt, publicKey: toBase64Url(spk.publicKey), signature: toBase64Url(spk.signature) },
    oneTimePrekeys: otps.map((p) => ({ id: p.id, publicKey: toBase64Url(p.publicKey) })),
  });
}

const codeOf = (m: ServerMessage): string => (m.type === 'error' ? m.code : `no error: ${JSON.stringify(m)}`);

describe('prekeys', () => {
  it("refuses a signed prekey not signed by the session's device", async () => {
    const amy = await user('pre-amy');
    expect(codeOf(await upload(amy, { signer: DeviceIdentity.generate() }))).toBe('BAD_REQUEST');
    expect(await fixture.server.db.getSignedPrekey('pre-amy', toBase64Url(amy.device.signPublicKey))).toBeUndefined();
    expect(await upload(amy, { oneTime: 3 })).toMatchObject({ type: 'prekeys', remaining: 3 });
  });

  it('hands each one-time prekey out once, then the signed prekey alone; the owner hears prekeys_low', async () => {
    const bo = await user('pre-bo');
    const asker = await user('pre-asker');
    expect(await upload(bo, { oneTime: 26 })).toMatchObject({ remaining: 26 });
    // An older signed prekey does not replace the newer one.
    expect(await upload(bo, { createdAt: 500, oneTime: 0 })).toMatchObject({ remaining: 26 });
    expect((await fixture.server.db.getSignedPrekey('pre-bo', toBase64Url(bo.device.signPublicKey)))?.createdAt).toBe(1_000);
    const seen = new Set<number>();
    for (let i = 0; i < 26; i++) {
      const reply = await asker.request({ type: 'prekey_bundle_get', user: 'pre-bo' });
      if (reply.type !== 'prekey_bundles') throw new Error(JSON.stringify(reply));
      expect(reply.bundles).toHaveLength(1);
      const otp = reply.bundles[0]!.oneTimePrekey!;
      expect(seen.has(otp.id)).toBe(false);
      seen.add(otp.id);
    }
    expect(await bo.next((m) => m.type === 'prekeys_low')).toEqual({ type: 'prekeys_low', remaining: 24 });
    const last = await asker.request({ type: 'prekey_bundle_get', user: 'pre-bo' });
    expect(last).toMatchObject({ type: 'prekey_bundles', user: 'pre-bo' });
    if (last.type !== 'prekey_bundles') return;
    expect(last.bundles[0]!.oneTimePrekey).toBeUndefined();
    expect(last.bundles[0]!.device.signKey).toBe(toBase64Url(bo.device.signPublicKey));
  });

  it('lists only devices that published prekeys; an unknown user is NOT_FOUND', async () => {
    const cy = await user('pre-cy');
    expect(await cy.request({ type: 'prekey_bundle_get', user: 'pre-cy' })).toMatchObject({ type: 'prekey_bundles', bundles: [] });
    expect(codeOf(await cy.request({ type: 'prekey_bundle_get', user: 'pre-nobody' }))).toBe('NOT_FOUND');
  });
});
