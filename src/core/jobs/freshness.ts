/**
 * Freshness: the newest snapshot of each source set and whether it is older than allowed. Pure;
 * the snapshots come from listSnapshots. A set is stale when its newest snapshot was created at
 * or before `now` minus `maxAge` (calendar arithmetic in local time, as retention's durations).
 */
import { durationBefore, formatDuration, type CalendarDuration } from '../model/retention';
import { bySourceSet, matchesFilter, type SnapshotInfo } from './snapshots';

export interface FreshnessRow {
  host: string;
  sources: string[];
  newest: { id: string; created: string; label: string };
  /** Seconds since the newest snapshot was created. */
  ageSeconds: number;
  stale: boolean;
}

export interface FreshnessReport {
  now: string;
  maxAge: string;
  sets: FreshnessRow[];
  stale: number;
}

export function freshness(snapshots: readonly SnapshotInfo[], now: Date, maxAge: CalendarDuration, filter: { host?: string; paths?: string[] } = {}): FreshnessReport {
  const limit = durationBefore(now, maxAge).getTime();
  const sets = bySourceSet(snapshots.filter((s) => matchesFilter(s, filter))).map(({ snapshots: list }): FreshnessRow => {
    const newest = list[0]!;
    return {
      host: newest.host,
      sources: newest.sources,
      newest: { id: newest.id, created: newest.time.toISOString(), label: newest.label },
      ageSeconds: Math.max(0, Math.floor((now.getTime() - newest.time.getTime()) / 1000)),
      stale: newest.time.getTime() <= limit,
    };
  });
  return { now: now.toISOString(), maxAge: formatDuration(maxAge), sets, stale: sets.filter((s) => s.stale).length };
}

/** "3h 5m", "2d 4h", "45s": an age for people. */
export function formatAge(seconds: number): string {
  const d = Math.floor(seconds / 86_400);
  const h = Math.floor((seconds % 86_400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  if (d > 0) return h ? `${d}d ${h}h` : `${d}d`;
  if (h > 0) return m ? `${h}h ${m}m` : `${h}h`;
  return m > 0 ? `${m}m` : `${seconds}s`;
}
