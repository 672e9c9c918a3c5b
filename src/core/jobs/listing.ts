/**
 * The listing job: the archives of a store, each with its Glacier state and its manifest summary.
 * What `glacier-backup list` prints and what VS Code's Archives view shows; both call this.
 *
 * Costs: one LIST per 1,000 objects; one manifest read (GET + decrypt) per archive whose summary
 * the caller does not already have; one HEAD per archive in a class that needs a restore (LIST
 * does not report restore status). Other classes are 'available' without a request.
 *
 * Guarantees: the result holds every id that has an archive or a manifest, in listing order.
 * An unreadable manifest is a `problem` on its archive, not a failure of the listing; a failed
 * LIST (or, without `onStateError`, a failed HEAD) fails the job. Nothing is written to the store.
 */
import type { ArchiveStore } from '../store/archiveStore';
import type { Decryption } from '../crypto/openpgp';
import { describeError, GlacierError } from '../errors';
import { listArchives, readManifest } from '../catalog/catalog';
import type { Manifest } from '../catalog/manifest';
import { glacierState, needsRestore, type GlacierState } from '../model/glacierState';
import { archiveStatus } from './restoreRequest';
import { mapLimit } from '../util/mapLimit';

/** The parts of a manifest a listing shows; small enough to cache. */
export interface ArchiveSummary {
  label: string;
  created: string;
  host: string;
  sources: string[];
  fileCount: number;
  fileBytes: number;
}

export function summarise(m: Manifest): ArchiveSummary {
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
  /** Absent until known: for a manifest without archive, or while (or if) its HEAD fails. */
  state?: GlacierState;
  /** From the manifest (or the caller's cache); absent when it could not be read. */
  summary?: ArchiveSummary;
  problem?: ListingProblem;
}

/** Summaries the caller keeps between listings (VS Code keeps them on disk), keyed by archive id. */
export interface SummaryCache {
  get(id: string): ArchiveSummary | undefined;
  set(id: string, summary: ArchiveSummary): void;
}

export interface ListingRequest {
  store: ArchiveStore;
  /** What opens manifests; called once, and only when a manifest is to be read. Undefined: summaries stay absent. */
  decryption: () => Promise<Decryption | undefined>;
  summaries?: SummaryCache;
  signal?: AbortSignal;
  /**
   * Called after the LIST ('listed': ids, sizes, classes, cached summaries) and after the manifests
   * ('summaries'), with the array the job goes on filling in, so a view can show it early.
   */
  onPhase?: (phase: 'listed' | 'summaries', archives: readonly ListedArchive[]) => void | Promise<void>;
  /** A failed HEAD leaves the state absent and is reported here; without it, it fails the job. */
  onStateError?: (id: string, err: unknown) => void;
}

export interface Listing {
  archives: ListedArchive[];
  /** Some manifests were not read because `decryption` gave nothing. */
  needsKey: boolean;
}

export async function listArchivesWithState(req: ListingRequest): Promise<Listing> {
  const { store, signal } = req;
  const listing = await listArchives(store, signal);
  const archives = listing.map((l): ListedArchive => {
    const a: ListedArchive = { id: l.id };
    if (l.archive) {
      a.size = l.archive.size;
      a.storageClass = l.archive.storageClass;
      if (l.archive.lastModified) a.lastModified = l.archive.lastModified;
      if (!needsRestore(l.archive.storageClass)) a.state = glacierState(l.archive.storageClass, undefined);
    }
    const cached = req.summaries?.get(l.id);
    if (cached) a.summary = cached;
    if (!l.archive) a.problem = { kind: 'manifest-without-archive', message: 'manifest without archive' };
    else if (!l.manifest) a.problem = { kind: 'archive-without-manifest', message: 'archive without manifest' };
    return a;
  });
  await req.onPhase?.('listed', archives);

  const hasManifest = new Set(listing.filter((l) => l.manifest).map((l) => l.id));
  const unread = archives.filter((a) => !a.summary && hasManifest.has(a.id));
  let needsKey = false;
  if (unread.length > 0) {
    const dec = await req.decryption();
    if (!dec) needsKey = true;
    else {
      await mapLimit(unread, 4, async (a) => {
        try {
          a.summary = summarise(await readManifest(store, a.id, dec, signal));
          req.summaries?.set(a.id, a.summary);
        } catch (err) {
          if (signal?.aborted) throw err;
          a.problem ??= { kind: 'manifest-unreadable', message: describeError(err), ...(err instanceof GlacierError && err.code === 'crypto' ? { locked: true as const } : {}) };
        }
      });
    }
    await req.onPhase?.('summaries', archives);
  }

  const glacier = archives.filter((a) => a.size !== undefined && needsRestore(a.storageClass));
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
