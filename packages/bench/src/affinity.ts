import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';

// CPU affinity of a process's main thread (Linux `taskset`): the fixed-rate phase puts the load
// generator's main thread on one CPU and the servers' on the other, as if the clients ran on
// another machine. Unpinned, a write to a loopback socket wakes the load generator on the
// server's own CPU (a synchronous wakeup), where it preempts the server mid-fan-out while the
// other CPU idles: every delivery's decryption then sits inside the server's flush. Only the main
// thread is pinned (`taskset -p` without `-a`): V8's compiler and GC threads still go where the
// scheduler puts them. Elsewhere (no taskset, one CPU) nothing is pinned.

/** The CPUs the fixed-rate phase uses for each role, or null when pinning is not possible here. */
export function pinningPlan(platform = process.platform, cpuCount = cpus().length): { servers: number; loadgen: number } | null {
  if (platform !== 'linux' || cpuCount < 2) return null;
  return { servers: 0, loadgen: 1 };
}

/** Sets the CPUs `pid`'s main thread may run on (null: all of them); false if taskset failed. */
export function setMainThreadCpus(pid: number, cpu: number | null): boolean {
  const list = cpu === null ? `0-${cpus().length - 1}` : String(cpu);
  const result = spawnSync('taskset', ['-c', '-p', list, String(pid)], { stdio: 'ignore' });
  return result.status === 0;
}
