// Node 20's mkdirSync(path, { recursive: true }) loops forever when the kernel answers ENOENT for a
// directory that cannot be made under an existing parent (/proc, /sys): hushd hung at start at
// full CPU, deaf even to SIGTERM. Each missing directory is made on its own instead, so that such
// an answer is an error, said in words (failure-words.ts).
import { mkdirSync, statSync, type Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** Makes `path` and any missing parents with `mode`; an existing directory is left as it is. */
export function makeDirs(path: string, mode = 0o700): void {
  const missing: string[] = [];
  for (let dir = resolve(path); ; dir = dirname(dir)) {
    const found = stat(dir);
    if (found?.isDirectory()) break;
    if (found) mkdirSync(dir); // a file in the way: mkdir's own EEXIST names it
    missing.push(dir);
    if (dirname(dir) === dir) break;
  }
  for (const dir of missing.reverse()) {
    try {
      mkdirSync(dir, { mode });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || !statSync(dir).isDirectory()) throw err; // made meanwhile: fine
    }
  }
}

/** What is at `path`: undefined when nothing is (or a file above it is in the way, found next). */
function stat(path: string): Stats | undefined {
  try {
    return statSync(path, { throwIfNoEntry: false });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw err;
  }
}
