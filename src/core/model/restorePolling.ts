/**
 * When to look again at a pending restore. A Deep Archive Standard restore is ready within 12
 * hours and rarely much sooner, so checking every few minutes from the start wastes requests, and
 * doubling the wait (as before) reported a 12-hour restore hours late. The plan follows the
 * expected completion time instead:
 *
 * - soon after the request: twice at the base interval (a request S3 completes at once, or an
 *   Expedited one, shows up at once);
 * - then sparsely, up to 8 base intervals (at most 2 hours) apart, never past the start of the
 *   window in which the restore is likely to finish;
 * - in that window (the last quarter of the expected time, at most its last 3 hours): every base
 *   interval;
 * - past the expected time: steadily, every base interval or twice it, at most 30 minutes apart.
 *
 * Pure: the tracker (jobs/restoreTracker.ts) stores the result as the next check's time.
 */

export interface PollPlan {
  /** When the restore was requested (epoch ms). */
  requestedAt: number;
  /** How long the restore takes at most (ms), from restoreTimes.ts. */
  expectedMs: number;
  /** The base interval (ms): the user's poll interval setting. */
  interval: number;
  /** The longest sparse wait (ms); defaults to 8 base intervals, at most 2 hours. */
  maxSparse?: number;
}

const hour = 3_600_000;

/** The start of the window in which the restore is likely to finish, ms after the request. */
export function likelyWindowStart(expectedMs: number): number {
  return Math.max(expectedMs * 0.75, expectedMs - 3 * hour);
}

/** How long to wait (ms) after a check at `now` before the next one. */
export function nextCheckDelay(plan: PollPlan, now: number): number {
  const interval = Math.max(100, plan.interval);
  const elapsed = Math.max(0, now - plan.requestedAt);
  const windowStart = likelyWindowStart(plan.expectedMs);
  if (elapsed >= plan.expectedMs) return Math.max(interval, Math.min(2 * interval, 30 * 60_000));
  if (elapsed >= windowStart || elapsed < 2 * interval) return interval;
  const sparse = Math.max(interval, plan.maxSparse ?? Math.min(8 * interval, 2 * hour));
  return Math.max(interval, Math.min(sparse, windowStart - elapsed));
}
