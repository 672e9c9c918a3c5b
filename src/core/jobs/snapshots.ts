/**
 * The snapshots of a store as retention and freshness see them: every archive that has both its
 * objects and a readable manifest, with its source set (host + selected paths), creation time,
 * size and storage class, read from its catalog summary (its manifest when it has none). Reading
 * them needs the passphrase or a private key.
 *
 * Guarantees: an archive whose manifest cannot be read is never a snapshot; it is listed in
 * `unreadable` with the reason, so a caller can say so (and never deletes or counts it).
 */
import type { ArchiveStore } from '../store/archiveStore';
import type { Decryption } from '../crypto/openpgp';
import { describeError } from '../errors';
import { listArchives } from '../catalog/catalog';
import { readHeader } from '../catalog/summary';
import { archivesNeeded, manifestVersion, sourcesKey } from '../catalog/manifest';
import { mapLimit } from '../util/mapLimit';

export interface SnapshotInfo {
  id: string;
  /** The manifest's creation time. */
  time: Date;
  host: string;
  sources: string[];
  /** sourcesKey(host, sources): snapshots with the same key form one source set. */
  set: string;
  label: string;
  format: number;
  /** The archives a restore of it reads (format.md "Chains"), its own included: for version 1 just its own. */
  needs: string[];
  archive: { size: number; storageClass: string; uploaded?: Date };
}

export interface SnapshotListing {
  snapshots: SnapshotInfo[];
  unreadable: { id: string; problem: string }[];
}

export async function listSnapshots(store: ArchiveStore, dec: Decryption, signal?: AbortSignal): Promise<SnapshotListing> {
  const items = (await listArchives(store, signal)).filter((i) => i.archive && i.manifest);
  const unreadable: SnapshotListing['unreadable'] = [];
  const read = await mapLimit(items, 8, async (item): Promise<SnapshotInfo | undefined> => {
    try {
      const m = (await readHeader(store, item, dec, signal)).header;
      const time = new Date(m.created);
      if (Number.isNaN(time.getTime())) throw new Error(`its creation time "${m.created}" is not a date`);
      const sources = m.sources.map((s) => s.path);
      const a = item.archive!;
      return {
        id: m.id,
        time,
        host: m.host,
        sources,
        set: sourcesKey(m.host, m.sources),
        label: m.label,
        format: m.version ?? manifestVersion,
        needs: archivesNeeded(m),
        archive: { size: a.size, storageClass: a.storageClass, ...(a.lastModified ? { uploaded: a.lastModified } : {}) },
      };
    } catch (err) {
      if (signal?.aborted) throw err;
      unreadable.push({ id: item.id, problem: describeError(err) });
      return undefined;
    }
  });
  return { snapshots: read.filter((s): s is SnapshotInfo => s !== undefined), unreadable };
}

/** Snapshots grouped by source set, each group newest first; groups in a stable order (by set key). */
export function bySourceSet<S extends { set: string; time: Date }>(snapshots: readonly S[]): { set: string; snapshots: S[] }[] {
  const groups = new Map<string, S[]>();
  for (const s of snapshots) {
    let g = groups.get(s.set);
    if (!g) groups.set(s.set, (g = []));
    g.push(s);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([set, list]) => ({ set, snapshots: list.sort((x, y) => y.time.getTime() - x.time.getTime()) }));
}

/** restic's --host and --path filters: the host matches, and every given path is one of the set's sources. */
export function matchesFilter(s: { host: string; sources: readonly string[] }, filter: { host?: string; paths?: readonly string[] }): boolean {
  if (filter.host !== undefined && s.host !== filter.host) return false;
  return (filter.paths ?? []).every((p) => s.sources.includes(p));
}
