// The pure parts of retention: prune plans (deferral, fees, savings, the needs hook), durations
// and ISO weeks. The policy itself is compared with restic in retention-restic.test.ts.
process.env.TZ = 'UTC';

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { planPrune, pruneTotals } from '../../src/core/jobs/prune';
import { freshness } from '../../src/core/jobs/freshness';
import type { SnapshotInfo } from '../../src/core/jobs/snapshots';
import { applyPolicy, formatDuration, isoWeek, parseDuration } from '../../src/core/model/retention';

const GiB = 1024 ** 3;
const day = 86_400_000;
const now = new Date('2027-01-01T00:00:00Z');

function snap(id: string, daysAgo: number, extra: Partial<SnapshotInfo> = {}): SnapshotInfo {
  const time = new Date(now.getTime() - daysAgo * day);
  return {
    id,
    time,
    host: 'h',
    sources: ['/a'],
    set: '["h",["/a"]]',
    label: id,
    format: 1,
    needs: [id],
    archive: { size: 100 * GiB, storageClass: 'DEEP_ARCHIVE', uploaded: time },
    ...extra,
  };
}

const actions = (plan: ReturnType<typeof planPrune>): Record<string, string> =>
  Object.fromEntries(plan.flatMap((s) => s.items).map((i) => [i.snapshot.id, i.action]));

describe('planPrune', () => {
  const list = [snap('s1', 1), snap('s2', 100), snap('s3', 200), snap('s4', 300)];

  it('defers what is younger than its class minimum, with the date and the fee; the rest saves its monthly cost', () => {
    const plan = planPrune(list, { policy: { last: 1 }, now });
    assert.deepEqual(actions(plan), { s1: 'keep', s2: 'defer', s3: 'delete', s4: 'delete' });
    const s2 = plan[0]!.items[1]!;
    assert.equal(s2.minimumEnds?.toISOString(), '2027-03-22T00:00:00.000Z'); // uploaded 2026-09-23 + 180 days
    assert.equal(s2.fee.toFixed(4), ((100 * 0.00099 * 80) / 30).toFixed(4)); // 80 of 180 days left
    const t = pruneTotals(plan);
    assert.deepEqual({ delete: t.delete, defer: t.defer, keep: t.keep, fees: t.fees }, { delete: 2, defer: 1, keep: 1, fees: 0 });
    assert.equal(t.monthly.toFixed(4), (2 * 100 * 0.00099).toFixed(4));
  });

  it('--allow-early-deletion deletes young ones and carries the fee', () => {
    const plan = planPrune(list, { policy: { last: 1 }, now, allowEarlyDeletion: true });
    assert.deepEqual(actions(plan), { s1: 'keep', s2: 'delete', s3: 'delete', s4: 'delete' });
    assert.ok(pruneTotals(plan).fees > 0.26 && pruneTotals(plan).fees < 0.27);
  });

  it('never deletes what a retained snapshot needs, transitively, and says who needs it', () => {
    // A chain: s1 needs s3, s3 needs s4 (a base archive); s2 stands alone.
    const chain: Record<string, string[]> = { s1: ['s1', 's3'], s2: ['s2'], s3: ['s3', 's4'], s4: ['s4'] };
    const plan = planPrune(list, { policy: { last: 1 }, now, allowEarlyDeletion: true, needs: (s) => chain[s.id]! });
    assert.deepEqual(actions(plan), { s1: 'keep', s2: 'delete', s3: 'needed', s4: 'needed' });
    assert.deepEqual(plan[0]!.items[2]!.reasons, ['s1']);
    assert.deepEqual(plan[0]!.items[3]!.reasons, ['s3']);
  });

  it('keeps the archives a format 2 snapshot names in its needs, without a hook', () => {
    const chained = [snap('s1', 1, { format: 2, needs: ['s3', 's1'] }), snap('s2', 2), snap('s3', 300)];
    assert.deepEqual(actions(planPrune(chained, { policy: { last: 1 }, now, allowEarlyDeletion: true })), { s1: 'keep', s2: 'delete', s3: 'needed' });
  });

  it('keeps what a deferred snapshot needs, and everything outside the host/path filter', () => {
    const other = snap('o1', 400, { host: 'other', set: '["other",["/a"]]' });
    const plan = planPrune([...list, other], { policy: { last: 1 }, now, needs: (s) => (s.id === 's2' ? ['s2', 's4'] : [s.id]), filter: { host: 'h' } });
    assert.deepEqual(actions(plan), { s1: 'keep', s2: 'defer', s3: 'delete', s4: 'needed' });
  });

  it('decides each source set on its own', () => {
    const b = [snap('b1', 10, { sources: ['/b'], set: 'b' }), snap('b2', 250, { sources: ['/b'], set: 'b' })];
    const plan = planPrune([...list, ...b], { policy: { last: 1 }, now });
    assert.equal(plan.length, 2);
    assert.deepEqual(actions(plan), { s1: 'keep', s2: 'defer', s3: 'delete', s4: 'delete', b1: 'keep', b2: 'delete' });
  });
});

describe('retention policy details', () => {
  it('parses restic durations and refuses anything else', () => {
    assert.deepEqual(parseDuration('2y5m7d3h'), { years: 2, months: 5, days: 7, hours: 3 });
    assert.deepEqual(parseDuration('26h'), { years: 0, months: 0, days: 0, hours: 26 });
    assert.equal(formatDuration(parseDuration('1y6m')), '1y6m');
    for (const bad of ['', '5', '3w', '1.5d', '-2d', 'd3']) assert.throws(() => parseDuration(bad), /is not a duration/, bad);
  });

  it('numbers ISO weeks as Go does around year ends', () => {
    assert.deepEqual(isoWeek(new Date(2021, 0, 3)), { year: 2020, week: 53 });
    assert.deepEqual(isoWeek(new Date(2024, 11, 30)), { year: 2025, week: 1 });
    assert.deepEqual(isoWeek(new Date(2026, 0, 1)), { year: 2026, week: 1 });
    assert.deepEqual(isoWeek(new Date(2027, 0, 3)), { year: 2026, week: 53 });
  });

  it('counts a snapshot kept for several reasons once per rule', () => {
    const snaps = [0, 1, 2, 40].map((d) => ({ id: `d${d}`, time: new Date(now.getTime() - d * day - 3_600_000) }));
    const decided = applyPolicy(snaps, { last: 1, daily: 2, monthly: 2 }, now);
    assert.deepEqual(decided.map((d) => [d.snapshot.id, d.reasons]), [
      ['d0', ['last snapshot', 'daily snapshot', 'monthly snapshot']],
      ['d1', ['daily snapshot']],
      ['d2', []],
      ['d40', ['monthly snapshot']],
    ]);
  });

  it('reads a count of -1 as every bucket (restic 0.16)', () => {
    const snaps = [0, 0.5, 1, 2, 2.2, 400].map((d) => ({ id: `d${d}`, time: new Date(now.getTime() - d * day - 3_600_000) }));
    assert.deepEqual(applyPolicy(snaps, { daily: -1 }, now).filter((d) => d.keep).map((d) => d.snapshot.id), ['d0', 'd1', 'd2', 'd400']);
  });

  it('ignores snapshots in the future when measuring --keep-within', () => {
    const snaps = [{ id: 'future', time: new Date(now.getTime() + 10 * day) }, { id: 'now', time: new Date(now.getTime() - day) }, { id: 'old', time: new Date(now.getTime() - 5 * day) }];
    assert.deepEqual(applyPolicy(snaps, { within: parseDuration('3d') }, now).map((d) => d.keep), [true, true, false]);
  });
});

describe('freshness', () => {
  it('is stale exactly when the newest snapshot is as old as the limit', () => {
    const at = (h: number): SnapshotInfo => snap(`h${h}`, h / 24);
    assert.equal(freshness([at(26), at(30)], now, parseDuration('26h')).stale, 1);
    assert.equal(freshness([at(25.99), at(30)], now, parseDuration('26h')).stale, 0);
    const r = freshness([at(2), at(30)], now, parseDuration('26h'));
    assert.equal(r.sets[0]!.newest.id, 'h2');
    assert.equal(r.sets[0]!.ageSeconds, 7200);
  });
});
