// The README code blocks that claim to work, found by their fence's info string:
//   ```js runnable=NAME     run with node, exactly as printed, by the scenario called NAME
//   ```ts typecheck=NAME    type-checked with tsc against the installed packages
// Any other fence is prose and is left alone.

export type BlockMode = 'runnable' | 'typecheck';

export interface MarkedBlock {
  /** The README it came from, as given. */
  readme: string;
  /** 1-based line of the opening fence. */
  line: number;
  mode: BlockMode;
  name: string;
  code: string;
}

const LANGUAGE: Record<BlockMode, string> = { runnable: 'js', typecheck: 'ts' };

/** Every marked block of one README, in order; a malformed marker is an error, not a skipped block. */
export function markedBlocks(readme: string, text: string): MarkedBlock[] {
  const blocks: MarkedBlock[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)(.*)$/.exec(lines[i]!);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i] !== '```'; i++) body.push(lines[i]!);
    if (i === lines.length) throw new Error(`${readme}:${start + 1}: code block never closed`);
    const marks = open[2]!
      .trim()
      .split(/\s+/)
      .filter((word) => /^(runnable|typecheck)\b/.test(word));
    if (marks.length === 0) continue;
    const mark = /^(runnable|typecheck)=([a-z0-9-]+)$/.exec(marks[0]!);
    if (marks.length > 1 || !mark) {
      throw new Error(`${readme}:${start + 1}: write one marker as runnable=NAME or typecheck=NAME, not "${open[2]!.trim()}"`);
    }
    const mode = mark[1] as BlockMode;
    if (open[1] !== LANGUAGE[mode]) {
      throw new Error(`${readme}:${start + 1}: a ${mode} block must be \`\`\`${LANGUAGE[mode]}, not \`\`\`${open[1]}`);
    }
    blocks.push({ readme, line: start + 1, mode, name: mark[2]!, code: `${body.join('\n')}\n` });
  }
  const seen = new Set<string>();
  for (const b of blocks) {
    const key = `${b.mode}=${b.name}`;
    if (seen.has(key)) throw new Error(`${readme}:${b.line}: a second ${key} block`);
    seen.add(key);
  }
  return blocks;
}
