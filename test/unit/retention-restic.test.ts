// Our retention policy against the real restic: the same snapshot times, the same policies,
// `restic forget --dry-run --json` decides, and our applyPolicy must keep exactly the same ones.
// Buckets are local time (as restic's): both run in a zone with daylight saving time.
process.env.TZ = 'Europe/Berlin';

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { applyPolicy, parseDuration, type RetentionPolicy } from '../../src/core/model/retention';
import { mapLimit } from '../../src/core/util/mapLimit';
import { tempDir } from '../helpers/tree';

const run = promisify(execFile);

/** Irregular local times over four years: gaps of hours to months, several a day, across DST changes and year ends. */
function snapshotTimes(): string[] {
  let seed = 17;
  const rand = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const out = new Set<string>();
  let t = new Date(2022, 11, 30, 22, 15, 0).getTime();
  const end = new Date(2026, 10, 20).getTime();
  const gapsHours = [0.5, 1.5, 3, 7, 20, 26, 50, 170, 400, 900];
  while (out.size < 60 && t < end) {
    const d = new Date(t);
    const pad = (n: number): string => String(n).padStart(2, '0');
    out.add(`${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`);
    t += gapsHours[Math.floor(rand() * gapsHours.length)]! * 3_600_000 + Math.floor(rand() * 3600) * 1000;
  }
  return [...out];
}

const policies: { flags: string[]; policy: RetentionPolicy }[] = [
  { flags: ['--keep-last', '5'], policy: { last: 5 } },
  { flags: ['--keep-hourly', '10'], policy: { hourly: 10 } },
  { flags: ['--keep-daily', '7'], policy: { daily: 7 } },
  { flags: ['--keep-weekly', '6'], policy: { weekly: 6 } },
  { flags: ['--keep-monthly', '12'], policy: { monthly: 12 } },
  { flags: ['--keep-yearly', '3'], policy: { yearly: 3 } },
  { flags: ['--keep-daily', '7', '--keep-weekly', '4', '--keep-monthly', '12', '--keep-yearly', '5'], policy: { daily: 7, weekly: 4, monthly: 12, yearly: 5 } },
  { flags: ['--keep-last', '3', '--keep-daily', '3'], policy: { last: 3, daily: 3 } },
  { flags: ['--keep-hourly', '30', '--keep-monthly', '2'], policy: { hourly: 30, monthly: 2 } },
  { flags: ['--keep-within', '1y2m'], policy: { within: parseDuration('1y2m') } },
  { flags: ['--keep-within', '45d'], policy: { within: parseDuration('45d') } },
  { flags: ['--keep-within', '2y5m7d3h', '--keep-last', '2'], policy: { within: parseDuration('2y5m7d3h'), last: 2 } },
  { flags: ['--keep-within', '3d', '--keep-weekly', '2'], policy: { within: parseDuration('3d'), weekly: 2 } },
  // More buckets than the history has: restic ≥ 0.16 also keeps the oldest snapshot.
  { flags: ['--keep-monthly', '100'], policy: { monthly: 100 } },
  { flags: ['--keep-yearly', '10', '--keep-weekly', '3'], policy: { yearly: 10, weekly: 3 } },
];

interface ResticSnapshot {
  time: string;
  short_id: string;
}
interface ForgetGroup {
  keep: ResticSnapshot[] | null;
  remove: ResticSnapshot[] | null;
  reasons: { snapshot: ResticSnapshot; counters: Record<string, number> }[] | null;
}

describe('retention policy matches restic forget', { timeout: 120_000 }, () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let snapshots: { id: string; time: Date }[] = [];
  let resticBefore016 = false;

  before(async () => {
    dir = tempDir('restic-policy-');
    env = { ...process.env, RESTIC_PASSWORD: 'test', RESTIC_REPOSITORY: path.join(dir, 'repo'), RESTIC_CACHE_DIR: path.join(dir, 'cache'), TZ: process.env.TZ };
    const version = (await run('restic', ['version'], { env })).stdout;
    const [major, minor] = (/restic (\d+)\.(\d+)/.exec(version) ?? []).slice(1).map(Number);
    resticBefore016 = major === 0 && minor! < 16;
    await fs.mkdir(path.join(dir, 'src'));
    await fs.writeFile(path.join(dir, 'src', 'a'), 'a');
    await run('restic', ['init', '-q'], { env });
    await mapLimit(snapshotTimes(), 6, (time) => run('restic', ['backup', '-q', '--host', 'h', '--time', time, path.join(dir, 'src')], { env }));
    const listed = JSON.parse((await run('restic', ['snapshots', '--json'], { env })).stdout) as ResticSnapshot[];
    snapshots = listed.map((s) => ({ id: s.short_id, time: new Date(s.time) }));
  });

  after(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('has about 60 distinct snapshot times', () => {
    assert.ok(snapshots.length >= 55, `${snapshots.length} snapshots`);
    assert.equal(new Set(snapshots.map((s) => s.time.getTime())).size, snapshots.length);
  });

  it('keeps and forgets the same snapshots for every policy', async () => {
    const results = await mapLimit(policies, 4, async ({ flags }) => {
      const out = (await run('restic', ['--no-lock', 'forget', '--dry-run', '--json', '--host', 'h', ...flags], { env, maxBuffer: 64 << 20 })).stdout;
      return JSON.parse(out.slice(out.indexOf('['))) as ForgetGroup[];
    });
    let forgotten = 0;
    policies.forEach(({ flags, policy }, i) => {
      const group = results[i]![0]!;
      const keep = new Set((group.keep ?? []).map((s) => s.short_id));
      if (resticBefore016) {
        // restic 0.16 added one rule: a count rule with count left at the end also keeps the
        // oldest snapshot. An older restic reports the counts left on its last reason.
        const left = group.reasons?.at(-1)?.counters ?? {};
        const oldest = [...snapshots].sort((a, b) => a.time.getTime() - b.time.getTime())[0]!;
        if (Object.values(left).some((n) => n > 0)) keep.add(oldest.id);
      }
      const ours = applyPolicy(snapshots, policy);
      const oursKept = ours.filter((d) => d.keep).map((d) => d.snapshot.id).sort();
      forgotten += ours.length - oursKept.length;
      assert.deepEqual(oursKept, [...keep].sort(), `policy ${flags.join(' ')}`);
    });
    assert.ok(forgotten > 200, 'the policies forget a good part of the snapshots');
  });
});
