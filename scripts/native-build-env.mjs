// better-sqlite3 compiles from source on machines without a reachable prebuilt binary. node-gyp
// then downloads Node's headers unless told where the installed ones are: point it at them.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** `env` with `npm_config_nodedir` set to this Node's headers, when they are installed and it is not set yet. */
export function withNodeHeaders(env) {
  const prefix = dirname(dirname(process.execPath));
  if (env.npm_config_nodedir || !existsSync(join(prefix, 'include', 'node', 'node.h'))) return env;
  return { ...env, npm_config_nodedir: prefix };
}
