import { Session } from 'node:inspector/promises';

// In-process CPU profiling over IPC: the orchestrator profiles exactly a measured window of the
// server (the same data as `node --cpu-prof`, which covers the whole life of the process).

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

let session: Session | null = null;

export async function profileStart(): Promise<void> {
  session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
}

export async function profileStop(): Promise<CpuProfile> {
  if (!session) throw new Error('profiler not started');
  const { profile } = (await session.post('Profiler.stop')) as unknown as { profile: CpuProfile };
  session.disconnect();
  session = null;
  return profile;
}

export interface ProfileEntry {
  name: string;
  selfPct: number;
}

function frameName({ functionName, url, lineNumber }: ProfileNode['callFrame']): string {
  const file = url
    .replace(/^file:\/\//, '')
    .split('/')
    .slice(-2)
    .join('/');
  return `${functionName || '(anonymous)'} ${file ? `${file}:${lineNumber + 1}` : ''}`.trim();
}

/**
 * Self time by function (top `limit`) and by area (package or runtime), as % of samples (of the
 * busy ones with `withoutIdle`).
 */
export function summariseProfile(
  profile: CpuProfile,
  limit = 12,
  options: { withoutIdle?: boolean } = {},
): { functions: ProfileEntry[]; areas: ProfileEntry[] } {
  const byFunction = new Map<string, number>();
  const byArea = new Map<string, number>();
  let total = 0;
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    if (hits === 0 || (options.withoutIdle && node.callFrame.functionName === '(idle)')) continue;
    total += hits;
    const { functionName, url } = node.callFrame;
    const name = frameName(node.callFrame);
    byFunction.set(name, (byFunction.get(name) ?? 0) + hits);
    const area = areaOf(functionName, url);
    byArea.set(area, (byArea.get(area) ?? 0) + hits);
  }
  const top = (m: Map<string, number>, n: number) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, hits]) => ({ name, selfPct: Math.round((hits / total) * 1000) / 10 }));
  return { functions: top(byFunction, limit), areas: top(byArea, 12) };
}

function areaOf(functionName: string, url: string): string {
  if (functionName === '(idle)') return 'idle';
  if (functionName === '(garbage collector)') return 'garbage collector';
  if (functionName === '(program)') return 'native (program)';
  if (!url) return `native: ${functionName || '?'}`;
  const pkg = /packages\/([a-z-]+)\//.exec(url)?.[1];
  if (pkg) return `@hush/${pkg}`;
  const mod = /node_modules\/(?:\.pnpm\/)?(@?[a-z0-9._-]+)/.exec(url)?.[1];
  if (mod) return mod.replace(/@\d.*$/, '');
  if (url.startsWith('node:')) return `node: ${url.slice(5).split('/')[0]}`;
  return url.split('/').slice(-1)[0] ?? url;
}

/** Total time (self and callees, each sample counted once per function however deep the recursion), top `limit`, as % of busy samples. */
export function totalTimes(profile: CpuProfile, limit = 25): ProfileEntry[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const totals = new Map<string, number>();
  let busy = 0;
  for (const n of profile.nodes) {
    const hits = n.hitCount ?? 0;
    if (hits === 0 || n.callFrame.functionName === '(idle)') continue;
    busy += hits;
    const seen = new Set<string>();
    for (let id: number | undefined = n.id; id !== undefined; id = parent.get(id)) {
      const name = frameName(byId.get(id)!.callFrame);
      if (seen.has(name)) continue;
      seen.add(name);
      totals.set(name, (totals.get(name) ?? 0) + hits);
    }
  }
  return [...totals]
    .filter(([name]) => name !== '(root)')
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([name, hits]) => ({ name, selfPct: Math.round((hits / busy) * 1000) / 10 }));
}
