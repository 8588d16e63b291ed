import { profiled, withServer, type BenchContext } from '../context.js';
import { benchUsername } from '../devices.js';
import { round } from '../stats.js';
import { cpuBetween, machineSample, otherLoad } from '../target.js';

export interface RateResult {
  completed: number;
  failed: number;
  perSecond: number;
  serverCpuMsEach: number;
  /** Share of one core used by the server and by the load generator while it ran. */
  serverCpu: number;
  loadgenCpu: number;
  /** Cores used by other processes on the machine meanwhile, NaN off Linux. */
  otherLoad: number;
  failures: string[];
}
export interface HandshakeResults {
  handshake: RateResult;
  deviceLogin: RateResult;
  passwordLogin: RateResult & { scryptN: number };
}

/**
 * Connect + handshake (+ a returning device's key login), as many as fit in a few seconds, with
 * the server's CPU time per completion; then first password logins at the real scrypt cost.
 */
export async function runHandshakes(ctx: BenchContext): Promise<HandshakeResults> {
  const h = ctx.profile.handshakes;
  const pool = ctx.profile.devicePoolSize;
  const measured = await withServer(ctx, { mode: 'hush' }, async (server, target) => {
    const names = Array.from({ length: h.users }, (_, i) => benchUsername('hs', i));
    await server.api.seedUsers({ names, devicePoolSize: pool });
    const rate = async (mode: 'handshake' | 'device_login'): Promise<RateResult> => {
      ctx.log(`handshakes: ${mode}`);
      const before = await server.api.usage({});
      const m0 = machineSample();
      const r = await profiled(ctx, server, `handshake-${mode}`, () =>
        ctx.loadgen.api.handshakes({
          target,
          mode,
          durationMs: h.durationMs,
          concurrency: h.concurrency,
          names,
          devicePoolSize: pool,
          ...(h.maxCount !== undefined ? { maxCount: h.maxCount } : {}),
        }),
      );
      const after = await server.api.usage({});
      const cpu = cpuBetween(before, after);
      return {
        completed: r.completed,
        failed: r.failed,
        perSecond: r.perSecond,
        serverCpuMsEach: round(cpu.cpuMs / Math.max(1, r.completed), 3),
        serverCpu: round(cpu.utilisation, 3),
        loadgenCpu: r.loadgenCpu,
        otherLoad: round(otherLoad(m0, machineSample(), cpu.utilisation + r.loadgenCpu), 2),
        failures: r.failures,
      };
    };
    return { handshake: await rate('handshake'), deviceLogin: await rate('device_login') };
  });

  ctx.log('password logins at the default scrypt cost');
  const p = ctx.profile.passwordLogins;
  const passwordLogin = await withServer(ctx, { mode: 'hush', scryptN: 2 ** 17 }, async (server, target) => {
    const names = Array.from({ length: p.users }, (_, i) => benchUsername('pw', i));
    const reg = await ctx.loadgen.api.registerUsers({ target, names, devicePoolSize: pool, concurrency: p.concurrency });
    if (reg.registered !== names.length)
      throw new Error(`password logins: registered ${reg.registered}/${names.length}: ${reg.failures.join(', ')}`);
    const before = await server.api.usage({});
    const r = await ctx.loadgen.api.passwordLogins({ target, names, concurrency: p.concurrency });
    const after = await server.api.usage({});
    const cpu = cpuBetween(before, after);
    return {
      completed: r.completed,
      failed: names.length - r.completed,
      perSecond: r.perSecond,
      serverCpuMsEach: round(cpu.cpuMs / Math.max(1, r.completed), 1),
      serverCpu: round(cpu.utilisation, 3),
      loadgenCpu: Number.NaN,
      otherLoad: Number.NaN,
      failures: r.failures,
      scryptN: 2 ** 17,
    };
  });
  return { ...measured, passwordLogin };
}
