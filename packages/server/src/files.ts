// Store-and-forward file relay. The sender uploads chunks in order (each acknowledged); once the
// file is complete the recipients are offered it; an accepted file streams to that session a few
// chunks at a time, continuing as the socket drains, so chat on the same connection keeps flowing.
// The uploader hears `downloaded` only when the recipient confirms a verified save (file_received).
// Direct files are end-to-end sealed by the clients: the server only moves opaque chunks.
// The relay takes the file requests itself (file_offer ... file_received), like a handler group
// (handlers/index.ts): its request methods take the session and the message.
import { randomBytes } from 'node:crypto';
import { FILE_CHUNK_OVERHEAD } from '@hush/crypto';
import { fileNameProblem, fromBase64Url, toBase64Url, type ClientMessageOf, type ServerMessageOf, type Target } from '@hush/protocol';
import type { HushdConfig } from './config.js';
import { RequestError } from './errors.js';
import type { Session } from './handlers/session.js';
import type { Fanout } from './handlers/fanout.js';
import { requireMember, requireUser } from './handlers/membership.js';
import type { OnlineUser, OnlineUsers } from './online-users.js';
import type { RoomRegistry } from './rooms.js';
import type { Logger } from './logger.js';
import type { AsyncStore } from './store/async-store.js';
import type { StoredFile } from './store/types.js';

export const FILE_CHUNK_SIZE = 64 * 1024;
/**
 * The size limit is about the file people send, not its sealing: a direct file's chunks each carry
 * FILE_CHUNK_OVERHEAD more bytes, so a file of exactly the limit still fits once sealed.
 */
function contentSize(wireSize: number, sealed: boolean): number {
  if (!sealed) return wireSize;
  return wireSize - Math.ceil(wireSize / (FILE_CHUNK_SIZE + FILE_CHUNK_OVERHEAD)) * FILE_CHUNK_OVERHEAD;
}

/** Backlog (queued + socket buffer) under which a download queues its next chunk. */
const DOWNLOAD_WINDOW = 4 * FILE_CHUNK_SIZE;

interface Upload {
  file: StoredFile;
  session: Session;
  next: number;
  received: number;
}

interface Download {
  file: StoredFile;
  session: Session;
  user: string;
  index: number;
  /** Look-ahead: the chunk to send next (undefined once the last one went out). */
  chunk: Uint8Array | undefined;
}

type User = OnlineUser<Session>;

/** What the relay works with. */
export interface FileRelayDeps {
  store: AsyncStore;
  logger: Pick<Logger, 'error'>;
  /** The live configuration (maxFileSize may be reloaded). */
  config: Pick<HushdConfig, 'maxFileSize'>;
  online: Pick<OnlineUsers<Session>, 'get'>;
  rooms: Pick<RoomRegistry<Session>, 'kind' | 'members' | 'room'>;
  fanout: Pick<Fanout, 'broadcast'>;
  now(): number;
  /** Tells the other nodes of a file event, for their sessions of the same audience. */
  tell?(event: FileEvent): void;
}

/** A file event and who gets it: the file's recipients (`file`), or its sender (`sender`). */
export type FileEvent =
  | { file: Pick<StoredFile, 'from' | 'room' | 'to'>; message: ServerMessageOf<'file_offered' | 'file_cancelled'> }
  | { sender: string; message: ServerMessageOf<'file_status'> };

export class FileRelay {
  private readonly uploads = new Map<string, Upload>();
  private readonly downloads = new Map<Session, Download[]>();
  /** Sessions whose download pump is running (it awaits the store between chunks). */
  private readonly pumping = new Set<Session>();

  constructor(private readonly deps: FileRelayDeps) {}

  async offer(session: Session, m: ClientMessageOf<'file_offer'>): Promise<void> {
    const user = requireUser(session);
    const deps = this.deps;
    if ('room' in m.target) await requireMember(deps, user, m.target.room);
    // A direct file, and a file to an end-to-end room, is sealed: its name and hash travel inside
    // an end-to-end message, its chunks are sealed.
    const sealed = 'user' in m.target || (await deps.rooms.kind(m.target.room)) === 'e2e';
    if (contentSize(m.size, sealed) > deps.config.maxFileSize) {
      throw new RequestError('FILE_TOO_LARGE', `the limit is ${deps.config.maxFileSize} bytes`);
    }
    if ('room' in m.target && sealed) {
      if (m.name !== undefined || m.sha512 !== undefined) {
        throw new RequestError(
          'BAD_REQUEST',
          `#${m.target.room} is end-to-end encrypted: a room file keeps its name and hash inside a sealed room message`,
        );
      }
    } else if ('room' in m.target) {
      // Receivers verify the whole file against this hash before they report it complete.
      if (m.name === undefined || m.sha512 === undefined) throw new RequestError('BAD_REQUEST', 'a room file needs a name and its SHA-512');
      const problem = fileNameProblem(m.name);
      if (problem !== undefined) throw new RequestError('BAD_REQUEST', `${problem}: rename the file and send it again`);
    } else if (m.name !== undefined || m.sha512 !== undefined) {
      throw new RequestError('BAD_REQUEST', 'a direct file keeps its name and hash inside the end-to-end envelope');
    }
    if ('user' in m.target && !(await deps.store.getUser(m.target.user))) throw new RequestError('NOT_FOUND', `no user ${m.target.user}`);
    if ('user' in m.target && m.target.user === user.name) throw new RequestError('BAD_REQUEST', 'a file to yourself');
    const file: StoredFile = {
      id: randomBytes(16).toString('base64url'),
      from: user.name,
      room: 'room' in m.target ? m.target.room : null,
      to: 'user' in m.target ? m.target.user : null,
      name: m.name ?? null,
      sha512: m.sha512 ?? null,
      size: m.size,
      createdAt: deps.now(),
      complete: false,
    };
    const { complete: _complete, ...record } = file;
    await deps.store.createFile(record);
    this.uploads.set(file.id, { file, session, next: 0, received: 0 });
    session.send({ type: 'file_created', re: m.id, fileId: file.id, chunkSize: FILE_CHUNK_SIZE });
  }

  async chunk(session: Session, m: ClientMessageOf<'file_chunk'>): Promise<void> {
    requireUser(session);
    const deps = this.deps;
    const upload = this.uploads.get(m.fileId);
    if (!upload || upload.session !== session) throw new RequestError('NOT_FOUND', 'no upload with that id on this connection');
    if (m.index !== upload.next) throw new RequestError('BAD_REQUEST', `expected chunk ${upload.next}`);
    const data = fromBase64Url(m.data);
    if (upload.received + data.length > upload.file.size) {
      await this.abortUpload(upload);
      throw new RequestError('BAD_REQUEST', 'more data than the offered size; upload cancelled');
    }
    await deps.store.putFileChunk(upload.file.id, m.index, data);
    upload.next += 1;
    upload.received += data.length;
    if (!m.final) {
      session.send({ type: 'ok', re: m.id });
      return;
    }
    if (upload.received !== upload.file.size) {
      await this.abortUpload(upload);
      throw new RequestError('BAD_REQUEST', 'less data than the offered size; upload cancelled');
    }
    await deps.store.completeFile(upload.file.id);
    this.uploads.delete(upload.file.id);
    const file = { ...upload.file, complete: true };
    session.send({ type: 'ok', re: m.id });
    this.announce({ file, message: offered(file) });
  }

  async accept(session: Session, m: ClientMessageOf<'file_accept'>): Promise<void> {
    const user = requireUser(session);
    const deps = this.deps;
    const file = await this.receivable(user, m.fileId);
    const first = await deps.store.getFileChunk(file.id, 0);
    if (!first) throw new RequestError('NOT_FOUND', 'file has no data');
    await deps.store.markFileHandled(file.id, user.name, 'accepted');
    session.send({ type: 'ok', re: m.id });
    this.status(file, user.name, 'accepted');
    const list = this.downloads.get(session) ?? [];
    list.push({ file, session, user: user.name, index: 0, chunk: first });
    this.downloads.set(session, list);
    session.onWritable = () => this.pump(session);
    this.pump(session);
  }

  async decline(session: Session, m: ClientMessageOf<'file_decline'>): Promise<void> {
    const user = requireUser(session);
    const file = await this.receivable(user, m.fileId);
    await this.deps.store.markFileHandled(file.id, user.name, 'declined');
    session.send({ type: 'ok', re: m.id });
    this.status(file, user.name, 'declined');
  }

  async cancel(session: Session, m: ClientMessageOf<'file_cancel'>): Promise<void> {
    const user = requireUser(session);
    const deps = this.deps;
    const file = this.uploads.get(m.fileId)?.file ?? (await deps.store.getFile(m.fileId));
    if (!file) throw new RequestError('NOT_FOUND', 'no such file');
    if (file.from === user.name) {
      this.uploads.delete(file.id);
      for (const [s, list] of this.downloads)
        this.setDownloads(
          s,
          list.filter((d) => d.file.id !== file.id),
        );
      await deps.store.deleteFile(file.id);
      session.send({ type: 'ok', re: m.id });
      const by = { fileId: file.id, by: user.name, ...(m.reason !== undefined ? { reason: m.reason } : {}) };
      this.announce({ file, message: { type: 'file_cancelled', ...by } });
      return;
    }
    await this.receivable(user, file.id);
    for (const s of user.sessions) {
      const list = this.downloads.get(s);
      if (list)
        this.setDownloads(
          s,
          list.filter((d) => d.file.id !== file.id),
        );
    }
    await deps.store.markFileHandled(file.id, user.name, 'declined');
    session.send({ type: 'ok', re: m.id });
    this.status(file, user.name, 'cancelled');
  }

  /** The recipient checked the file's hash and saved it: now it counts as downloaded. */
  async received(session: Session, m: ClientMessageOf<'file_received'>): Promise<void> {
    const user = requireUser(session);
    const file = await this.receivable(user, m.fileId);
    const store = this.deps.store;
    // Only a download this recipient accepted can be confirmed, and only once.
    const how = await store.fileHandling(file.id, user.name);
    if (how !== 'accepted' && how !== 'downloaded') throw new RequestError('BAD_REQUEST', 'accept the file before confirming it');
    session.send({ type: 'ok', re: m.id });
    if (how === 'downloaded') return;
    await store.markFileHandled(file.id, user.name, 'downloaded');
    this.status(file, user.name, 'downloaded');
  }

  async pending(session: Session, m: ClientMessageOf<'files_pending'>): Promise<void> {
    const user = requireUser(session);
    const files = (await this.pendingFor(user.name)).map((f) => {
      const { type: _type, ...rest } = offered(f);
      return rest;
    });
    session.send({ type: 'files', re: m.id, files });
  }

  /** At login: offers every complete file still waiting for the user. */
  async offerPending(session: Session, name: string): Promise<void> {
    for (const file of await this.pendingFor(name)) session.send(offered(file));
  }

  /** A connection closed: its downloads stop, its unfinished uploads are dropped. */
  sessionClosed(session: Session): void {
    this.downloads.delete(session);
    for (const upload of [...this.uploads.values()]) {
      if (upload.session !== session) continue;
      this.abortUpload(upload).catch((error: unknown) => this.deps.logger.error('file_abort_failed', { error }));
    }
  }

  private async pendingFor(name: string): Promise<StoredFile[]> {
    return (await this.deps.store.pendingFilesFor(name)).filter((f) => f.from !== name).slice(0, 1000);
  }

  /** The file, if `user` is one of its recipients and it is complete; NOT_FOUND otherwise. */
  private async receivable(user: User, fileId: string): Promise<StoredFile> {
    const file = await this.deps.store.getFile(fileId);
    const mine = file?.complete && file.from !== user.name && (file.room !== null ? user.rooms.has(file.room) : file.to === user.name);
    if (!file || !mine) throw new RequestError('NOT_FOUND', 'no such file for you');
    return file;
  }

  /** Sends a file event to its audience here, and tells the other nodes. */
  private announce(event: FileEvent): void {
    this.deps.tell?.(event);
    this.deliverEvent(event);
  }

  /** A file event, for this node's sessions of its audience (told by another node, or made here). */
  deliverEvent(event: FileEvent): void {
    const { deps } = this;
    if ('file' in event) deps.fanout.broadcast(event.message, this.recipients(event.file));
    else {
      const sender = deps.online.get(event.sender);
      if (sender) deps.fanout.broadcast(event.message, [sender]);
    }
  }

  private recipients(file: Pick<StoredFile, 'from' | 'room' | 'to'>): User[] {
    const deps = this.deps;
    if (file.room !== null) return [...deps.rooms.members(file.room)].filter((u) => u.name !== file.from);
    const to = file.to !== null ? deps.online.get(file.to) : undefined;
    return to ? [to] : [];
  }

  private status(file: StoredFile, user: string, status: ServerMessageOf<'file_status'>['status']): void {
    this.announce({ sender: file.from, message: { type: 'file_status', fileId: file.id, user, status } });
  }

  /** Queues chunks while the session's backlog is small; resumes from onWritable. One pump per session at a time. */
  private pump(session: Session): void {
    if (this.pumping.has(session)) return;
    this.pumping.add(session);
    this.pumpChunks(session)
      .catch((error: unknown) => {
        this.deps.logger.error('file_download_failed', { error });
        this.downloads.delete(session);
        session.onWritable = null;
        session.send({
          type: 'error',
          code: 'INTERNAL',
          message: 'a file download stopped: the server could not read the file; accept it again',
        });
      })
      .finally(() => this.pumping.delete(session));
  }

  private async pumpChunks(session: Session): Promise<void> {
    for (;;) {
      const d = this.downloads.get(session)?.[0];
      if (!d || session.closed || session.backlog >= DOWNLOAD_WINDOW) return;
      const data = d.chunk!;
      const next = await this.deps.store.getFileChunk(d.file.id, d.index + 1);
      if (this.downloads.get(session)?.[0] !== d) continue; // cancelled while the store answered
      d.chunk = next;
      const final = next === undefined;
      session.send({ type: 'file_data', fileId: d.file.id, index: d.index, data: toBase64Url(data), final });
      d.index += 1;
      // Sent is not saved: the receiver may still fail the hash check or cancel (file_received).
      if (!final) continue;
      const list = this.downloads.get(session)!;
      list.shift();
      if (list.length === 0) this.setDownloads(session, list);
    }
  }

  private setDownloads(session: Session, list: Download[]): void {
    if (list.length > 0) {
      this.downloads.set(session, list);
      return;
    }
    this.downloads.delete(session);
    session.onWritable = null;
  }

  private async abortUpload(upload: Upload): Promise<void> {
    this.uploads.delete(upload.file.id);
    await this.deps.store.deleteFile(upload.file.id);
  }
}

function offered(file: StoredFile): ServerMessageOf<'file_offered'> {
  const target: Target = file.room !== null ? { room: file.room } : { user: file.to ?? '' };
  return {
    type: 'file_offered',
    fileId: file.id,
    from: file.from,
    target,
    size: file.size,
    ...(file.name !== null ? { name: file.name } : {}),
    ...(file.sha512 !== null ? { sha512: file.sha512 } : {}),
    ts: file.createdAt,
  };
}
