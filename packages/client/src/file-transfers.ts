import { createHash, randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { access, link, lstat, mkdir, open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { FILE_CHUNK_OVERHEAD, FileOpener, FileSealer } from '@hush/crypto';
import { fileNameProblem, type ClientMessage, type ServerMessageOf, type ServerMessageType } from '@hush/protocol';
import type { DirectBody, DirectFileInfo } from './direct-body.js';
import { HushError, isHushError } from './errors.js';
import type { FileKeyStore } from './file-keys.js';
import { defaultDownloadsDir } from './paths.js';
import type { RequestBody } from './requests.js';
import { numberedName, safeFileName } from './safe-name.js';
import { byteCount, formatSize } from './sizes.js';
import type { EmitEvent, FileOffer, Target } from './types.js';
import { b64, unb64 } from './wire.js';

/** Plaintext bytes per chunk: a sealed chunk (+16) stays within the protocol's 64 KiB + 64 limit. */
const CHUNK = 64 * 1024;
/** Upload chunks in flight before waiting for the server's ok (flow control). */
const WINDOW = 8;
const NOFOLLOW = fsConstants.O_NOFOLLOW ?? 0;
/** Said at the next start for a download a process of this account left unfinished (its file is offered again). */
export const DOWNLOAD_UNFINISHED =
  'a download did not finish (the program was closed): the server offers its file again, accept it to fetch it anew';
/** A download's temporary file, in the folder it is saved into. */
const PART_NAME = /^\.hush-[0-9a-f]{16}\.part$/;

export interface FileHost {
  emit: EmitEvent;
  request<T extends ServerMessageType>(body: RequestBody, expect: readonly T[]): Promise<ServerMessageOf<T>>;
  sendRaw(message: ClientMessage): void;
  waitWritable(): Promise<void>;
  sendDirectBody(user: string, body: DirectBody): Promise<{ id: string; ts: number }>;
  /** `body` sealed for an end-to-end room, stored and relayed like a room message. */
  sendRoomBody(room: string, body: DirectBody): Promise<void>;
  isE2eRoom(room: string): boolean;
  me(): string | null;
}

interface Incoming {
  offer?: FileOffer;
  /** End-to-end files: key, name, size and hash from the sealed DM or room message, and who sealed it. */
  secret?: DirectFileInfo;
  secretFrom?: string;
  sha512?: string;
  wireSize?: number;
  handled: boolean;
}

interface Download {
  fileId: string;
  offer: FileOffer;
  handle: FileHandle;
  tmp: string;
  dir: string;
  /** A fresh opener for a sealed file (each start from chunk 0 needs one). */
  newOpener?: () => FileOpener;
  opener?: FileOpener;
  hash: ReturnType<typeof createHash>;
  expectedSha512?: Uint8Array;
  next: number;
  bytes: number;
  /** The chunk being written, if any: a restart waits for it. */
  writing: Promise<unknown>;
  /** The server took the accept: after a lost connection it is asked again, from chunk 0. */
  streaming: boolean;
  resolve: (path: string) => void;
  reject: (error: HushError) => void;
}

/**
 * File offers and transfers. Direct files and files to end-to-end rooms are sealed chunk by chunk
 * (FileSealer) and their key, name, size and SHA-512 travel in an end-to-end DM or room message;
 * files to open rooms are plain chunks (encrypted in transit only).
 * Saving: the network name is display-only, the file lands inside the chosen folder under a fresh
 * name, written to a temporary file opened exclusively (no symlink followed), hash-checked, then linked
 * into place without ever overwriting.
 */
export class FileTransfers {
  private readonly incoming = new Map<string, Incoming>();
  private readonly downloads = new Map<string, Download>();
  /** `lost`: stopped by a lost connection (the server drops an upload with it), not by a cancel. */
  private readonly uploads = new Map<string, { cancelled: boolean; lost?: boolean }>();
  private keys: FileKeyStore | undefined;

  constructor(private readonly host: FileHost) {}

  // ---------------------------------------------------------------------------------------------
  // Sending

  async send(target: Target, path: string): Promise<{ fileId: string }> {
    const problem = fileNameProblem(basename(path));
    if (problem !== undefined) throw new HushError('FILE_NAME_INVALID', `cannot offer ${JSON.stringify(path)}: ${problem}`);
    const handle = await openToSend(path);
    try {
      const size = (await handle.stat()).size;
      const sha512 = await hashFile(handle, size);
      const name = safeFileName(basename(path));
      const e2e = 'user' in target || this.host.isE2eRoom(target.room);
      const chunks = Math.max(1, Math.ceil(size / CHUNK));
      const wireSize = e2e ? size + chunks * FILE_CHUNK_OVERHEAD : size;
      const created = await this.host
        .request({ type: 'file_offer', target, size: wireSize, ...(e2e ? {} : { name, sha512: b64(sha512) }) }, ['file_created'])
        .catch((error: unknown) => {
          throw tooLargeInWords(error, name, size);
        });
      const fileId = created.fileId;
      const state: { cancelled: boolean; lost?: boolean } = { cancelled: false };
      this.uploads.set(fileId, state);
      this.host.emit('fileSending', { fileId, target, path, size });
      try {
        // Kept before anything goes out: a crash from here on is said at the next start.
        await this.keys?.started({ fileId, upload: name, to: 'user' in target ? target.user : `#${target.room}` });
        const sealer = e2e ? new FileSealer() : undefined;
        if (sealer) {
          const body = { file: { fileId, name, size, sha512: b64(sha512), key: b64(sealer.key), noncePrefix: b64(sealer.noncePrefix) } };
          if ('user' in target) await this.host.sendDirectBody(target.user, body);
          else await this.host.sendRoomBody(target.room, body);
        }
        await this.upload(handle, fileId, size, chunks, state, sealer).catch((error: unknown) => {
          // Chunks in flight when we cancelled come back NOT_FOUND: report the cancel, not that.
          if (state.lost)
            throw new HushError('CONNECTION_CLOSED', 'the connection was lost during the upload: send it again', { cause: error });
          throw state.cancelled ? new HushError('FILE_CANCELLED', 'cancelled') : error;
        });
      } finally {
        this.uploads.delete(fileId);
        this.keys?.finished(fileId);
      }
      this.host.emit('fileComplete', { fileId, direction: 'up' });
      return { fileId };
    } finally {
      await handle.close();
    }
  }

  private async upload(
    handle: FileHandle,
    fileId: string,
    size: number,
    chunks: number,
    state: { cancelled: boolean },
    sealer?: FileSealer,
  ): Promise<void> {
    const inFlight: Promise<unknown>[] = [];
    let sent = 0;
    const buffer = Buffer.alloc(CHUNK);
    for (let index = 0; index < chunks; index++) {
      if (state.cancelled) throw new HushError('FILE_CANCELLED');
      const { bytesRead } = await handle.read(buffer, 0, Math.min(CHUNK, size - index * CHUNK), index * CHUNK);
      const plain = new Uint8Array(buffer.subarray(0, bytesRead));
      const final = index === chunks - 1;
      const data = sealer ? sealer.sealChunk(plain, final) : plain;
      await this.host.waitWritable();
      const done = this.host.request({ type: 'file_chunk', fileId, index, data: b64(data), final }, ['ok']).then(() => {
        sent += bytesRead;
        this.host.emit('fileProgress', { fileId, direction: 'up', bytes: sent, size });
      });
      done.catch(() => undefined);
      inFlight.push(done);
      if (inFlight.length >= WINDOW) await inFlight.shift();
    }
    await Promise.all(inFlight);
  }

  // ---------------------------------------------------------------------------------------------
  // Receiving

  async onServerMessage(m: ServerMessageOf<'file_offered' | 'file_data' | 'file_cancelled' | 'file_status'>): Promise<void> {
    switch (m.type) {
      case 'file_offered': {
        const entry = this.entry(m.fileId);
        entry.wireSize = m.size;
        if (m.sha512 !== undefined) entry.sha512 = m.sha512;
        // An end-to-end room's file: a name from the server is ignored, the sealed one counts.
        const e2e = 'user' in m.target || this.host.isE2eRoom(m.target.room);
        // The wire names a direct file's recipient (us); the SDK's Target names the conversation.
        const target: Target = 'user' in m.target ? { user: m.from } : m.target;
        if (entry.secretFrom !== undefined && entry.secretFrom !== m.from) return this.forged(m.fileId, m.from);
        if (!e2e && m.name !== undefined && this.refuseName(m.fileId, m.from, m.name)) return;
        if (!e2e) {
          entry.offer = { fileId: m.fileId, from: m.from, target, name: m.name ?? 'file', size: m.size, e2e: false, ts: m.ts };
        } else if (entry.secret) {
          entry.offer = {
            fileId: m.fileId,
            from: m.from,
            target,
            name: entry.secret.name,
            size: entry.secret.size,
            e2e: true,
            ts: m.ts,
          };
        } else {
          // The sealed DM with the key comes first normally; keep the server's half until it does.
          entry.offer = { fileId: m.fileId, from: m.from, target, name: '', size: m.size, e2e: true, ts: m.ts };
          return;
        }
        if (!entry.handled) this.host.emit('fileOffer', entry.offer);
        return;
      }
      case 'file_data':
        await this.onData(m);
        return;
      case 'file_cancelled': {
        const d = this.downloads.get(m.fileId);
        if (d) await this.failDownload(d, new HushError('FILE_CANCELLED', m.reason ?? 'the sender cancelled the file'));
        this.forget(m.fileId);
        this.host.emit('fileCancelled', {
          fileId: m.fileId,
          ...(m.by === undefined ? {} : { by: m.by }),
          ...(m.reason === undefined ? {} : { reason: m.reason }),
        });
        return;
      }
      case 'file_status':
        this.host.emit('fileStatus', { fileId: m.fileId, user: m.user, status: m.status });
        return;
    }
  }

  /** The end-to-end half of a file offer (from a sealed DM or room message), sealed by `from`. */
  onSealedOffer(from: string, file: DirectFileInfo): void {
    if (from === this.host.me()) return; // our own offer, echoed to our other devices
    if (this.applySealed(from, file)) this.keys?.keep({ from, file });
  }

  /**
   * The sealed halves this account kept of offers not answered yet (the messages that carried them
   * open only once): taken back at login, before the server offers those files again.
   */
  useKeys(keys: FileKeyStore): void {
    this.keys = keys;
    for (const { from, file } of keys.all()) this.applySealed(from, file);
    void this.cleanUp(keys);
  }

  /**
   * What a process of this account left unfinished when it died: its downloads' temporary files
   * are removed (the server offers those files again), its uploads are said. Transfers running
   * in this process (a reconnect) are left alone.
   */
  private async cleanUp(keys: FileKeyStore): Promise<void> {
    for (const t of keys.unfinished()) {
      if (this.downloads.has(t.fileId) || this.uploads.has(t.fileId)) continue;
      if ('part' in t) {
        // Only a name this code makes: never anything else the record might point at.
        if (PART_NAME.test(basename(t.part))) await rm(t.part, { force: true }).catch(() => undefined);
        this.host.emit('notice', { level: 'warn', code: 'FILE_UNFINISHED', text: DOWNLOAD_UNFINISHED });
      } else {
        // A room's is said in the room, as its other notices ("#room: ..."); a person's names them.
        const upload = `the upload of ${JSON.stringify(t.upload)}`;
        const text = t.to.startsWith('#')
          ? `${t.to}: ${upload} did not finish: send it again`
          : `${upload} to ${t.to} did not finish: send it again`;
        this.host.emit('notice', { level: 'warn', code: 'FILE_UNFINISHED', text });
      }
      keys.finished(t.fileId);
    }
  }

  /** Resolves once the kept sealed halves are on disk. */
  flushed(): Promise<void> {
    return this.keys?.flushed() ?? Promise.resolve();
  }

  /** Joins the sealed half to the server's; false when refused (name) or forged (sender). */
  private applySealed(from: string, file: DirectFileInfo): boolean {
    const entry = this.entry(file.fileId);
    if (entry.offer && entry.offer.from !== from) {
      this.forged(file.fileId, from);
      return false;
    }
    if (this.refuseName(file.fileId, from, file.name)) return false;
    entry.secret = file;
    entry.secretFrom = from;
    if (entry.offer && entry.offer.name === '') {
      entry.offer = { ...entry.offer, name: file.name, size: file.size };
      if (!entry.handled) this.host.emit('fileOffer', entry.offer);
    }
    return true;
  }

  /** The offer is answered or gone: nothing of it is kept. */
  private forget(fileId: string): void {
    this.incoming.delete(fileId);
    this.keys?.drop(fileId);
  }

  /** The sealed half and the server's half of an offer name different senders: neither is used. */
  private forged(fileId: string, from: string): void {
    this.forget(fileId);
    this.host.emit('notice', {
      level: 'warn',
      code: 'FILE_FORGED',
      text: `a file offer claimed to come from ${from} but did not match what its sender sealed: ignored`,
    });
  }

  /** An offer whose name cannot be saved under is declined at once, and said so (a notice), never left hanging. */
  private refuseName(fileId: string, from: string, name: string): boolean {
    const problem = fileNameProblem(name);
    if (problem === undefined) return false;
    const entry = this.entry(fileId);
    this.keys?.drop(fileId);
    if (!entry.handled) {
      entry.handled = true;
      this.host.emit('notice', { level: 'warn', code: 'FILE_NAME_INVALID', text: `${from} offered a file that was refused: ${problem}` });
      this.tell({ type: 'file_decline', fileId });
    }
    return true;
  }

  pending(): FileOffer[] {
    return [...this.incoming.values()].filter((e) => e.offer && e.offer.name !== '' && !e.handled).map((e) => e.offer!);
  }

  async accept(fileId: string, directory?: string): Promise<string> {
    const entry = this.incoming.get(fileId);
    const offer = entry?.offer;
    if (!entry || !offer || offer.name === '' || entry.handled) throw new HushError('FILE_NOT_FOUND');
    if (offer.e2e && !entry.secret) throw new HushError('FILE_NOT_FOUND', 'the key for this file never arrived');
    // Never save what cannot be checked: every file is verified against its SHA-512 before it counts.
    if (!entry.secret && !entry.sha512) throw new HushError('FILE_CORRUPT', 'the offer carries no hash to check the file against');
    // A folder that cannot be used is refused before the offer is taken: it stays open for another.
    const dir = directory ?? defaultDownloadsDir();
    await prepareFolder(dir);
    if (entry.handled) throw new HushError('FILE_NOT_FOUND', 'this offer is being accepted already');
    entry.handled = true;
    const tmp = join(dir, `.hush-${randomBytes(8).toString('hex')}.part`);
    let handle: FileHandle;
    try {
      // O_EXCL: never reuse or follow anything already at that path (a planted symlink included).
      handle = await open(tmp, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL | NOFOLLOW, 0o600);
    } catch (cause) {
      entry.handled = false;
      throw folderError(dir, cause);
    }
    const result = new Promise<string>((resolve, reject) => {
      const secret = entry.secret;
      const expected = secret ? unb64(secret.sha512) : entry.sha512 ? unb64(entry.sha512) : undefined;
      const newOpener = secret ? () => new FileOpener(unb64(secret.key), unb64(secret.noncePrefix)) : undefined;
      this.downloads.set(fileId, {
        fileId,
        offer,
        handle,
        tmp,
        dir,
        next: 0,
        bytes: 0,
        writing: Promise.resolve(),
        streaming: false,
        resolve,
        reject,
        hash: createHash('sha512'),
        ...(newOpener ? { newOpener, opener: newOpener() } : {}),
        ...(expected ? { expectedSha512: expected } : {}),
      });
    });
    result.catch(() => undefined);
    try {
      // On disk before the server counts the offer taken: if this process dies, the next start
      // removes the temporary file (the server offers the file again).
      await this.keys?.started({ fileId, part: tmp });
      await this.host.request({ type: 'file_accept', fileId }, ['ok']);
      const d = this.downloads.get(fileId);
      if (d) d.streaming = true;
    } catch (error) {
      const d = this.downloads.get(fileId);
      if (d) await this.failDownload(d, error instanceof HushError ? error : new HushError('FILE_IO', undefined, { cause: error }));
      throw error;
    }
    return result;
  }

  async decline(fileId: string): Promise<void> {
    const entry = this.incoming.get(fileId);
    if (!entry) throw new HushError('FILE_NOT_FOUND');
    entry.handled = true;
    await this.host.request({ type: 'file_decline', fileId }, ['ok']);
    this.forget(fileId);
  }

  async cancel(fileId: string): Promise<void> {
    const upload = this.uploads.get(fileId);
    if (upload) upload.cancelled = true;
    const d = this.downloads.get(fileId);
    if (d) await this.failDownload(d, new HushError('FILE_CANCELLED', 'cancelled'));
    await this.host.request({ type: 'file_cancel', fileId }, ['ok']);
    this.forget(fileId);
  }

  private entry(fileId: string): Incoming {
    let e = this.incoming.get(fileId);
    if (!e) {
      e = { handled: false };
      this.incoming.set(fileId, e);
    }
    return e;
  }

  private async onData(m: ServerMessageOf<'file_data'>): Promise<void> {
    const d = this.downloads.get(m.fileId);
    if (!d) return;
    let committed = false;
    try {
      // Accepted again after our disk failed it: chunks of the stream the server dropped come first.
      if (m.index !== d.next && d.next === 0) return;
      if (m.index !== d.next) throw new HushError('FILE_CORRUPT', 'chunks out of order');
      d.next++;
      const raw = unb64(m.data);
      const plain = d.opener ? d.opener.openChunk(raw, m.index) : raw;
      if (d.opener && m.final !== d.opener.complete) throw new HushError('FILE_CORRUPT', 'the final chunk flag does not match');
      d.hash.update(plain);
      // At its place: a download started again after a lost connection rewrites from the start.
      d.writing = writeAll(d.handle, plain, d.bytes);
      await d.writing;
      if (this.downloads.get(d.fileId) !== d) return; // cancelled while writing
      d.bytes += plain.length;
      this.host.emit('fileProgress', { fileId: d.fileId, direction: 'down', bytes: d.bytes, size: d.offer.size });
      if (!m.final) return;
      const digest = new Uint8Array(d.hash.digest());
      if (d.opener) d.opener.finish(d.expectedSha512);
      else if (d.expectedSha512 && Buffer.compare(Buffer.from(digest), Buffer.from(d.expectedSha512)) !== 0) {
        throw new HushError('FILE_CORRUPT', 'SHA-512 mismatch');
      }
      if (d.bytes !== d.offer.size) throw new HushError('FILE_CORRUPT', 'size mismatch');
      await d.handle.sync();
      if (this.downloads.get(d.fileId) !== d) return;
      // Past this point a cancel comes too late: the file is complete and verified.
      committed = true;
      this.downloads.delete(d.fileId);
      this.forget(d.fileId);
      await d.handle.close();
      const path = await placeFile(d.tmp, d.dir, safeFileName(d.offer.name)).finally(() => this.keys?.finished(d.fileId));
      // Verified and saved: only now does the sender hear 'downloaded'.
      this.tell({ type: 'file_received', fileId: d.fileId });
      this.host.emit('fileComplete', { fileId: d.fileId, direction: 'down', path });
      d.resolve(path);
    } catch (error) {
      if (!committed && this.downloads.get(d.fileId) !== d) return; // cancelled: the handle was closed under us
      // A write the disk refused (full, gone read-only) is said as such: nothing is wrong with the file.
      const e =
        error instanceof HushError
          ? error
          : (error as NodeJS.ErrnoException).syscall !== undefined
            ? folderError(d.dir, error)
            : new HushError('FILE_CORRUPT', undefined, { cause: error });
      // Our disk's fault, not the file's: the offer stays open for another folder (accepted again, the
      // server streams it from the start), as for a folder refused before the download.
      const ours = !committed && e.code === 'FILE_IO';
      const entry = this.incoming.get(d.fileId);
      if (ours && entry) entry.handled = false;
      await this.failDownload(d, e);
      // The sender hears 'cancelled' rather than nothing.
      if (!committed && !ours)
        this.tell({ type: 'file_cancel', fileId: d.fileId, reason: e.code === 'FILE_CORRUPT' ? 'corrupt' : 'failed' });
      this.host.emit('error', e);
    }
  }

  /** A request whose reply nothing waits for (the transfer is already decided here). */
  private tell(body: RequestBody): void {
    this.host.request(body, ['ok']).catch(() => undefined);
  }

  private async failDownload(d: Download, error: HushError): Promise<void> {
    this.downloads.delete(d.fileId);
    await d.handle.close().catch(() => undefined);
    await rm(d.tmp, { force: true });
    this.keys?.finished(d.fileId);
    d.reject(error);
  }

  /**
   * The connection dropped: uploads end (the server drops an upload with its connection); downloads
   * wait for the connection to come back (`onReconnected`).
   */
  onDisconnect(): void {
    for (const u of this.uploads.values()) {
      u.lost = !u.cancelled;
      u.cancelled = true;
    }
  }

  /** Logged in again after a lost connection: each download the server was streaming starts again from chunk 0. */
  onReconnected(): void {
    for (const d of [...this.downloads.values()]) if (d.streaming) void this.restart(d);
  }

  private async restart(old: Download): Promise<void> {
    await old.writing.catch(() => undefined);
    if (this.downloads.get(old.fileId) !== old) return; // cancelled or failed meanwhile
    const d: Download = {
      ...old,
      next: 0,
      bytes: 0,
      writing: Promise.resolve(),
      streaming: false,
      hash: createHash('sha512'),
      ...(old.newOpener ? { opener: old.newOpener() } : {}),
    };
    this.downloads.set(d.fileId, d);
    try {
      await d.handle.truncate(0);
      this.host.emit('fileProgress', { fileId: d.fileId, direction: 'down', bytes: 0, size: d.offer.size });
      await this.host.request({ type: 'file_accept', fileId: d.fileId }, ['ok']);
      d.streaming = true;
    } catch (error) {
      // The offer is gone meanwhile (cancelled by its sender, expired): the download ends here.
      if (this.downloads.get(d.fileId) === d) {
        await this.failDownload(d, error instanceof HushError ? error : new HushError('FILE_IO', undefined, { cause: error }));
      }
    }
  }

  /** The client closes for good: downloads end, uploads stop. */
  abortAll(): void {
    for (const d of [...this.downloads.values()]) void this.failDownload(d, new HushError('CONNECTION_CLOSED'));
    this.onDisconnect();
  }
}

const errnoOf = (error: unknown): string | undefined => (error as NodeJS.ErrnoException | undefined)?.code;

/** Permission and disk failures in words; undefined for the others. */
function ioWords(error: unknown): string | undefined {
  switch (errnoOf(error)) {
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EROFS':
      return 'the file system is read-only';
    case 'ENOSPC':
    case 'EDQUOT':
      return 'the disk is full';
    default:
      return undefined;
  }
}

/** A file to offer, opened for reading; anything else is refused in words. */
async function openToSend(path: string): Promise<FileHandle> {
  try {
    const found = await stat(path);
    // A folder, a pipe or a device is not a file to offer (opening a pipe would block).
    if (found.isDirectory()) throw new HushError('FILE_IO', `${path} is a folder, not a file`);
    if (!found.isFile()) throw new HushError('FILE_IO', `${path} is not a regular file`);
    return await open(path, 'r');
  } catch (cause) {
    if (isHushError(cause)) throw cause;
    const code = errnoOf(cause);
    const words =
      code === 'ENOENT' || code === 'ENOTDIR'
        ? `no such file: ${path}`
        : code === 'EISDIR'
          ? `${path} is a folder, not a file`
          : `cannot read ${path}: ${ioWords(cause) ?? code ?? String(cause)}`;
    throw new HushError('FILE_IO', words, { cause });
  }
}

/** "cannot save into DIR: why", for a folder that could not be made or written in. */
function folderError(dir: string, cause: unknown): HushError {
  const code = errnoOf(cause);
  const why =
    ioWords(cause) ?? (code === 'ENOENT' ? 'no such folder' : code === 'ENOTDIR' ? 'it is not a folder' : (code ?? String(cause)));
  return new HushError('FILE_IO', `cannot save into ${dir}: ${why}`, { cause });
}

/**
 * Makes `dir` (and the folders missing above it) to save into, one level at a time from the nearest
 * existing folder, which must be a writable folder. Node's recursive mkdir never settles where a
 * level cannot be created on some file systems (under /proc on Linux); one level at a time fails.
 */
async function prepareFolder(dir: string): Promise<void> {
  const missing: string[] = [];
  let at = resolve(dir);
  for (;;) {
    try {
      if ((await stat(at)).isDirectory()) break;
      throw new HushError('FILE_IO', `cannot save into ${dir}: ${at === resolve(dir) ? 'it' : at} is a file, not a folder`);
    } catch (error) {
      if (isHushError(error)) throw error;
      const code = errnoOf(error);
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || dirname(at) === at) throw folderError(dir, error);
      missing.unshift(at);
      at = dirname(at);
    }
  }
  try {
    await access(at, fsConstants.W_OK);
    for (const level of missing)
      await mkdir(level).catch((error: unknown) => {
        if (errnoOf(error) !== 'EEXIST') throw error;
      });
  } catch (error) {
    throw folderError(dir, error);
  }
}

/** The server's FILE_TOO_LARGE (it gives the limit in bytes), naming the file, in human units. */
function tooLargeInWords(error: unknown, name: string, size: number): unknown {
  if (!isHushError(error, 'FILE_TOO_LARGE')) return error;
  const limit = /(\d+) bytes/.exec(error.message)?.[1];
  if (limit === undefined) return new HushError('FILE_TOO_LARGE', `${name} is ${formatSize(size)}; ${error.message}`, { cause: error });
  // Just over the limit, both round alike ("10 MiB"): then "just over", and the bytes say by how much.
  const [sized, limited] = [formatSize(size), formatSize(Number(limit))];
  const text =
    sized === limited
      ? `${name} is just over ${limited} (${byteCount(size)}); this server accepts files up to ${limited} (${byteCount(Number(limit))})`
      : `${name} is ${sized}; this server accepts files up to ${limited}`;
  return new HushError('FILE_TOO_LARGE', text, { cause: error });
}

async function hashFile(handle: FileHandle, size: number): Promise<Uint8Array> {
  const hash = createHash('sha512');
  const buffer = Buffer.alloc(CHUNK);
  for (let pos = 0; pos < size; ) {
    const { bytesRead } = await handle.read(buffer, 0, Math.min(CHUNK, size - pos), pos);
    if (bytesRead === 0) break;
    hash.update(buffer.subarray(0, bytesRead));
    pos += bytesRead;
  }
  return new Uint8Array(hash.digest());
}

/**
 * All of `data` at `position`. A write may take less than it is given (a disk that fills up takes
 * what fits and fails only the next write): the rest is written until done or refused.
 */
async function writeAll(handle: FileHandle, data: Uint8Array, position: number): Promise<void> {
  for (let done = 0; done < data.length; ) {
    const { bytesWritten } = await handle.write(data, done, data.length - done, position + done);
    // Nothing taken and no error: as a full disk (never loop on it).
    if (bytesWritten === 0) throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC', syscall: 'write' });
    done += bytesWritten;
  }
}

/** Gives the finished temp file its name: a hard link never overwrites and never follows a symlink. */
async function placeFile(tmp: string, dir: string, name: string): Promise<string> {
  for (let n = 0; n < 10_000; n++) {
    const candidate = join(dir, numberedName(name, n));
    try {
      await link(tmp, candidate);
      await rm(tmp, { force: true });
      return candidate;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') continue;
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EXDEV' && code !== 'ENOSYS') throw error;
      // No hard links on this file system: check, then rename (a small race, still never a symlink).
      if (
        await lstat(candidate).then(
          () => true,
          () => false,
        )
      )
        continue;
      await rename(tmp, candidate);
      return candidate;
    }
  }
  throw new HushError('FILE_IO', 'no free file name');
}
