import { join } from 'node:path';
import { decodeBody, type DirectFileInfo } from './direct-body.js';
import { fileSafe } from './paths.js';
import { readOptional, writePrivateFile } from './secure-fs.js';

/** The sealed half of a file offer (key, name, size, hash) and the user who sealed it. */
export interface SealedOffer {
  from: string;
  file: DirectFileInfo;
}

/**
 * A transfer this process started and had not finished: a download's temporary file (removed at
 * the next start if the process died), or an upload (said at the next start: send it again).
 */
export type UnfinishedTransfer = { fileId: string; part: string } | { fileId: string; upload: string; to: string };

interface FileKeysFile {
  version: 1;
  offers: SealedOffer[];
  transfers?: UnfinishedTransfer[];
}

function isTransfer(t: unknown): t is UnfinishedTransfer {
  const o = t as Record<string, unknown> | null;
  if (typeof o?.fileId !== 'string') return false;
  return typeof o.part === 'string' || (typeof o.upload === 'string' && typeof o.to === 'string');
}

/**
 * The sealed halves of the file offers not answered yet, in one 0600 file per account replaced
 * atomically: the message that carried one opens only once (its key is gone after), so an offer
 * left for later would otherwise lose its key, name and hash at the next start. The same file
 * keeps the transfers not finished yet (see UnfinishedTransfer).
 */
export class FileKeyStore {
  private readonly offers = new Map<string, SealedOffer>();
  private readonly transfers = new Map<string, UnfinishedTransfer>();
  private writing: Promise<void> = Promise.resolve();

  private constructor(private readonly path: string) {}

  static async load(stateDir: string, user: string): Promise<FileKeyStore> {
    const store = new FileKeyStore(join(stateDir, `${fileSafe(user)}.filekeys.json`));
    const text = await readOptional(store.path);
    const f = text === undefined ? undefined : (JSON.parse(text) as Partial<FileKeysFile>);
    for (const o of f?.version === 1 && Array.isArray(f.offers) ? f.offers : []) {
      const body = decodeBody(JSON.stringify({ file: o?.file }));
      if (body && 'file' in body && typeof o.from === 'string') store.offers.set(body.file.fileId, { from: o.from, file: body.file });
    }
    for (const t of f?.version === 1 && Array.isArray(f.transfers) ? f.transfers : []) if (isTransfer(t)) store.transfers.set(t.fileId, t);
    return store;
  }

  all(): SealedOffer[] {
    return [...this.offers.values()];
  }

  keep(offer: SealedOffer): void {
    this.offers.set(offer.file.fileId, offer);
    this.save();
  }

  /** The offer was answered (saved, declined, cancelled or refused): its key is not kept. */
  drop(fileId: string): void {
    if (this.offers.delete(fileId)) this.save();
  }

  /** Transfers started and not finished (by this process, or by one that died). */
  unfinished(): UnfinishedTransfer[] {
    return [...this.transfers.values()];
  }

  /** A transfer starts: kept until `finished`, so a crash leaves a trace to clean up or to tell. */
  started(transfer: UnfinishedTransfer): Promise<void> {
    this.transfers.set(transfer.fileId, transfer);
    this.save();
    return this.writing;
  }

  finished(fileId: string): void {
    if (this.transfers.delete(fileId)) this.save();
  }

  /** Resolves once every change so far is on disk. */
  flushed(): Promise<void> {
    return this.writing;
  }

  private save(): void {
    const data: FileKeysFile = { version: 1, offers: this.all(), transfers: this.unfinished() };
    this.writing = this.writing.then(() => writePrivateFile(this.path, JSON.stringify(data))).catch(() => undefined); // a full disk costs an offer left for later, never a message
  }
}
