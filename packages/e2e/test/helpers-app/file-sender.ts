// A raw file sender: offers and uploads room files and end-to-end direct files with any name,
// size claim, hash claim and chunk content, which the SDK's own sendFile would never produce.
import { createHash } from 'node:crypto';
import { FileSealer } from '@hush/crypto';
import type { ServerMessage } from '@hush/protocol';
import { sealerOf } from './direct.js';
import { b64, type RawClient } from './raw-client.js';

export const CHUNK = 64 * 1024;

export interface RawFileOptions {
  /** The hash to claim; default the real SHA-512 of `data`; null = claim none. */
  sha512?: Uint8Array | null;
  /** Replace chunk `index` with other bytes of the same length (a corrupted chunk). */
  corruptChunk?: number;
}

function expectType(m: ServerMessage, type: string, what: string): void {
  if (m.type !== type) throw new Error(`${what}: expected ${type}, got ${JSON.stringify(m)}`);
}

function chunksOf(data: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let pos = 0; pos < data.length; pos += CHUNK) out.push(data.subarray(pos, pos + CHUNK));
  if (out.length === 0) out.push(new Uint8Array(0));
  return out;
}

function corrupt(chunk: Uint8Array): Uint8Array {
  const copy = Uint8Array.from(chunk);
  copy[0] = (copy[0] ?? 0) ^ 0xff;
  return copy;
}

/** Offers and uploads a room file; resolves with the file id once the last chunk is acknowledged. */
export async function sendRoomFile(raw: RawClient, room: string, name: string, data: Uint8Array, o: RawFileOptions = {}): Promise<string> {
  const sha = o.sha512 === undefined ? new Uint8Array(createHash('sha512').update(data).digest()) : o.sha512;
  const created = await raw.request({
    type: 'file_offer',
    target: { room },
    size: data.length,
    name,
    ...(sha ? { sha512: b64(sha) } : {}),
  });
  expectType(created, 'file_created', 'file_offer');
  const fileId = created.type === 'file_created' ? created.fileId : '';
  const chunks = chunksOf(data);
  for (let i = 0; i < chunks.length; i++) {
    const bytes = i === o.corruptChunk ? corrupt(chunks[i]!) : chunks[i]!;
    expectType(
      await raw.request({ type: 'file_chunk', fileId, index: i, data: b64(bytes), final: i === chunks.length - 1 }),
      'ok',
      'file_chunk',
    );
  }
  return fileId;
}

/**
 * Offers and uploads an end-to-end direct file: the name, size, hash and key travel in a sealed DM
 * (as the SDK does it), the chunks are sealed with FileSealer. `seq` is the DM sequence number.
 */
export async function sendDirectFile(
  raw: RawClient,
  to: string,
  name: string,
  data: Uint8Array,
  seq: number,
  o: RawFileOptions = {},
): Promise<string> {
  const bundles = await raw.request({ type: 'prekey_bundle_get', user: to });
  expectType(bundles, 'prekey_bundles', 'prekey_bundle_get');
  const recipients = bundles.type === 'prekey_bundles' ? bundles.bundles : [];
  const chunks = chunksOf(data);
  const sealer = new FileSealer();
  const sealedChunks = chunks.map((c, i) => sealer.sealChunk(i === o.corruptChunk ? corrupt(c) : c, i === chunks.length - 1));
  const wireSize = sealedChunks.reduce((n, c) => n + c.length, 0);
  const created = await raw.request({ type: 'file_offer', target: { user: to }, size: wireSize });
  expectType(created, 'file_created', 'file_offer');
  const fileId = created.type === 'file_created' ? created.fileId : '';
  const sha = o.sha512 === undefined ? new Uint8Array(createHash('sha512').update(data).digest()) : o.sha512;
  const envelope = sealerOf(raw.device).seal(recipients, {
    from: raw.user ?? '',
    to,
    seq,
    body: {
      file: { fileId, name, size: data.length, sha512: sha ? b64(sha) : '', key: b64(sealer.key), noncePrefix: b64(sealer.noncePrefix) },
    },
  });
  expectType(await raw.request({ type: 'dm_send', to, envelope }), 'ack', 'dm_send');
  for (let i = 0; i < sealedChunks.length; i++) {
    expectType(
      await raw.request({ type: 'file_chunk', fileId, index: i, data: b64(sealedChunks[i]!), final: i === sealedChunks.length - 1 }),
      'ok',
      'file_chunk',
    );
  }
  return fileId;
}
