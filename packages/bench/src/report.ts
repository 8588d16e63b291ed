import type { Pauses } from './pauses.js';
import type { GcRate } from './scenarios/fanout.js';
import type { PeersResult, PeerSide } from './scenarios/peers.js';
import type { ClusterCpu, ClusterResult } from './scenarios/cluster.js';
import type { BenchResults } from './bench.js';

// Turning results into the targets (met / missed), a console table and BENCHMARKS.md text.

export interface TargetCheck {
  target: string;
  measured: string;
  met: boolean | null;
}

const fmt = (n: number, digits = 0) =>
  Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : 'n/a';
const pct = (r: number, digits = 0) => (Number.isFinite(r) ? `${fmt(r * 100, digits)}%` : 'n/a');
const kib = (b: number) => `${fmt(b / 1024, 1)} KiB`;
const millions = (rates: number[]) => rates.map((r) => fmt(r / 1e6, 2)).join(', ');

export function checkTargets(r: BenchResults): TargetCheck[] {
  const checks: TargetCheck[] = [];
  for (const f of r.fanout) {
    if (f.n >= 100) {
      checks.push({
        target: `fan-out N=${f.n}: Hush >= 50% of raw deliveries/s`,
        measured: pct(f.throughputRatio, 1),
        met: f.throughputRatio >= 0.5,
      });
    }
    checks.push({
      target: `fan-out N=${f.n}: fixed-rate p99 <= 2x raw's`,
      measured: `${fmt(f.p99Ratio, 2)}x (${fmt(f.hush.fixed.p99Ms, 2)} vs ${fmt(f.raw.fixed.p99Ms, 2)} ms)`,
      met: Number.isFinite(f.p99Ratio) ? f.p99Ratio <= 2 : null,
    });
  }
  if (r.handshakes) {
    // The handshake target counts a returning device's whole way in: connect, handshake and key login.
    const { handshake: h, deviceLogin: d } = r.handshakes;
    checks.push({
      target: '>= 1,000 handshakes/s (with device key login)',
      measured: `${fmt(d.perSecond)}/s measured (${fmt(h.perSecond)}/s without the login); ${fmt(1000 / d.serverCpuMsEach)}/s per server core at ${fmt(d.serverCpuMsEach, 2)} ms CPU each`,
      met: d.perSecond >= 1000,
    });
  }
  for (const m of r.memory ?? []) {
    checks.push({
      target: `<= 16 KiB per idle connection (${fmt(m.connections)})`,
      measured: m.reached < m.connections ? `${kib(m.bytesPerConnection)} (reached ${fmt(m.reached)})` : kib(m.bytesPerConnection),
      met: m.reached < m.connections ? null : m.bytesPerConnection <= 16 * 1024,
    });
  }
  if (r.file) {
    checks.push(
      r.file.available
        ? {
            target: '10 MB file end to end < 1 s',
            measured: `${fmt(r.file.wallMs)} ms (${fmt(r.file.mbPerSec, 1)} MB/s)`,
            met: r.file.wallMs < 1000 && r.file.identical,
          }
        : { target: '10 MB file end to end < 1 s', measured: `not available: ${r.file.reason}`, met: null },
    );
  }
  return checks;
}

function table(head: string[], rows: string[][]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)];
}

/** The results as Markdown tables (also printed to the console). */
export function renderTables(r: BenchResults): string {
  const out: string[] = [];
  if (r.peers.length > 0) out.push(...renderPeers(r.peers));
  if (r.cluster) out.push(...renderCluster(r.cluster));
  if (r.fanout.length > 0) {
    out.push('### Room fan-out (one room, 64-byte messages)', '');
    out.push(
      ...table(
        [
          'N',
          'raw deliveries/s',
          'Hush deliveries/s',
          'Hush / raw',
          'each window raw / Hush (M/s)',
          'window',
          'raw p50 / p99 ms',
          'Hush p50 / p99 ms',
          'p99 Hush / raw',
          'server CPU raw / Hush',
          'loadgen CPU raw / Hush',
          'deliveries per write raw / Hush',
          'other load raw / Hush',
        ],
        r.fanout.map((f) => [
          String(f.n),
          fmt(f.raw.saturate.deliveriesPerSec),
          fmt(f.hush.saturate.deliveriesPerSec),
          pct(f.throughputRatio, 1),
          `${millions(f.raw.saturate.rounds)} / ${millions(f.hush.saturate.rounds)}`,
          String(f.hush.saturate.window),
          `${fmt(f.raw.fixed.p50Ms, 2)} / ${fmt(f.raw.fixed.p99Ms, 2)}`,
          `${fmt(f.hush.fixed.p50Ms, 2)} / ${fmt(f.hush.fixed.p99Ms, 2)}`,
          `${fmt(f.p99Ratio, 2)}x`,
          `${pct(f.raw.saturate.serverCpu)} / ${pct(f.hush.saturate.serverCpu)}`,
          `${pct(f.raw.saturate.loadgenCpu)} / ${pct(f.hush.saturate.loadgenCpu)}`,
          `${fmt(f.raw.saturate.deliveriesPerRecord, 1)} / ${fmt(f.hush.saturate.deliveriesPerRecord, 1)}`,
          `${fmt(f.raw.saturate.otherLoad, 2)} / ${fmt(f.hush.saturate.otherLoad, 2)} cores`,
        ]),
      ),
      '',
    );
  }
  if (r.fanout.length > 0) {
    const pause = (p: Pauses | null) => (p ? `${fmt(p.loopDelayP99Ms, 1)} / ${fmt(p.loopDelayMaxMs, 1)}` : 'n/a');
    const gc = (p: Pauses | null) =>
      p ? `${p.gcCount} / ${fmt(p.gcMaxMs, 1)}${p.gcMaxKind ? ` (${p.gcMaxKind})` : ''}, heap ${fmt(p.heapUsedMiB, 0)} MiB` : 'n/a';
    const rate = (g: GcRate) => `${fmt(g.fullPerSec, 1)} / ${fmt(g.msPerSec, 0)}`;
    out.push('Saturation windows, garbage collection per second of window (full collections / ms of GC pauses):', '');
    out.push(
      ...table(
        ['N', 'side', 'server', 'load generator'],
        r.fanout.flatMap((f) =>
          (['raw', 'hush'] as const).map((k) => {
            const g = f[k].saturate.gc;
            return [String(f.n), k === 'raw' ? 'raw' : 'Hush', rate(g.server), rate(g.loadgen)];
          }),
        ),
      ),
      '',
    );
    const pinned = r.fanout.every((f) => f.fixedPinned);
    out.push(
      `Fixed-rate phase, on servers and rooms of its own, before the saturation windows, after an unmeasured warm-up (messages: closed-loop burst + at the rate); ${
        pinned
          ? 'the main threads of the load generator and of the servers pinned to different CPUs'
          : 'main threads not pinned (that needs Linux, 2+ CPUs and taskset)'
      }. Where latency tails come from (event-loop delay p99 / max in ms; GC pauses count / longest in ms):`,
      '',
    );
    out.push(
      ...table(
        [
          'N',
          'side',
          'warm-up messages',
          'samples',
          'p50 / p99 / max ms',
          'server loop delay',
          'server GC',
          'loadgen loop delay',
          'loadgen GC',
        ],
        r.fanout.flatMap((f) =>
          (['raw', 'hush'] as const).map((k) => {
            const x = f[k].fixed;
            return [
              String(f.n),
              k === 'raw' ? 'raw' : 'Hush',
              `${fmt(x.warmup.burstSent)} + ${fmt(x.warmup.rateSent)}`,
              fmt(x.samples),
              `${fmt(x.p50Ms, 2)} / ${fmt(x.p99Ms, 2)} / ${fmt(x.maxMs, 2)}`,
              pause(x.serverPauses),
              gc(x.serverPauses),
              pause(x.loadgenPauses),
              gc(x.loadgenPauses),
            ];
          }),
        ),
      ),
      '',
    );
  }
  if (r.handshakes) {
    const h = r.handshakes;
    const connectionRow = (what: string, c: typeof h.handshake) => [
      what,
      fmt(c.perSecond),
      `${fmt(c.serverCpuMsEach, 3)} ms`,
      `${pct(c.serverCpu)} / ${pct(c.loadgenCpu)}`,
      `${fmt(c.otherLoad, 2)} cores`,
      fmt(c.completed),
      fmt(c.failed),
    ];
    out.push('### Handshakes and logins', '');
    out.push(
      ...table(
        ['what', 'per second', 'server CPU each', 'server CPU / loadgen CPU', 'other load', 'completed', 'failed'],
        [
          connectionRow('connect + handshake (+ ping)', h.handshake),
          connectionRow('connect + handshake + device_login', h.deviceLogin),
          [
            `first login with password (scrypt N=2^${Math.log2(h.passwordLogin.scryptN)})`,
            fmt(h.passwordLogin.perSecond, 2),
            `${fmt(h.passwordLogin.serverCpuMsEach, 1)} ms`,
            `${pct(h.passwordLogin.serverCpu)} / n/a`,
            'n/a',
            fmt(h.passwordLogin.completed),
            fmt(h.passwordLogin.failed),
          ],
        ],
      ),
      '',
      `Server capacity implied by its CPU time per handshake: ${fmt(1000 / h.handshake.serverCpuMsEach)}/s per core (handshake), ${fmt(1000 / h.deviceLogin.serverCpuMsEach)}/s (with device login).`,
      '',
    );
  }
  if (r.memory) {
    out.push('### Idle logged-in connections', '');
    out.push(
      ...table(
        [
          'connections',
          'accounts',
          'reached',
          'RSS cold / after warm-up',
          'RSS after',
          'RSS per connection',
          'RSS per connection added since the previous row',
          'JS heap / external per connection',
          'V8 heap reservation growth',
          'time to open',
        ],
        r.memory.map((m) => [
          fmt(m.connections),
          fmt(m.users),
          fmt(m.reached),
          `${fmt(m.rssCold / 2 ** 20, 1)} / ${fmt(m.rssBefore / 2 ** 20, 1)} MiB`,
          `${fmt(m.rssAfter / 2 ** 20, 1)} MiB`,
          kib(m.bytesPerConnection),
          Number.isFinite(m.marginalPerConnection) ? kib(m.marginalPerConnection) : 'n/a',
          `${kib(m.heapPerConnection)} / ${kib(m.externalPerConnection)}`,
          `${fmt(m.heapReservedGrowth / 2 ** 20, 1)} MiB`,
          `${fmt(m.openMs / 1000, 1)} s${m.stopReason ? ` (stopped: ${m.stopReason})` : ''}`,
        ]),
      ),
      '',
    );
  }
  if (r.file) {
    out.push('### File end to end (one recipient, full SDK)', '');
    out.push(
      r.file.available
        ? `${fmt(r.file.bytes / 1e6, 1)} MB in ${fmt(r.file.wallMs)} ms = ${fmt(r.file.mbPerSec, 1)} MB/s; byte-identical: ${r.file.identical ? 'yes' : 'NO'}`
        : `not available: ${r.file.reason}`,
      '',
    );
  }
  if (r.history) {
    const h = r.history;
    out.push(`### History (${fmt(h.rows)} messages in the database)`, '');
    out.push(
      ...table(
        ['what', 'result'],
        [
          [`stored/s, transactions of ${h.bulk.batch} (Store API)`, fmt(h.bulk.perSecond)],
          ['stored/s, one message per transaction (Store API)', fmt(h.single.perSecond)],
          ['page of 100 from the store, p50 / p99', `${fmt(h.storePage.p50Ms, 3)} / ${fmt(h.storePage.p99Ms, 3)} ms`],
          ['page of 100 over the network, p50 / p99', `${fmt(h.networkPage.p50Ms, 3)} / ${fmt(h.networkPage.p99Ms, 3)} ms`],
        ],
      ),
      '',
    );
  }
  if (r.sessions) {
    const s = r.sessions;
    const rot = s.room.rotation;
    out.push(`### End-to-end crypto (in-process, one core, ${s.textSize}-byte messages)`, '');
    out.push(
      ...table(
        ['what', 'result'],
        [
          ['session setups/s (X3DH start + first message + accept)', fmt(s.setupsPerSec)],
          ['direct messages sealed/s, one way', fmt(s.oneWay.sealsPerSec)],
          ['direct messages opened/s, one way', fmt(s.oneWay.opensPerSec)],
          ['direct messages sealed and opened/s, alternating (a DH step each)', fmt(s.alternating.messagesPerSec)],
          [
            `session state per contact after ${s.state.turns} turns (initiator / responder)`,
            `${fmt(s.state.initiatorBytes)} / ${fmt(s.state.responderBytes)} bytes`,
          ],
          ['room messages sealed/s (sender key: encrypt + sign)', fmt(s.room.sealsPerSec)],
          ['room messages verified and opened/s, per receiving device', fmt(s.room.opensPerSec)],
          ['inbound sender key state per (room, sending device)', `${fmt(s.room.inboundStateBytes)} bytes`],
          [
            `sender-key rotation, room of ${fmt(rot.devices)} devices (new key + ${fmt(rot.devices - 1)} session encrypts of ${rot.distributionBytes} bytes)`,
            `${fmt(rot.msEach, 1)} ms`,
          ],
        ],
      ),
      '',
    );
  }
  const checks = checkTargets(r);
  if (checks.length > 0) {
    out.push('### Targets (issue 7)', '');
    out.push(
      ...table(
        ['target', 'measured', 'status'],
        checks.map((c) => [c.target, c.measured, c.met === null ? 'not measured' : c.met ? 'met' : 'MISSED']),
      ),
      '',
    );
  }
  for (const p of r.profiles) {
    out.push(`### CPU profile: ${p.label}`, '');
    out.push(`By area: ${p.areas.map((a) => `${a.name} ${a.selfPct}%`).join(', ')}`, '');
    out.push(
      ...table(
        ['self %', 'function'],
        p.functions.map((f) => [String(f.selfPct), f.name.replace(/\|/g, '\\|')]),
      ),
      '',
    );
  }
  if (r.errors.length > 0) {
    out.push('### Errors', '', ...r.errors.map((e) => `- ${e.scenario}: ${e.message.split('\n')[0]}`), '');
  }
  return out.join('\n');
}

export function renderMachine(r: BenchResults): string {
  const m = r.machine;
  return [
    `- command: \`${r.command}\` (profile: ${r.profile}), started ${r.startedAt}, took ${Math.round(r.durationMs / 1000)} s`,
    `- machine: ${m.nproc} cores (${m.cpu}), Node ${m.node}, ${m.platform}, ulimit -n ${m.ulimitNoFile}`,
    ...r.notes.map((n) => `- ${n}`),
  ].join('\n');
}

const PEER_NAMES: Record<PeerSide['kind'], string> = {
  'hush-e2e': 'Hush, e2e room',
  'hush-open': 'Hush, open room',
  raw: 'raw ceiling',
  inspircd: 'inspircd (TLS)',
  ngircd: 'ngircd (TLS)',
};

/** The --peers tables: each server's figures, then Hush's as ratios to each other server's. */
function renderPeers(peers: PeersResult[]): string[] {
  const mb = (bytes: number) => `${fmt(bytes / 2 ** 20, 1)} MiB`;
  const out = ['### Room fan-out against IRC servers (one room, 64-byte messages, one server at a time)', ''];
  out.push(
    ...table(
      [
        'N',
        'server',
        'deliveries/s',
        'deliveries per server CPU-second',
        'server CPU (system share)',
        'loadgen CPU',
        'fixed rate: samples',
        'p50 / p99 ms',
        'server CPU (system share)',
        'RSS idle / peak',
        'problems',
      ],
      peers.flatMap((p) =>
        p.sides.map((s) => [
          String(p.n),
          PEER_NAMES[s.kind],
          fmt(s.deliveriesPerSec),
          fmt(s.deliveriesPerCpuSec),
          `${pct(s.serverCpu)} (${pct(s.systemShare)})`,
          pct(s.loadgenCpu),
          fmt(s.fixed.samples),
          `${fmt(s.fixed.p50Ms, 2)} / ${fmt(s.fixed.p99Ms, 2)}`,
          `${pct(s.fixed.serverCpu)} (${pct(s.fixed.systemShare)})`,
          `${mb(s.rssIdle)} / ${mb(s.rssPeak)}`,
          s.problems.join('; ') || 'none',
        ]),
      ),
    ),
    '',
    ...peers.flatMap((p) =>
      p.sides
        .filter((s) => s.checkpoints)
        .map((s) => {
          const c = s.checkpoints!;
          return `- N=${p.n}, ${PEER_NAMES[s.kind]}: WAL checkpoints over its whole run: ${fmt(c.worker)} in the worker thread (${fmt(c.catchUps)} while the store's calls were held past the WAL's bound, longest hold ${fmt(c.heldMaxMs, 2)} ms), ${fmt(c.onLoop)} on the event loop${c.onLoop > 0 ? ` (mean ${fmt(c.onLoopMs / c.onLoop, 2)} ms, longest ${fmt(c.onLoopMaxMs, 2)} ms)` : ''}.`;
        }),
    ),
    '',
    'Hush (e2e room, then open room) as a ratio to each other server (deliveries per CPU-second: higher is better for Hush; p99, fixed-rate CPU and RSS: lower is better):',
    '',
  );
  const ratio = (a: number, b: number, digits = 2) => (b > 0 ? `${fmt(a / b, digits)}x` : 'n/a');
  out.push(
    ...table(
      [
        'N',
        'Hush / against',
        'deliveries/s',
        'deliveries per CPU-second',
        'fixed-rate p99',
        'fixed-rate server CPU',
        'RSS idle',
        'RSS peak',
      ],
      peers.flatMap((p) =>
        p.sides
          .filter((hush) => hush.kind === 'hush-e2e' || hush.kind === 'hush-open')
          .flatMap((hush) =>
            p.sides
              .filter((s) => s !== hush && !(hush.kind === 'hush-open' && s.kind === 'hush-e2e'))
              .map((s) => [
                String(p.n),
                `${PEER_NAMES[hush.kind]} / ${PEER_NAMES[s.kind]}`,
                ratio(hush.deliveriesPerSec, s.deliveriesPerSec),
                ratio(hush.deliveriesPerCpuSec, s.deliveriesPerCpuSec),
                ratio(hush.fixed.p99Ms, s.fixed.p99Ms),
                ratio(hush.fixed.serverCpu, s.fixed.serverCpu),
                ratio(hush.rssIdle, s.rssIdle),
                ratio(hush.rssPeak, s.rssPeak),
              ]),
          ),
      ),
    ),
    '',
  );
  return out;
}

/** The cluster table: each setup's saturation and fixed-rate figures, CPU in cores (100% = one core). */
function renderCluster(c: ClusterResult): string[] {
  const cores = (v: number | null) => (v === null ? '-' : pct(v));
  const cpu = (x: ClusterCpu) =>
    `${pct(x.nodes)}${x.perNode.length > 1 ? ` (${x.perNode.map((v) => pct(v)).join(' + ')})` : ''} / ${cores(x.postgres)} / ${cores(x.nats)}`;
  const out = [
    `### Cluster: the e2e fan-out room on one machine (N = ${c.n}, clients spread over the nodes in turn, 64-byte messages)`,
    '',
  ];
  out.push(
    ...table(
      [
        'setup',
        'deliveries/s',
        'deliveries per node CPU-second (nodes summed)',
        'per cluster CPU-second (+ PostgreSQL, NATS)',
        'CPU nodes / PostgreSQL / NATS',
        'loadgen CPU',
        'deliveries per write',
        'other load',
        'fixed rate: samples',
        'p50 / p99 ms',
        'fixed-rate CPU nodes / PostgreSQL / NATS',
        'problems',
      ],
      c.sides.map((s) => [
        s.label,
        fmt(s.deliveriesPerSec),
        fmt(s.deliveriesPerNodeCpuSec),
        fmt(s.deliveriesPerClusterCpuSec),
        cpu(s.saturationCpu),
        pct(s.loadgenCpu),
        fmt(s.deliveriesPerRecord, 1),
        `${fmt(s.otherLoad, 2)} cores`,
        fmt(s.fixed.samples),
        `${fmt(s.fixed.p50Ms, 2)} / ${fmt(s.fixed.p99Ms, 2)}`,
        cpu(s.fixed.cpu),
        s.problems.join('; ') || 'none',
      ]),
    ),
    '',
    ...c.failed.map((f) => `- ${f.label}: not measured: ${f.error.split('\n')[0]}`),
  );
  if (c.failed.length > 0) out.push('');
  return out;
}
