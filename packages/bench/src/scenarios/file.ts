import { withServer, type BenchContext } from '../context.js';
import type { FileResult } from '../file-transfer.js';

/** A file of `bytes` end to end to one recipient, or why that cannot be measured yet. */
export async function runFile(ctx: BenchContext): Promise<FileResult> {
  ctx.log(`file: ${ctx.profile.file.bytes} bytes end to end`);
  try {
    return await withServer(ctx, { mode: 'hush' }, (_server, target) =>
      ctx.loadgen.api.fileTransfer({ target, bytes: ctx.profile.file.bytes, timeoutMs: 120_000 }),
    );
  } catch (error) {
    return { available: false, reason: `failed: ${(error as Error).message.split('\n')[0] ?? 'unknown'}` };
  }
}
