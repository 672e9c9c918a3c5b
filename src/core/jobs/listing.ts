/**
 * The listing job: the archives of a store, each with its Glacier state and its manifest summary.
 * What `glacier-backup list` prints and what VS Code's Archives view shows; both call this.
 *
 * Costs: one LIST per 1,000 objects; for each snapshot whose summary is not in the local cache,
 * one GET + decrypt of its catalog summary (catalog/summary.ts: a few hundred bytes), or of its
 * manifest when it has none (older archives), 8 at a time. The Glacier state of an archive in a
 * class that needs a restore comes from the LIST when the store reports it (S3 on AWS, or a server
 * that showed it supports ListObjectsV2's RestoreStatus: store/s3/listedRestore.ts), else from one
 * HEAD per such archive, 8 at a time (MinIO, Ceph, moto). Other classes are 'available' without a
 * request. With `cacheDir`, what was read is kept there (catalog/summaryCache.ts, keyed by object
 * and ETag), so listing an unchanged bucket again reads nothing but the LIST (on AWS: one request
 * per 1,000 objects) and, where the LIST gives no states, the HEADs.
 *
 * Guarantees: the result holds every id that has an archive or a manifest, in listing order.
 * An unreadable manifest is a `problem` on its archive, not a failure of the listing; a failed
 * LIST (or, without `onStateError`, a failed HEAD) fails the job. Nothing is written to the store.
 */
import type { ArchiveStore } from '../store/archiveStore';
import type { Decryption } from '../crypto/openpgp';
import { describeError, GlacierError } from '../errors';
import { listArchives } from '../catalog/catalog';
import type { Manifest } from '../catalog/manifest';
import { readHeader, type CatalogSummary } from '../catalog/summary';
import { SummaryCache, type ArchiveSummary } from '../catalog/summaryCache';
import { keys } from '../model/keys';
import { glacierState, needsRestore, type GlacierState } from '../model/glacierState';
import { archiveStatus } from './restoreRequest';
import { mapLimit } from '../util/mapLimit';

export type { ArchiveSummary };

/** The parts of a manifest (or of its summary) a listing shows. */
export function summarise(m: Manifest | CatalogSummary): ArchiveSummary {
  return { label: m.label, created: m.created, host: m.host, sources: m.sources.map((s) => s.path), fileCount: m.fileCount, fileBytes: m.fileBytes };
}

/** Why an archive cannot be used as is; `message` is the sentence a front end shows. */
export interface ListingProblem {
  kind: 'manifest-without-archive' | 'archive-without-manifest' | 'manifest-unreadable';
  message: string;
  /** The manifest is intact but the keys given do not open it (made under another passphrase or key). */
  locked?: true;
}

export interface ListedArchive {
  id: string;
  /** Archive object size (bytes), storage class and upload time; absent for a manifest without archive. */
  size?: number;
  storageClass?: string;
  lastModified?: Date;
  /** Absent until known: for a manifest without archive, or while (or if) its HEAD fails; from the LIST when it reports it. */
  state?: GlacierState;
  /** From the summary or manifest (or the local cache); absent when it could not be read. */
  summary?: ArchiveSummary;
  problem?: ListingProblem;
}

export interface ListingRequest {
  store: ArchiveStore;
  /** What opens manifests; called once, and only when a manifest is to be read. Undefined: summaries stay absent. */
  decryption: () => Promise<Decryption | undefined>;
  /** The local state folder: summaries read are cached there (safe to delete) and not read again. */
  cacheDir?: string;
  signal?: AbortSignal;
  /**
   * Called after the LIST ('listed': ids, sizes, classes, cached summaries) and after the summaries
   * were read ('summaries'), with the array the job goes on filling in, so a view can show it early.
   */
  onPhase?: (phase: 'listed' | 'summaries', archives: readonly ListedArchive[]) => void | Promise<void>;
  /** A failed HEAD leaves the state absent and is reported here; without it, it fails the job. */
  onStateError?: (id: string, err: unknown) => void;
}

export interface Listing {
  archives: ListedArchive[];
  /** Some summaries were not read because `decryption` gave nothing. */
  needsKey: boolean;
}

export async function listArchivesWithState(req: ListingRequest): Promise<Listing> {
  const { store, signal } = req;
  // An id with only a summary is a leftover of a backup that stopped (`check` reports it).
  const listing = (await listArchives(store, signal)).filter((l) => l.archive || l.manifest);
  const cache = req.cacheDir ? await SummaryCache.open(req.cacheDir, store) : undefined;
  const archives = listing.map((l): ListedArchive => {
    const a: ListedArchive = { id: l.id };
    if (l.archive) {
      a.size = l.archive.size;
      a.storageClass = l.archive.storageClass;
      if (l.archive.lastModified) a.lastModified = l.archive.lastModified;
      if (!needsRestore(l.archive.storageClass)) a.state = glacierState(l.archive.storageClass, undefined);
      else if (l.archive.glacier) a.state = l.archive.glacier;
    }
    const cached = l.manifest && (cache?.get(keys.summary(l.id), l.summary?.etag) ?? cache?.get(keys.manifest(l.id), l.manifest.etag));
    if (cached) a.summary = cached;
    if (!l.archive) a.problem = { kind: 'manifest-without-archive', message: 'manifest without archive' };
    else if (!l.manifest) a.problem = { kind: 'archive-without-manifest', message: 'archive without manifest' };
    return a;
  });
  await req.onPhase?.('listed', archives);

  const unread = listing.flatMap((item, i) => (item.manifest && !archives[i]!.summary ? [{ item, listed: archives[i]! }] : []));
  let needsKey = false;
  if (unread.length > 0) {
    const dec = await req.decryption();
    if (!dec) needsKey = true;
    else {
      await mapLimit(unread, 8, async ({ item, listed }) => {
        try {
          const read = await readHeader(store, item, dec, signal);
          listed.summary = summarise(read.header);
          cache?.set(read.key, read.etag, listed.summary);
        } catch (err) {
          if (signal?.aborted) throw err;
          listed.problem ??= { kind: 'manifest-unreadable', message: describeError(err), ...(err instanceof GlacierError && err.code === 'crypto' ? { locked: true as const } : {}) };
        }
      });
    }
  }
  await cache?.save().catch(() => undefined); // a cache: the next listing reads again
  if (unread.length > 0) await req.onPhase?.('summaries', archives);

  // Only archives whose state the LIST did not give: a HEAD each, 8 at a time (16 was no faster on loopback moto).
  const glacier = archives.filter((a) => a.size !== undefined && needsRestore(a.storageClass) && !a.state);
  await mapLimit(glacier, 8, async (a) => {
    try {
      a.state = (await archiveStatus(store, a.id, signal)).glacier;
    } catch (err) {
      if (!req.onStateError || signal?.aborted) throw err;
      req.onStateError(a.id, err);
    }
  });
  return { archives, needsKey };
}
