// file_offer ... file_received: the requests of the file relay (files.ts holds the transfers).
import type { ClientMessageOf } from '@hush/protocol';
import { requireUser } from './membership.js';
import type { ServerContext } from './context.js';
import type { Session } from './session.js';

export type FileRequest = ClientMessageOf<
  'file_offer' | 'file_chunk' | 'file_accept' | 'file_decline' | 'file_cancel' | 'files_pending' | 'file_received'
>;

export function handleFileRequest(ctx: Pick<ServerContext, 'files'>, session: Session, m: FileRequest): Promise<void> {
  const user = requireUser(session);
  switch (m.type) {
    case 'file_offer':
      return ctx.files.offer(user, session, m);
    case 'file_chunk':
      return ctx.files.chunk(user, session, m);
    case 'file_accept':
      return ctx.files.accept(user, session, m);
    case 'file_decline':
      return ctx.files.decline(user, session, m);
    case 'file_cancel':
      return ctx.files.cancel(user, session, m);
    case 'files_pending':
      return ctx.files.pending(user, session, m);
    case 'file_received':
      return ctx.files.received(user, session, m);
  }
}
