import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { describe, expect, it } from 'vitest';
import { pinningPlan, setMainThreadCpus } from '../src/affinity.js';

describe('main-thread pinning for the fixed-rate phase', () => {
  it('plans the servers and the load generator on different CPUs, and nothing where it cannot pin', () => {
    expect(pinningPlan('linux', 2)).toEqual({ servers: 0, loadgen: 1 });
    expect(pinningPlan('linux', 1)).toBeNull();
    expect(pinningPlan('darwin', 8)).toBeNull();
    expect(pinningPlan('win32', 8)).toBeNull();
  });

  // The plan says pinning works on this machine (Linux with 2+ CPUs, as in CI): check it does.
  it.runIf(pinningPlan() !== null)("pins a process's main thread to one CPU and frees it again", async () => {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
    try {
      const pid = child.pid!;
      const allowed = () => /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1];
      expect(setMainThreadCpus(pid, 1)).toBe(true);
      expect(allowed()).toBe('1');
      expect(setMainThreadCpus(pid, null)).toBe(true);
      expect(allowed()).toBe(`0-${cpus().length - 1}`);
    } finally {
      child.kill();
    }
  });
});
