/**
 * A separate process for the schedule tests: one "window" that, at the given moment, checks
 * whether FOLDER is due on an hourly schedule and claims its run (core/jobs/scheduleState.ts),
 * then holds the claim for HOLD ms as a running backup would, and finishes it. Prints "claimed"
 * or "skipped". HOLD_MS "crash" exits right after the claim, as a window killed mid-backup.
 * Usage: node --import tsx claimWorker.ts DIR FOLDER START_AT_MS NOW_MS HOLD_MS
 */
import { isDue, timingOf } from '../../src/core/model/scheduleTiming';
import { claimRun, finishRun } from '../../src/core/jobs/scheduleState';

async function main(): Promise<void> {
  const [dir, folder, startAt, now, hold] = process.argv.slice(2);
  const timing = timingOf('hourly', folder!)!;
  // Every worker starts at the same wall-clock moment, so their claims race.
  await new Promise((r) => setTimeout(r, Math.max(0, Number(startAt) - Date.now())));
  const claimed = await claimRun(dir!, folder!, Number(now), (run) => isDue(Number(now), run, timing));
  process.stdout.write(claimed ? 'claimed\n' : 'skipped\n');
  if (!claimed) return;
  if (hold === 'crash') process.exit(0);
  await new Promise((r) => setTimeout(r, Number(hold)));
  await finishRun(dir!, folder!, { ok: true, id: 'archive-id', created: true }, Number(now) + Number(hold));
}

void main();
