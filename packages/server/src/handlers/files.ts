// file_offer ... file_received: the requests of the file relay (files.ts holds the transfers).
import type { ClientMessageOf } from '@hush/protocol';
import { requireUser } from './membership.js';
import type { ServerContext, Session } from './context.js';

type Files = Pick<ServerContext, 'files'>;

export function handleFileOffer(ctx: Files, session: Session, m: ClientMessageOf<'file_offer'>): void {
  ctx.files.offer(requireUser(session), session, m);
}

export function handleFileChunk(ctx: Files, session: Session, m: ClientMessageOf<'file_chunk'>): void {
  ctx.files.chunk(requireUser(session), session, m);
}

export function handleFileAccept(ctx: Files, session: Session, m: ClientMessageOf<'file_accept'>): void {
  ctx.files.accept(requireUser(session), session, m);
}

export function handleFileDecline(ctx: Files, session: Session, m: ClientMessageOf<'file_decline'>): void {
  ctx.files.decline(requireUser(session), session, m);
}

export function handleFileCancel(ctx: Files, session: Session, m: ClientMessageOf<'file_cancel'>): void {
  ctx.files.cancel(requireUser(session), session, m);
}

export function handleFilesPending(ctx: Files, session: Session, m: ClientMessageOf<'files_pending'>): void {
  ctx.files.pending(requireUser(session), session, m);
}

export function handleFileReceived(ctx: Files, session: Session, m: ClientMessageOf<'file_received'>): void {
  ctx.files.received(requireUser(session), session, m);
}
