// prekeys_upload / prekey_bundle_get: the server keeps each device's public prekeys and hands them
// out (each one-time prekey once). It cannot use them: the secret halves never leave the device.
import { verifySignedPrekey } from '@hush/crypto';
import type { ClientMessageOf } from '@hush/protocol';
import { RequestError } from '../errors.js';
import { requireUser } from './membership.js';
import { wireBundle } from './replies.js';
import { sessionDevice } from './session-devices.js';
import type { ServerContext } from './context.js';
import type { Session } from './session.js';

/** Below this many one-time prekeys after a bundle request (none left included), the device is told to upload more. */
export const PREKEYS_LOW = 25;

export async function handlePrekeysUpload(
  ctx: Pick<ServerContext, 'store'>,
  session: Session,
  m: ClientMessageOf<'prekeys_upload'>,
): Promise<void> {
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
  await ctx.store.setSignedPrekey(user.name, signKey, prekey);
  const remaining = await ctx.store.addOneTimePrekeys(user.name, signKey, m.oneTimePrekeys);
  session.send({ type: 'prekeys', re: m.id, remaining });
}

export async function handlePrekeyBundleGet(
  ctx: Pick<ServerContext, 'cluster' | 'online' | 'store'>,
  session: Session,
  m: ClientMessageOf<'prekey_bundle_get'>,
): Promise<void> {
  requireUser(session);
  if (!(await ctx.store.getUser(m.user))) throw new RequestError('NOT_FOUND', `no user ${m.user}`);
  const bundles = [];
  const left = new Map<string, number>();
  for (const device of (await ctx.store.listDevices(m.user)).slice(-32)) {
    const signedPrekey = await ctx.store.getSignedPrekey(m.user, device.signKey);
    if (!signedPrekey) continue;
    const oneTimePrekey = await ctx.store.takeOneTimePrekey(m.user, device.signKey);
    const remaining = await ctx.store.countOneTimePrekeys(m.user, device.signKey);
    if (remaining < PREKEYS_LOW) left.set(device.signKey, remaining);
    bundles.push({ device: wireBundle(device), signedPrekey, ...(oneTimePrekey ? { oneTimePrekey } : {}) });
  }
  session.send({ type: 'prekey_bundles', re: m.id, user: m.user, bundles });
  const owner = ctx.online.get(m.user);
  for (const [device, remaining] of left) {
    const low = { type: 'prekeys_low', remaining } as const;
    for (const target of owner?.sessions ?? []) if (sessionDevice(target) === device) target.send(low);
    ctx.cluster.notice(m.user, low, device);
  }
}

function bytesOf(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'base64url'));
}
