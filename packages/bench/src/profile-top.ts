// `node --import tsx src/profile-top.ts <file.cpuprofile> [count]`: a .cpuprofile summed by
// function (self time and total time, % of non-idle samples) and by area, for reading profiles of
// `pnpm bench --cpu-profile` (or `node --cpu-prof`) without a browser.
import { readFileSync } from 'node:fs';
import { summariseProfile, totalTimes, type CpuProfile } from './profile.js';

const [file, count = '25'] = process.argv.slice(2);
if (!file) {
  console.error('usage: profile-top <file.cpuprofile> [count]');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
const limit = Number(count);
const { functions, areas } = summariseProfile(profile, limit, { withoutIdle: true });
const pad = (pct: number) => `${pct.toFixed(1).padStart(5)}%`;
console.log('self time (of busy samples):');
for (const f of functions) console.log(`  ${pad(f.selfPct)}  ${f.name}`);
console.log('total time, self and callees (of busy samples):');
for (const f of totalTimes(profile, limit)) console.log(`  ${pad(f.selfPct)}  ${f.name}`);
console.log('areas:');
for (const a of areas) console.log(`  ${pad(a.selfPct)}  ${a.name}`);
