/**
 * When a scheduled backup of a folder is due, for a front end that runs while it is open (VS Code).
 * Pure: times are milliseconds since the epoch, handed in; nothing here reads a clock.
 *
 * The rules, which the unit tests hold:
 * - A folder never tried is due at once. After a run that ended (whatever it found), the next is
 *   due one period after that run began, plus the folder's jitter.
 * - Catch-up is one run: a laptop that slept through ten periods finds the folder due once; the
 *   run records its own start, so the next is a full period later, never a burst.
 * - After a failure the folder is retried sooner, 15 minutes then doubling, never later than its
 *   period.
 * - Jitter is a fixed fraction of the period for each folder (at most a tenth, at most ten
 *   minutes), derived from its key, so every window computes the same due time and folders with
 *   the same schedule do not all start at the same second.
 * - `scale` divides every duration; it is for tests (a day in a few seconds), not a setting.
 */
import { createHash } from 'node:crypto';

export const frequencies = ['off', 'hourly', 'daily', 'weekly'] as const;
export type Frequency = (typeof frequencies)[number];

const minute = 60_000;
const hour = 60 * minute;
const periods: Record<Exclude<Frequency, 'off'>, number> = { hourly: hour, daily: 24 * hour, weekly: 7 * 24 * hour };

export function isFrequency(v: unknown): v is Frequency {
  return typeof v === 'string' && (frequencies as readonly string[]).includes(v);
}

/** What the timing of one folder depends on, as the shared schedule state records it. */
export interface RunHistory {
  /** When the last run began (the claim). */
  lastAttempt?: number;
  /** Failures in a row since the last success (0 or absent: the last run succeeded). */
  failures?: number;
}

export interface Timing {
  period: number;
  jitter: number;
  /** First retry after a failure; doubles with each failure in a row. */
  retry: number;
  /** How much older than one period the newest backup may grow before it is stale (staleAfter). */
  grace: number;
}

/** The timing of a folder on a schedule, or undefined when it is off. */
export function timingOf(frequency: Frequency, key: string, scale = 1): Timing | undefined {
  if (frequency === 'off') return undefined;
  const period = periods[frequency] / scale;
  const fraction = createHash('sha256').update(key).digest().readUInt32BE(0) / 2 ** 32;
  return {
    period,
    jitter: Math.floor(fraction * Math.min(period / 10, (10 * minute) / scale)),
    retry: (15 * minute) / scale,
    grace: Math.min(period / 2, (2 * hour) / scale),
  };
}

/** When the folder is next due. */
export function dueAt(history: RunHistory, t: Timing): number {
  if (history.lastAttempt === undefined) return 0;
  const failures = history.failures ?? 0;
  if (failures > 0) return history.lastAttempt + Math.min(t.period, t.retry * 2 ** Math.min(failures - 1, 20));
  return history.lastAttempt + t.period + t.jitter;
}

export function isDue(now: number, history: RunHistory, t: Timing): boolean {
  return now >= dueAt(history, t);
}

/**
 * How old the newest backup may grow before the front end warns: one period and half of one more,
 * at most two hours more (hourly: 90 minutes; daily: 26 hours, as `freshness --max-age`'s default).
 */
export function staleAfter(t: Timing): number {
  return t.period + t.grace;
}

/**
 * Whether the gap between two ticks of a timer that should fire every `tick` means the machine
 * slept (or the process was frozen): more than three ticks went by.
 */
export function sleptBetween(previousTick: number, now: number, tick: number): boolean {
  return now - previousTick > 3 * tick;
}

/** "3 h ago", "5 min ago", "just now", "2 days ago": an age for a status bar. */
export function agoText(ms: number): string {
  const m = Math.floor(ms / minute);
  if (m < 1) return 'just now';
  if (m < 60) return `${m} min ago`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ago`;
  return `${Math.floor(h / 24)} days ago`;
}
