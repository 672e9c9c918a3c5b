/**
 * The pure part of the VS Code layer: what the Archives view shows for an archive, a folder inside
 * it or a job, and the cost figures the prompts quote. No `vscode` import, so it is unit-tested
 * directly; archivesView.ts only maps these descriptions onto TreeItems.
 */
import type { ArchiveSummary } from '../core/jobs/listing';
import type { GlacierState } from '../core/model/glacierState';
import type { ManifestEntry } from '../core/model/entry';
import { entryName, pathFields } from '../core/model/rawNames';
import { formatBytes } from '../core/model/format';
import { className, dollars, earlyDeletionFee, monthlyCost } from '../core/model/pricing';
import { restoreExpectedBy } from '../core/model/restoreTimes';
import { localDate, plural, relativeTime, timeSpan } from './when';

// Prices moved to the engine (src/core/model/pricing.ts); re-exported for the VS Code layer.
export { className, dollars, earlyDeletionFee, monthlyCost, prices, retrievalCost } from '../core/model/pricing';
export type { ArchiveSummary } from '../core/jobs/listing';

/** What the view knows about one archive: the listing, its Glacier state and, once read, its manifest summary. */
export interface ArchiveInfo {
  id: string;
  /** Archive object size (bytes), storage class and upload time; absent for a manifest without archive. */
  size?: number;
  storageClass?: string;
  lastModified?: Date;
  state?: GlacierState;
  /**
   * From the pending-restore list (the poller's): when the restore was requested, with what tier,
   * and whether a check found it ready. The one record the status bar counts, so the tree derives
   * its state from it too (archiveKind).
   */
  restore?: { requestedAt: string; tier?: string; state?: 'restoring' | 'ready'; expiry?: string };
  summary?: ArchiveSummary;
  /** Why the archive cannot be used as is (no manifest, manifest unreadable…). */
  problem?: string;
  /** Its manifest opens with none of the stored passphrases or keys ("Unlock with Another Passphrase…"). */
  locked?: boolean;
}

/** The icon ids are VS Code product icons (codicons); `color` is a theme colour id. */
export interface NodeLook {
  label: string;
  description: string;
  icon: string;
  color?: string;
  /** Drives the context menus through `viewItem` when clauses (package.json). */
  contextValue: string;
  tooltip: string;
}

export type ArchiveKind = 'archived' | 'restoring' | 'restored' | 'available' | 'problem' | 'unknown';

/**
 * The state the view shows: the last seen Glacier state, unless the pending-restore list knows
 * better (a check found the copy ready, or S3 does not show a fresh request yet), so the tree says
 * what the status bar counts.
 */
export function archiveKind(a: ArchiveInfo, now = new Date()): ArchiveKind {
  if (a.problem || a.size === undefined) return 'problem';
  const seen = a.state?.state;
  if (a.restore?.state === 'ready' && seen !== 'restored' && seen !== 'available') {
    const expired = a.restore.expiry !== undefined && Date.parse(a.restore.expiry) <= now.getTime();
    if (!expired) return 'restored';
  }
  if (a.restore?.state === 'restoring' && (seen === undefined || seen === 'archived')) return 'restoring';
  return seen ?? 'unknown';
}

/** Icon and theme colour per state, as Source Control colours its decorations. */
export const kindIcon: Record<ArchiveKind, { icon: string; color: string }> = {
  archived: { icon: 'archive', color: 'charts.blue' },
  restoring: { icon: 'sync~spin', color: 'charts.yellow' },
  restored: { icon: 'cloud-download', color: 'charts.green' },
  available: { icon: 'pass', color: 'charts.green' },
  problem: { icon: 'warning', color: 'problemsWarningIcon.foreground' },
  unknown: { icon: 'circle-outline', color: 'disabledForeground' },
};

/** When a restored copy goes back to Glacier: S3's expiry, else the one the poller saw. */
function restoredExpiry(a: ArchiveInfo): Date | undefined {
  if (a.state?.state === 'restored' && a.state.expiry) return a.state.expiry;
  return a.restore?.expiry ? new Date(a.restore.expiry) : undefined;
}

function expectedBy(a: ArchiveInfo): Date | undefined {
  if (!a.restore) return undefined;
  return restoreExpectedBy(a.storageClass ?? 'DEEP_ARCHIVE', a.restore.tier ?? 'Standard', new Date(a.restore.requestedAt));
}

/** The state in a few words, first in the row's description: "restoring, ~11 h left", "restored, 2 days left". */
export function stateShort(a: ArchiveInfo, now = new Date()): string {
  const kind = archiveKind(a, now);
  if (kind === 'restoring') {
    const by = expectedBy(a);
    if (!by) return 'restoring';
    return by.getTime() > now.getTime() ? `restoring, ~${timeSpan(by.getTime() - now.getTime())} left` : 'restoring, due now';
  }
  if (kind === 'restored') {
    const expiry = restoredExpiry(a);
    if (!expiry) return 'restored';
    const left = expiry.getTime() - now.getTime();
    return left < 24 * 3_600_000 ? `restored, expires in ${timeSpan(left)}` : `restored, ${timeSpan(left)} left`;
  }
  if (kind === 'problem' && a.locked) return 'locked, needs another passphrase or key';
  if (kind === 'problem') return a.problem ?? 'archive missing';
  if (kind === 'unknown') return 'state unknown';
  return kind;
}

/** "2026-11-23 14:05" in UTC: short, unambiguous and independent of the test machine's zone. */
export function shortDate(iso: string | Date): string {
  const d = typeof iso === 'string' ? new Date(iso) : iso;
  return Number.isNaN(d.getTime()) ? String(iso) : d.toISOString().slice(0, 16).replace('T', ' ');
}

/** The state in full, for tooltips and pickers: "restoring since 2026-11-23 08:00 (Standard, expected by …)". */
export function stateText(a: ArchiveInfo, now = new Date()): string {
  const kind = archiveKind(a, now);
  switch (kind) {
    case 'restoring': {
      if (!a.restore) return 'restoring';
      const by = expectedBy(a);
      return `restoring since ${localDate(new Date(a.restore.requestedAt))} (${a.restore.tier ?? 'Standard'}${by ? `, expected by ${localDate(by)}` : ''})`;
    }
    case 'restored': {
      const expiry = restoredExpiry(a);
      if (!expiry) return 'restored, ready to download';
      const hoursLeft = (expiry.getTime() - now.getTime()) / 3_600_000;
      return `restored, downloadable until ${localDate(expiry)}${hoursLeft < 24 ? ' (expires soon)' : ''}`;
    }
    case 'archived':
      return 'archived (request a restore to download it)';
    case 'available':
      return 'available (no restore needed)';
    default:
      return stateShort(a, now);
  }
}

/**
 * An archive's row: the state first (icon, colour and words: the part cut off last at normal
 * width), then when, then how big. The rest is in the tooltip, the id included.
 */
export function archiveLook(a: ArchiveInfo, bucket: string, archiveKey: string, now = new Date()): NodeLook {
  const kind = archiveKind(a, now);
  const label = a.summary?.label ?? a.id;
  const whenText = a.summary?.created ?? a.lastModified?.toISOString();
  const when = whenText === undefined ? undefined : new Date(whenText);
  const cls = a.storageClass ?? 'DEEP_ARCHIVE';
  const lines = [`**${escapeMarkdown(label)}**`, '', `- State: ${escapeMarkdown(stateText(a, now))}`];
  if (when) lines.push(`- Backed up: ${localDate(when)} (${relativeTime(when, now)})`);
  if (a.summary) {
    lines.push(`- Files: ${plural(a.summary.fileCount, 'file')}, ${formatBytes(a.summary.fileBytes)}`);
    lines.push(`- From: ${a.summary.sources.map((s) => `\`${s}\``).join(', ')} on ${escapeMarkdown(a.summary.host)}`);
  } else if (!a.problem) {
    lines.push('- Its label and files show once the passphrase or private key is entered');
  }
  if (a.size !== undefined) {
    lines.push(`- Stored: ${formatBytes(a.size)} in ${className(cls)}, about ${dollars(monthlyCost(a.size, cls))} per month`);
    const fee = earlyDeletionFee(a.size, cls, a.lastModified, now);
    if (fee > 0) lines.push(`- Deleting it now costs an early-deletion fee of about ${dollars(fee)}`);
  }
  lines.push(`- Id: \`${a.id}\``, `- S3 URI: \`s3://${bucket}/${archiveKey}\``);
  const parts = [stateShort(a, now), when ? relativeTime(when, now) : undefined, a.size === undefined ? undefined : formatBytes(a.size)];
  return {
    label,
    description: parts.filter(Boolean).join(' · '),
    ...kindIcon[kind],
    contextValue: kind === 'problem' && a.locked ? 'archive.locked' : `archive.${kind}`,
    tooltip: lines.join('\n'),
  };
}

function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');
}

/** Whether an archive matches the view's filter: words of its label, sources, host, id or state, in any case. */
export function matchesFilter(a: ArchiveInfo, filter: string, now = new Date()): boolean {
  const words = filter.toLowerCase().split(/\s+/).filter(Boolean);
  const text = [a.summary?.label, ...(a.summary?.sources ?? []), a.summary?.host, a.id, stateShort(a, now)].filter(Boolean).join(' ').toLowerCase();
  return words.every((w) => text.includes(w));
}

/** Archives grouped by where they came from (host + selected paths), newest group first. */
export interface SourceGroup {
  key: string;
  label: string;
  description: string;
  archives: ArchiveInfo[];
}

/** The host names a group only when the bucket holds archives of more than one. */
export function groupBySource(archives: readonly ArchiveInfo[]): SourceGroup[] {
  const groups = new Map<string, SourceGroup>();
  const manyHosts = new Set(archives.flatMap((a) => (a.summary ? [a.summary.host] : []))).size > 1;
  for (const a of archives) {
    const key = a.summary ? JSON.stringify([a.summary.host, [...a.summary.sources].sort()]) : '?';
    let g = groups.get(key);
    if (!g) {
      const label = a.summary ? a.summary.sources.map(baseName).join(', ') : 'Archives without a readable manifest';
      const description = a.summary && manyHosts ? a.summary.host : '';
      g = { key, label, description, archives: [] };
      groups.set(key, g);
    }
    g.archives.push(a);
  }
  for (const g of groups.values()) g.archives.sort((x, y) => (x.id < y.id ? 1 : x.id > y.id ? -1 : 0));
  return [...groups.values()].sort((x, y) => {
    if (x.key === '?' || y.key === '?') return x.key === '?' ? 1 : -1;
    return x.archives[0]!.id < y.archives[0]!.id ? 1 : -1;
  });
}

function baseName(p: string): string {
  const parts = p.split(/[\\/]/).filter(Boolean);
  return parts[parts.length - 1] ?? p;
}

/**
 * The folders of a manifest, indexed once so expanding any folder is a lookup: children of "" are
 * the top level. Folders that only appear as parents of entries are created implicitly. Folders
 * are keyed by their names' bytes (entryName), so two that read the same stay apart.
 */
export interface FolderIndex {
  /** `folder` is entryName of a directory entry, or "". */
  children(folder: string): readonly ManifestEntry[];
}

export function indexEntries(entries: readonly ManifestEntry[]): FolderIndex {
  const byParent = new Map<string, ManifestEntry[]>();
  const seenDirs = new Set<string>();
  const add = (e: ManifestEntry, name: string): void => {
    const parent = parentOf(name);
    let list = byParent.get(parent);
    if (!list) byParent.set(parent, (list = []));
    list.push(e);
  };
  for (const e of entries) {
    if (e.type === 'directory') seenDirs.add(entryName(e));
  }
  for (const e of entries) {
    const name = entryName(e);
    add(e, name);
    // Make sure every ancestor exists as a directory entry.
    let p = parentOf(name);
    while (p !== '' && !seenDirs.has(p)) {
      seenDirs.add(p);
      add({ ...pathFields(p), type: 'directory', size: 0, mode: 0o755, mtime: e.mtime }, p);
      p = parentOf(p);
    }
  }
  for (const list of byParent.values()) {
    list.sort((a, b) => (a.type === 'directory') !== (b.type === 'directory') ? (a.type === 'directory' ? -1 : 1) : a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
  }
  return { children: (folder) => byParent.get(folder) ?? [] };
}

export function parentOf(p: string): string {
  const i = p.lastIndexOf('/');
  return i < 0 ? '' : p.slice(0, i);
}

export function entryLook(e: ManifestEntry): { label: string; description: string; icon: string; collapsible: boolean } {
  const name = e.path.slice(e.path.lastIndexOf('/') + 1);
  if (e.type === 'directory') return { label: name, description: '', icon: 'folder', collapsible: true };
  if (e.type === 'symlink') return { label: name, description: `→ ${e.linkTarget ?? ''}`, icon: 'file-symlink-file', collapsible: false };
  return { label: name, description: formatBytes(e.size), icon: 'file', collapsible: false };
}

/** A running, queued or failed job as the view and the status bar show it. */
export interface JobInfo {
  key: number;
  title: string;
  state: 'queued' | 'running' | 'failed';
  /** 0–100 while running. */
  percent?: number;
  detail?: string;
  error?: string;
}

export function jobLook(j: JobInfo): NodeLook {
  if (j.state === 'failed') {
    return { label: j.title, description: `failed: ${j.error ?? ''}`, icon: 'error', contextValue: 'job.failed', tooltip: j.error ?? '' };
  }
  if (j.state === 'queued') return { label: j.title, description: 'queued', icon: 'clock', contextValue: 'job.queued', tooltip: 'Waiting for the job before it' };
  // The detail already starts with the percentage while bytes flow ("42% · 5 MiB/s · 1m left").
  const pct = j.percent === undefined || j.detail?.startsWith(`${Math.floor(j.percent)}%`) ? '' : `${Math.floor(j.percent)}%`;
  return {
    label: j.title,
    description: [pct, j.detail].filter(Boolean).join(' · '),
    icon: 'cloud-upload',
    contextValue: 'job.running',
    tooltip: j.detail ?? '',
  };
}

/** Status-bar text for a running transfer: "42% · 12.5 MB/s · 1m 20s left". */
export function progressText(done: number, total: number, elapsedMs: number): { percent: number; text: string } {
  const percent = total > 0 ? Math.min(100, (100 * done) / total) : 0;
  const secs = elapsedMs / 1000;
  // Under a second, or before 1% (or 1 MiB) has moved, the rate is noise: say nothing rather than "3148h left".
  const rate = secs >= 1 && done > 0 && done >= Math.min(total / 100, 1024 * 1024) ? Math.round(done / secs) : 0;
  const parts = [`${Math.floor(percent)}%`];
  if (rate > 0) parts.push(`${formatBytes(rate)}/s`);
  if (rate > 0 && total > done) parts.push(`${duration((total - done) / rate)} left`);
  return { percent, text: parts.join(' · ') };
}

export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

/** Finds files by name across loaded manifests for the Restore… quick pick (case-insensitive substring). */
export function searchFiles(
  manifests: readonly { id: string; label: string; entries: readonly ManifestEntry[] }[],
  query: string,
  limit = 200,
): { id: string; label: string; path: string; size: number }[] {
  const q = query.trim().toLowerCase();
  if (q.length < 2) return [];
  const hits: { id: string; label: string; path: string; size: number }[] = [];
  for (const m of manifests) {
    for (const e of m.entries) {
      if (e.type === 'directory') continue;
      if (e.path.toLowerCase().includes(q)) {
        hits.push({ id: m.id, label: m.label, path: e.path, size: e.size });
        if (hits.length >= limit) return hits;
      }
    }
  }
  return hits;
}
