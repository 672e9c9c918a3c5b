import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { likelyWindowStart, nextCheckDelay, type PollPlan } from '../../src/core/model/restorePolling';
import { restoreTime } from '../../src/core/model/restoreTimes';
import { MemoryPendingStore, RestoreTracker } from '../../src/core/jobs/restoreTracker';
import { LocalStore } from '../../src/core/store/local/localStore';
import { tempDir } from '../helpers/tree';

const min = 60_000;
const hour = 60 * min;

/** The times (ms after the request) of every check from the request until `until`, as the tracker makes them. */
function checks(plan: PollPlan, until: number): number[] {
  const out: number[] = [];
  for (let t = 0; t <= until; t += nextCheckDelay(plan, plan.requestedAt + t)) out.push(t);
  return out;
}

/** How late a restore ready at `readyAt` is seen: the first check at or after it, minus it. */
function lateness(plan: PollPlan, readyAt: number): number {
  return checks(plan, readyAt + 24 * hour).find((t) => t >= readyAt)! - readyAt;
}

function plan(storageClass: string, tier: string, interval = 15 * min): PollPlan {
  return { requestedAt: Date.UTC(2026, 10, 23, 8), expectedMs: restoreTime(storageClass, tier)!.hours * hour, interval };
}

describe('restore poll timing', () => {
  it('Deep Archive Standard: two checks soon after the request, sparse ones, then every 15 minutes from 9 h', () => {
    const p = plan('DEEP_ARCHIVE', 'Standard');
    const times = checks(p, 14 * hour);
    assert.deepEqual(times.slice(0, 3), [0, 15 * min, 30 * min], 'soon after the request');
    const sparse = times.filter((t) => t > 30 * min && t < 9 * hour);
    assert.ok(sparse.length <= 5, `few checks before the window: ${sparse.map((t) => t / hour)}`);
    assert.ok(sparse.every((t, i) => i === 0 || t - sparse[i - 1]! <= 2 * hour), 'at most 2 hours apart');
    assert.ok(times.includes(9 * hour), 'a check exactly when the window opens');
    const inWindow = times.filter((t) => t >= 9 * hour && t <= 12 * hour);
    assert.ok(inWindow.every((t, i) => i === 0 || t - inWindow[i - 1]! === 15 * min), 'every interval in the window');
    const after = times.filter((t) => t > 12 * hour);
    assert.ok(after.every((t, i) => i === 0 || t - after[i - 1]! === 30 * min), 'every 30 minutes past the expected time');
    assert.ok(times.length < 30, `${times.length} checks in 14 hours`);
  });

  it('is never hours late: at most one interval inside the window, 30 minutes past it, 2 hours before it', () => {
    const p = plan('DEEP_ARCHIVE', 'Standard');
    for (let ready = 9 * hour; ready <= 12 * hour; ready += 7 * min) assert.ok(lateness(p, ready) <= 15 * min, `ready at ${ready / hour} h`);
    for (let ready = 12 * hour; ready <= 20 * hour; ready += 11 * min) assert.ok(lateness(p, ready) <= 30 * min, `ready at ${ready / hour} h`);
    for (let ready = 1; ready <= 9 * hour; ready += 13 * min) assert.ok(lateness(p, ready) <= 2 * hour, `ready at ${ready / hour} h`);
  });

  it('Bulk (48 h) opens its window 3 hours before; S3 Glacier tiers are shorter', () => {
    assert.equal(likelyWindowStart(48 * hour), 45 * hour);
    const bulk = plan('DEEP_ARCHIVE', 'Bulk');
    assert.ok(checks(bulk, 50 * hour).includes(45 * hour));
    assert.ok(lateness(bulk, 47 * hour + 1) <= 15 * min);
    assert.ok(checks(bulk, 45 * hour).length <= 26, 'about one check every 2 hours before the window');
    const glacier = plan('GLACIER', 'Standard');
    assert.equal(likelyWindowStart(glacier.expectedMs), 3.75 * hour);
    assert.ok(lateness(glacier, 3 * hour) <= 45 * min);
    const expedited = plan('GLACIER', 'Expedited', 60_000);
    assert.deepEqual(checks(expedited, 10 * min).slice(0, 5), [0, min, 2 * min, 4.5 * min, 5.5 * min], 'minutes apart: the restore is due within minutes');
  });

  it('scales with a short interval (tests, impatient users) and keeps at least 100 ms between checks', () => {
    const p = plan('DEEP_ARCHIVE', 'Standard', 5000);
    assert.equal(nextCheckDelay(p, p.requestedAt + 60_000), 40_000, '8 intervals apart when sparse');
    assert.equal(nextCheckDelay({ ...p, interval: 0 }, p.requestedAt), 100, 'never a busy loop');
    assert.equal(nextCheckDelay(p, p.requestedAt - hour), 5000, 'a clock before the request counts as the request time');
  });
});

describe('one record of a pending restore', () => {
  const tracker = (clock: { t: number }): RestoreTracker =>
    new RestoreTracker({ store: new LocalStore({ root: tempDir('gb-observe-') }), pending: new MemoryPendingStore(), interval: 15 * min, now: () => clock.t });

  it('takes a restored copy the listing saw as ready, once, and schedules by the expected time', async () => {
    const clock = { t: Date.UTC(2026, 10, 23, 8) };
    const t = tracker(clock);
    await t.add('a', { tier: 'Standard', days: 3, storageClass: 'DEEP_ARCHIVE' });
    assert.equal((await t.observe('a', { state: 'restoring' })), undefined, 'nothing new');
    assert.equal((await t.observe('a', { state: 'archived' })), undefined, 'S3 may not show a fresh request yet');
    clock.t += 10 * hour;
    const expiry = new Date(clock.t + 3 * 24 * hour);
    assert.deepEqual(await t.observe('a', { state: 'restored', expiry }), { type: 'ready', id: 'a', expiry });
    const [p] = await t.pending();
    assert.equal(p?.state, 'ready');
    assert.equal(p?.expiry, expiry.toISOString());
    assert.equal(p?.nextCheck, clock.t + 15 * min, 'a ready copy is checked for expiry from now on');
    assert.equal(await t.observe('a', { state: 'restored', expiry }), undefined, 'ready is told once');
    assert.equal(await t.observe('b', { state: 'restored', expiry }), undefined, 'an archive not being restored');
  });
});
