/**
 * When a scheduled backup fires (core/model/scheduleTiming.ts) and who runs it
 * (core/jobs/scheduleState.ts): due at once when never run, a period (plus the folder's fixed
 * jitter) after the last start, once after a long sleep, sooner after a failure; and across real
 * processes racing for the same folder, under the engine's lock file, exactly one claims it.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import * as path from 'node:path';
import { agoText, dueAt, isDue, sleptBetween, staleAfter, timingOf } from '../../src/core/model/scheduleTiming';
import { blockRun, claimRun, finishRun, readRuns, type FolderRun } from '../../src/core/jobs/scheduleState';
import { tempDir } from '../helpers/tree';

const minute = 60_000;
const hour = 60 * minute;
const day = 24 * hour;
const t0 = Date.parse('2026-12-01T09:00:00Z');

/** A simulated front end: ticks every `tick` ms of simulated time and runs what is due, at once. */
function simulate(ticks: number[], history: FolderRun, key = '/home/me/work'): number[] {
  const timing = timingOf('hourly', key)!;
  const fired: number[] = [];
  for (const now of ticks) {
    if (!isDue(now, history, timing)) continue;
    fired.push(now);
    history.lastAttempt = now;
  }
  return fired;
}

describe('schedule timing', () => {
  it('off has no timing; the others their period, a jitter under a tenth of it (at most 10 min), fixed per folder', () => {
    assert.equal(timingOf('off', 'x'), undefined);
    for (const [f, period] of [['hourly', hour], ['daily', day], ['weekly', 7 * day]] as const) {
      const t = timingOf(f, '/a')!;
      assert.equal(t.period, period);
      assert.ok(t.jitter >= 0 && t.jitter < Math.min(period / 10, 10 * minute), `${f}: ${t.jitter}`);
      assert.equal(timingOf(f, '/a')!.jitter, t.jitter, 'the same in every window');
    }
    const jitters = new Set(['/a', '/b', '/c', '/d', '/e'].map((k) => timingOf('daily', k)!.jitter));
    assert.ok(jitters.size > 1, 'folders do not all start at the same second');
  });

  it('fires at once when never run, then every period plus the jitter', () => {
    const t = timingOf('hourly', '/home/me/work')!;
    assert.equal(dueAt({}, t), 0);
    const ticks = Array.from({ length: 4 * 60 }, (_, i) => t0 + i * minute); // four hours, a tick a minute
    const fired = simulate(ticks, {});
    assert.equal(fired[0], t0);
    assert.equal(fired.length, 4);
    for (let i = 1; i < fired.length; i++) {
      const gap = fired[i]! - fired[i - 1]!;
      assert.ok(gap >= hour + t.jitter && gap < hour + t.jitter + minute, `gap ${gap / minute} min`);
    }
  });

  it('catches up once after a simulated sleep of three days, not once per missed hour', () => {
    const t = timingOf('hourly', '/home/me/work')!;
    const history: FolderRun = { lastAttempt: t0 };
    const asleep = t0 + 10 * minute;
    const woke = asleep + 3 * day;
    assert.ok(sleptBetween(asleep, woke, minute), 'the gap between ticks says the machine slept');
    assert.ok(!sleptBetween(asleep, asleep + 2 * minute, minute));
    const ticks = [asleep, ...Array.from({ length: 30 }, (_, i) => woke + i * minute)];
    const fired = simulate(ticks, history);
    assert.deepEqual(fired, [woke], 'one run on waking');
    assert.equal(dueAt(history, t), woke + hour + t.jitter, 'the next a full period later');
  });

  it('retries sooner after a failure, doubling, never later than the period', () => {
    const t = timingOf('daily', '/x')!;
    assert.equal(dueAt({ lastAttempt: t0, failures: 1 }, t), t0 + 15 * minute);
    assert.equal(dueAt({ lastAttempt: t0, failures: 3 }, t), t0 + 60 * minute);
    assert.equal(dueAt({ lastAttempt: t0, failures: 40 }, t), t0 + day);
  });

  it('stale after a period and a half, at most two hours more; a scale shrinks every duration for tests', () => {
    assert.equal(staleAfter(timingOf('hourly', '/x')!), 90 * minute);
    assert.equal(staleAfter(timingOf('daily', '/x')!), 26 * hour);
    assert.equal(staleAfter(timingOf('weekly', '/x')!), 7 * day + 2 * hour);
    const fast = timingOf('hourly', '/x', 3600)!;
    assert.equal(fast.period, 1000);
    assert.equal(staleAfter(fast), 1500);
    assert.equal(agoText(30_000), 'just now');
    assert.equal(agoText(5 * minute), '5 min ago');
    assert.equal(agoText(3 * hour + 59 * minute), '3 h ago');
    assert.equal(agoText(3 * day), '3 days ago');
  });
});

const worker = path.resolve(__dirname, '../helpers/claimWorker.ts');

function window(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', worker, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out: out.trim() }));
  });
}

describe('scheduled runs across processes', () => {
  it('of three processes that find a folder due at the same moment, exactly one runs it, each time', async () => {
    const dir = tempDir();
    try {
      for (let round = 0; round < 3; round++) {
        // Each round is the next hour, so the folder is due again; the processes start together.
        const now = t0 + round * (hour + 10 * minute);
        const startAt = Date.now() + 1500;
        const results = await Promise.all([0, 1, 2].map(() => window([dir, '/home/me/work', String(startAt), String(now), '300'])));
        assert.deepEqual(results.map((r) => r.code), [0, 0, 0]);
        assert.deepEqual(results.map((r) => r.out).sort(), ['claimed', 'skipped', 'skipped'], `round ${round}`);
      }
      const run = (await readRuns(dir))['/home/me/work']!;
      assert.equal(run.lastSuccess?.id, 'archive-id');
      assert.equal(run.running, undefined, 'the claim was given back');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a claim held by a live process blocks even a due folder; a dead owner does not', async () => {
    const dir = tempDir();
    try {
      const due = (): boolean => true;
      assert.equal(await claimRun(dir, '/f', t0, due), true);
      assert.equal(await claimRun(dir, '/f', t0 + day, due), false, 'this process still runs it');
      await finishRun(dir, '/f', { ok: false, message: 'access denied' }, t0 + 1);
      const failed = (await readRuns(dir))['/f']!;
      assert.equal(failed.failures, 1);
      assert.equal(failed.lastFailure?.message, 'access denied');
      // A process that claimed and died (its pid is gone) leaves a claim that no longer counts.
      const dead = await window([dir, '/g', String(Date.now()), String(t0), 'crash']);
      assert.equal(dead.out, 'claimed');
      assert.ok((await readRuns(dir))['/g']!.running, 'the claim is left behind');
      assert.equal(await claimRun(dir, '/g', t0 + 2 * hour, due), true, 'its owner is gone: claimed anew');
      assert.equal(await blockRun(dir, '/h', 'needs your passphrase', t0), true, 'news the first time');
      assert.equal(await blockRun(dir, '/h', 'needs your passphrase', t0 + 1), false, 'said once');
      assert.equal(await claimRun(dir, '/h', t0 + 2, due), true);
      assert.equal((await readRuns(dir))['/h']!.blocked, undefined, 'a claim clears the block');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
