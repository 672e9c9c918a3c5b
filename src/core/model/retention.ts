/**
 * Retention policies with the semantics of restic's `forget` (restic ≥ 0.16): which snapshots of
 * one source set a policy keeps. Pure: no store, no clock but the `now` handed in.
 *
 * Guarantees, as restic documents them:
 * - Snapshots are considered newest first (a stable sort: equal times keep their input order).
 * - `last` keeps the n newest. `hourly`/`daily`/`weekly`/`monthly`/`yearly` keep, for each of the
 *   n newest hours/days/ISO weeks/months/years that have a snapshot, the newest snapshot in it;
 *   buckets are computed in the local time zone of the process (restic uses local time too).
 *   A count of -1 means "every such bucket".
 * - When a rule still has count left after the newest snapshot of the oldest bucket it saw, the
 *   oldest snapshot of all is kept too (restic 0.16's "oldest" rule: history reaches back as far
 *   as it can).
 * - `within` keeps every snapshot strictly newer than the newest snapshot (not in the future of
 *   `now`) minus the duration, counted in calendar years, months and days, then hours.
 * - A snapshot matched by several rules is kept once and uses one count of each rule it matched.
 * - An empty policy keeps everything (callers refuse it before asking).
 */
import { GlacierError } from '../errors';

export interface RetentionPolicy {
  last?: number;
  hourly?: number;
  daily?: number;
  weekly?: number;
  monthly?: number;
  yearly?: number;
  within?: CalendarDuration;
}

export interface CalendarDuration {
  years: number;
  months: number;
  days: number;
  hours: number;
}

export interface Snapshot {
  id: string;
  time: Date;
}

export interface Decision<S extends Snapshot> {
  snapshot: S;
  keep: boolean;
  /** Why it is kept ("daily snapshot", "within 2y5m"…); empty when forgotten. */
  reasons: string[];
}

const countRules = ['last', 'hourly', 'daily', 'weekly', 'monthly', 'yearly'] as const;
type CountRule = (typeof countRules)[number];

const bucketOf: Record<CountRule, (d: Date, nr: number) => number> = {
  last: (_d, nr) => nr,
  hourly: (d) => ((d.getFullYear() * 100 + d.getMonth() + 1) * 100 + d.getDate()) * 100 + d.getHours(),
  daily: (d) => (d.getFullYear() * 100 + d.getMonth() + 1) * 100 + d.getDate(),
  weekly: (d) => {
    const { year, week } = isoWeek(d);
    return year * 100 + week;
  },
  monthly: (d) => d.getFullYear() * 100 + d.getMonth() + 1,
  yearly: (d) => d.getFullYear(),
};

const ruleReason: Record<CountRule, string> = {
  last: 'last snapshot',
  hourly: 'hourly snapshot',
  daily: 'daily snapshot',
  weekly: 'weekly snapshot',
  monthly: 'monthly snapshot',
  yearly: 'yearly snapshot',
};

export function isEmptyPolicy(p: RetentionPolicy): boolean {
  return countRules.every((r) => !p[r]) && (!p.within || durationIsZero(p.within));
}

/** Decides each snapshot of one source set, newest first. */
export function applyPolicy<S extends Snapshot>(snapshots: readonly S[], policy: RetentionPolicy, now = new Date()): Decision<S>[] {
  const list = [...snapshots].sort((a, b) => b.time.getTime() - a.time.getTime());
  if (list.length === 0) return [];
  if (isEmptyPolicy(policy)) return list.map((snapshot) => ({ snapshot, keep: true, reasons: ['policy is empty'] }));
  const counts = new Map<CountRule, { left: number; last: number }>();
  for (const r of countRules) {
    const n = policy[r] ?? 0;
    if (n > 0 || n === -1) counts.set(r, { left: n, last: -1 });
  }
  // The newest snapshot that is not in the future, as restic's "latest" (with none, the year 1: all are within).
  const latest = list.find((s) => s.time.getTime() < now.getTime())?.time ?? new Date(-62_135_596_800_000);
  const withinSince = policy.within && !durationIsZero(policy.within) ? subtract(latest, policy.within) : undefined;
  return list.map((snapshot, nr) => {
    const reasons: string[] = [];
    if (withinSince && snapshot.time.getTime() > withinSince.getTime()) reasons.push(`within ${formatDuration(policy.within!)}`);
    const oldest = nr === list.length - 1;
    for (const [rule, state] of counts) {
      if (state.left === 0) continue;
      const value = bucketOf[rule](snapshot.time, nr);
      if (value === state.last && !oldest) continue;
      reasons.push(value === state.last ? `oldest ${ruleReason[rule]}` : ruleReason[rule]);
      state.last = value;
      if (state.left > 0) state.left--;
    }
    return { snapshot, keep: reasons.length > 0, reasons };
  });
}

/** Go's time.AddDate(-y, -m, -d) (calendar arithmetic in local time, normalising overflow), then minus hours. */
function subtract(t: Date, d: CalendarDuration): Date {
  const shifted = new Date(t.getFullYear() - d.years, t.getMonth() - d.months, t.getDate() - d.days, t.getHours(), t.getMinutes(), t.getSeconds(), t.getMilliseconds());
  return new Date(shifted.getTime() - d.hours * 3_600_000);
}

/** The ISO 8601 week-numbering year and week of a local date (weeks start on Monday; week 1 holds the first Thursday). */
export function isoWeek(d: Date): { year: number; week: number } {
  const day = new Date(Date.UTC(d.getFullYear(), d.getMonth(), d.getDate()));
  const weekday = day.getUTCDay() || 7;
  day.setUTCDate(day.getUTCDate() + 4 - weekday); // the Thursday of this week
  const year = day.getUTCFullYear();
  const week = Math.floor((day.getTime() - Date.UTC(year, 0, 1)) / (7 * 86_400_000)) + 1;
  return { year, week };
}

/** Parses restic's duration syntax: "2y5m7d3h", any subset in any order, each a whole number. */
export function parseDuration(text: string): CalendarDuration {
  const d: CalendarDuration = { years: 0, months: 0, days: 0, hours: 0 };
  const units: Record<string, keyof CalendarDuration> = { y: 'years', m: 'months', d: 'days', h: 'hours' };
  const rest = text.trim().replace(/(\d+)([ymdh])/g, (_all, n: string, unit: string) => {
    d[units[unit]!] = Number(n);
    return '';
  });
  if (text.trim() === '' || rest !== '') throw new GlacierError('usage', `"${text}" is not a duration: use a number with y, m, d or h, e.g. 1y6m or 26h`);
  return d;
}

export function formatDuration(d: CalendarDuration): string {
  const parts = [d.years && `${d.years}y`, d.months && `${d.months}m`, d.days && `${d.days}d`, d.hours && `${d.hours}h`].filter(Boolean);
  return parts.length ? parts.join('') : '0h';
}

function durationIsZero(d: CalendarDuration): boolean {
  return d.years === 0 && d.months === 0 && d.days === 0 && d.hours === 0;
}

/** A duration's length in milliseconds from `from` backwards (for ages: "older than 26h"). */
export function durationBefore(from: Date, d: CalendarDuration): Date {
  return subtract(from, d);
}
