/**
 * The versions of one file (or folder): which snapshots hold a path of this machine, under which
 * archive path, and which archive holds its bytes. Pure: no I/O; the job that reads the manifests
 * is jobs/fileVersions.ts, and both front ends show what these functions return.
 *
 * A snapshot holds a local path when one of its sources is that path or a folder above it: the
 * archive path is then the source's top-level name followed by the rest of the local path
 * (format.md "Archive"). The manifest's entry under that archive path is the version.
 */
import type { Manifest } from '../catalog/manifest';
import type { EntryPlacement } from './chain';
import type { ManifestEntry } from './entry';

/** A source of a snapshot as its manifest records it: the selected absolute path and its top-level name in the archive. */
export interface VersionSource {
  path: string;
  name: string;
}

/** One snapshot's copy of a path. */
export interface FileVersion {
  /** The snapshot (manifest) that lists the path. */
  snapshot: string;
  label: string;
  host: string;
  /** The snapshot's creation time. */
  time: Date;
  /** The path inside the archive (readable form, as `files` shows it and `download --only` takes it). */
  archivePath: string;
  entry: ManifestEntry;
  /** Where its bytes are: see holderOf. */
  holder: { archive: string; path: string };
  /** A file whose content differs from the next older version's (or that is the oldest); folders: always true. */
  changed: boolean;
}

/**
 * Windows paths (a drive letter or a UNC name) compare with either separator and without regard to
 * case, as Windows finds them; every other path compares exactly, as Linux and macOS keep them.
 */
function isWindowsPath(p: string): boolean {
  return /^[A-Za-z]:[\\/]/.test(p) || p.startsWith('\\\\');
}

function normalised(p: string, windows: boolean): string {
  let slashed = p;
  if (windows) {
    slashed = p.replace(/\\/g, '/');
    // Lower case only where it keeps the length: the rest of the path is cut at the same place.
    if (slashed.toLowerCase().length === slashed.length) slashed = slashed.toLowerCase();
  }
  return slashed.length > 1 ? slashed.replace(/\/+$/, '') : slashed;
}

/** The path inside an archive with these sources at which `localPath` was saved, or undefined if no source covers it. */
export function archivePathOf(sources: readonly VersionSource[], localPath: string): string | undefined {
  for (const s of sources) {
    const windows = isWindowsPath(s.path);
    const root = normalised(s.path, windows);
    const local = normalised(localPath, windows);
    if (local === root) return s.name;
    const prefix = root.endsWith('/') ? root : `${root}/`;
    // The rest keeps its own case: archive names are as they were read from the disk.
    if (local.startsWith(prefix)) return `${s.name}/${(windows ? localPath.replace(/\\/g, '/') : localPath).slice(prefix.length).replace(/\/+$/, '')}`;
  }
  return undefined;
}

/** Whether some source (by its path only, as listing summaries keep them) covers `localPath`. */
export function coversPath(sourcePaths: readonly string[], localPath: string): boolean {
  return archivePathOf(sourcePaths.map((p) => ({ path: p, name: '' })), localPath) !== undefined;
}

/** The local path an archive path was saved from, on the machine that made the snapshot; undefined for a name no source has. */
export function localPathOf(sources: readonly VersionSource[], archivePath: string): string | undefined {
  const slash = archivePath.indexOf('/');
  const top = slash < 0 ? archivePath : archivePath.slice(0, slash);
  const s = sources.find((x) => x.name === top);
  if (!s) return undefined;
  if (slash < 0) return s.path;
  const sep = isWindowsPath(s.path) ? '\\' : '/';
  const rest = archivePath.slice(slash + 1).split('/').join(sep);
  return s.path.endsWith(sep) ? `${s.path}${rest}` : `${s.path}${sep}${rest}`;
}

/**
 * Which archive holds the bytes of `entry` in snapshot `snapshot`, and under which member path.
 * The one place that decides it: in format 1 every snapshot's archive holds all its entries; a
 * format 2 entry names another archive of its chain (`in`) and, after a folder rename, the member's
 * path there (`at`). A chunked file (`chunks`) is read from several archives; its recipe is here.
 */
export function holderOf(snapshot: string, entry: ManifestEntry & EntryPlacement): { archive: string; path: string } {
  return { archive: entry.in ?? snapshot, path: entry.at ?? entry.path };
}

/** The version of `localPath` in manifest `m`, or undefined when the snapshot does not hold it. */
export function versionIn(m: Pick<Manifest, 'id' | 'label' | 'host' | 'created' | 'sources' | 'entries'>, localPath: string): Omit<FileVersion, 'changed'> | undefined {
  const archivePath = archivePathOf(m.sources, localPath);
  if (archivePath === undefined) return undefined;
  const entry = m.entries.find((e) => e.path === archivePath);
  if (!entry) return undefined;
  const time = new Date(m.created);
  if (Number.isNaN(time.getTime())) return undefined;
  return { snapshot: m.id, label: m.label, host: m.host, time, archivePath, entry, holder: holderOf(m.id, entry) };
}

/** The version an entry of manifest `m` is (an entry picked in a listing of the archive). */
export function versionOfEntry(m: Pick<Manifest, 'id' | 'label' | 'host' | 'created'>, entry: ManifestEntry): FileVersion {
  return { snapshot: m.id, label: m.label, host: m.host, time: new Date(m.created), archivePath: entry.path, entry, holder: holderOf(m.id, entry), changed: true };
}

/** Versions newest first (ties by id, which sorts by time too), each marked changed or not against the next older one. */
export function orderVersions(found: readonly Omit<FileVersion, 'changed'>[]): FileVersion[] {
  const sorted = [...found].sort((a, b) => b.time.getTime() - a.time.getTime() || (a.snapshot < b.snapshot ? 1 : -1));
  return sorted.map((v, i) => {
    const older = sorted[i + 1];
    const same = v.entry.type === 'file' && older?.entry.type === 'file' && older.entry.sha256 === v.entry.sha256 && older.entry.size === v.entry.size;
    return { ...v, changed: !same };
  });
}

/** "just now", "5 minutes ago", "yesterday", "3 weeks ago", "2 years ago": how long before `now`. */
export function relativeTime(then: Date, now = new Date()): string {
  const s = Math.round((now.getTime() - then.getTime()) / 1000);
  if (s < 0) return 'in the future';
  if (s < 45) return 'just now';
  const steps: [number, string][] = [
    [60, 'minute'],
    [3600, 'hour'],
    [86_400, 'day'],
    [7 * 86_400, 'week'],
    [30 * 86_400, 'month'],
    [365 * 86_400, 'year'],
  ];
  let unit = steps[0]!;
  for (const step of steps) if (s >= step[0] * 0.95) unit = step;
  const n = Math.max(1, Math.round(s / unit[0]));
  if (unit[1] === 'day' && n === 1) return 'yesterday';
  return `${n} ${unit[1]}${n === 1 ? '' : 's'} ago`;
}
