/**
 * What the freshness status bar item says, from what the window knows: the catalog's archives
 * (their summaries: host, folders, creation time) and the shared record of scheduled runs (the
 * last success, which may have found nothing changed and uploaded nothing; a failure; a missing
 * secret). Pure, without `vscode`, so its rules are unit-tested: a blocked folder outranks a
 * failed one, which outranks the stalest folder's age; times are shown in local time.
 */
import { formatBytes } from '../../core/model/format';
import type { FolderRun } from '../../core/jobs/scheduleState';
import { agoText } from '../../core/model/scheduleTiming';

export interface FolderFacts {
  name: string;
  path: string;
  frequency: string;
  /** How old the newest backup may be before it is stale; undefined without a schedule. */
  staleAfterMs?: number;
  run: FolderRun;
}

export interface ArchiveFacts {
  id: string;
  size?: number;
  created?: string;
  host?: string;
  sources?: string[];
}

export interface FreshnessLook {
  text: string;
  /** Markdown lines. */
  tooltip: string[];
  level: 'ok' | 'warning' | 'error';
  /** What a click does: reveal this archive, or show the schedule's states. */
  click: { kind: 'reveal'; id?: string } | { kind: 'status' };
}

export interface Newest {
  time: number;
  id?: string;
  size?: number;
  /** 'archive': from the catalog; 'run': a scheduled run found the files unchanged since `id`. */
  from: 'archive' | 'run';
}

/** The newest backup of a folder on this host: the newer of the catalog's newest archive and the last successful run. */
export function newestOf(folder: FolderFacts, archives: readonly ArchiveFacts[], host: string): Newest | undefined {
  let best: Newest | undefined;
  for (const a of archives) {
    if (a.host !== host || !a.sources?.includes(folder.path) || !a.created) continue;
    const time = Date.parse(a.created);
    if (Number.isNaN(time)) continue;
    if (!best || time > best.time) best = { time, id: a.id, ...(a.size !== undefined ? { size: a.size } : {}), from: 'archive' };
  }
  const ok = folder.run.lastSuccess;
  if (ok && (!best || ok.time > best.time)) {
    const size = archives.find((a) => a.id === ok.id)?.size;
    best = { time: ok.time, id: ok.id, ...(size !== undefined ? { size } : {}), from: 'run' };
  }
  return best;
}

const localTime = (ms: number): string => new Date(ms).toLocaleString();

export function freshnessLook(folders: readonly FolderFacts[], archives: readonly ArchiveFacts[], host: string, now: number): FreshnessLook | undefined {
  const blocked = folders.find((f) => f.run.blocked && f.frequency !== 'off');
  if (blocked) {
    return {
      text: `$(key) Backup ${blocked.run.blocked!.reason}`,
      tooltip: [`**Glacier Backup**: the scheduled backup of ${blocked.name} ${blocked.run.blocked!.reason} (since ${localTime(blocked.run.blocked!.since)}).`, 'Click for what fixes it.'],
      level: 'warning',
      click: { kind: 'status' },
    };
  }
  const failed = folders.find((f) => (f.run.failures ?? 0) > 0 && f.run.lastFailure);
  if (failed) {
    const f = failed.run.lastFailure!;
    return {
      text: '$(error) Backup failed',
      tooltip: [`**Glacier Backup**: the scheduled backup of ${failed.name} failed at ${localTime(f.time)} (${failed.run.failures} in a row):`, '', f.message, '', 'Click to retry or see the log.'],
      level: 'error',
      click: { kind: 'status' },
    };
  }
  const rows = folders.map((f) => ({ f, newest: newestOf(f, archives, host) })).filter((r) => r.newest || r.f.staleAfterMs !== undefined);
  if (rows.length === 0) return undefined;
  // The stalest folder speaks for the window: a folder never backed up counts as infinitely old.
  rows.sort((a, b) => (a.newest?.time ?? -Infinity) - (b.newest?.time ?? -Infinity));
  const worst = rows[0]!;
  const stale = (r: (typeof rows)[number]): boolean => r.f.staleAfterMs !== undefined && (!r.newest || now - r.newest.time > r.f.staleAfterMs);
  const tooltip = ['**Glacier Backup**', ''];
  for (const r of rows) {
    const schedule = r.f.frequency === 'off' ? 'no schedule' : `${r.f.frequency}${stale(r) ? ', **overdue**' : ''}`;
    if (!r.newest) {
      tooltip.push(`- ${r.f.name}: no backup yet (${schedule})`);
      continue;
    }
    const what = r.newest.id ? `archive \`${r.newest.id}\`${r.newest.size !== undefined ? `, ${formatBytes(r.newest.size)}` : ''}` : 'unknown archive';
    const unchanged = r.newest.from === 'run' ? ' (checked; nothing had changed)' : '';
    tooltip.push(`- ${r.f.name}: ${localTime(r.newest.time)}, ${agoText(now - r.newest.time)}${unchanged}: ${what} (${schedule}); folder ${r.f.path}`);
  }
  tooltip.push('', 'Click to show it in the Archives view.');
  return {
    text: worst.newest ? `$(cloud) Last backup ${agoText(now - worst.newest.time)}` : '$(cloud) No backup yet',
    tooltip,
    level: rows.some(stale) ? 'warning' : 'ok',
    click: { kind: 'reveal', ...(worst.newest?.id ? { id: worst.newest.id } : {}) },
  };
}
