// Entry of the load-generator process (forked by the orchestrator; never the server's process).
import { fileTransfer } from './file-transfer.js';
import { serveIpc } from './ipc.js';
import * as load from './loadgen.js';
import { diagnosticHandlers } from './diagnostics.js';
import { processUsage } from './target.js';

export const loadgenHandlers = {
  fanoutSetup: load.fanoutSetup,
  fanoutFixed: load.fanoutFixed,
  fanoutSaturate: load.fanoutSaturate,
  fanoutClose: load.fanoutClose,
  registerUsers: load.registerUsers,
  handshakes: load.handshakes,
  passwordLogins: load.passwordLogins,
  idleOpen: load.idleOpen,
  idleClose: (_: Record<string, never>) => load.idleClose(),
  historyFetch: load.historyFetch,
  fileTransfer,
  usage: (_: Record<string, never>) => processUsage(),
  ...diagnosticHandlers,
  exit: async (_: Record<string, never>) => {
    await load.fanoutClose();
    await load.idleClose();
    setImmediate(() => process.exit(0));
    return true;
  },
};
export type LoadgenHandlers = typeof loadgenHandlers;

if (process.send) serveIpc(loadgenHandlers);
