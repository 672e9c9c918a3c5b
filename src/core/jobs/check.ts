/**
 * The consistency check of one bucket and prefix, and of the local state that points into it:
 * archives without a manifest (a crash between the two writes), manifests without an archive
 * (the archive was deleted by hand), catalog summaries without a manifest (a backup stopped
 * between the two), multipart uploads never finished (a killed backup), and
 * pending restores or last-backup records naming archives that are gone. An unfinished upload
 * that a journal of this machine can resume is named as such (repairing it forgets the journal).
 *
 * Guarantees: without `repair` nothing is changed. With it, each problem is announced (onRepair)
 * before it is acted on: manifests without an archive are deleted (with their summaries), leftover
 * summaries deleted, old unfinished uploads
 * aborted, stale local records dropped. An archive without a manifest is never deleted unless
 * `deleteOrphanArchives` asks for it (and the announcement says its data goes with it): its
 * manifest is rebuilt from it when it can be read now (`rebuild` given), otherwise it is kept and
 * the problem stays, saying how to restore it and rebuild; an increment's is never rebuilt
 * (rebuild.ts), nor deleted while later snapshots need it. Work that may still be in progress is
 * left alone: unfinished uploads and archives without a manifest younger than `olderThan` are only
 * counted (a backup may be running in another window or on another machine).
 *
 * A check the credentials (or the local state) do not allow is not skipped silently: it is named
 * in `unchecked` with why, and the report is then not `consistent`. On a versioned bucket, old
 * versions are no problem (a note says they stay billed); an archive whose manifest was deleted
 * there is repaired by removing the manifest's delete marker, which brings it back.
 */
import type { Decryption, Encryption } from '../crypto/openpgp';
import { describeError, GlacierError, throwIfAborted } from '../errors';
import type { ArchiveStore, OpenUpload, VersionsSummary } from '../store/archiveStore';
import { needsRestore } from '../model/glacierState';
import { keys } from '../model/keys';
import { archiveStatus } from './restoreRequest';
import { rebuildManifest, rebuiltLabel } from './rebuild';
import { agree, dependentsOf, namedSnapshots } from './dependents';
import { listArchives } from '../catalog/catalog';
import { forgetBackup, recordsOf } from '../catalog/dedupState';
import { interruptedUploads, removeJournal, type UploadJournal } from '../catalog/uploadJournal';
import { RestoreTracker, type PendingStore } from './restoreTracker';
import { formatBytes } from '../model/format';

export type ProblemKind = 'archive-without-manifest' | 'manifest-without-archive' | 'summary-without-manifest' | 'unfinished-upload' | 'pending-restore-missing' | 'last-backup-missing';

export interface CheckProblem {
  kind: ProblemKind;
  /** The archive id, when the problem is about one. */
  id?: string;
  /** The object key in the bucket (or of the unfinished upload). */
  key?: string;
  uploadId?: string;
  /** When the object was written or the upload started. */
  since?: Date;
  /** One line for the user. */
  message: string;
  /** What `repair` does (or did) about it. */
  repair: string;
  repaired: boolean;
  /** Why the repair failed, if it did. */
  repairError?: string;
  /** The local journal that could resume this unfinished upload, if any. */
  journal?: UploadJournal;
  /**
   * An archive without a manifest: what repair does. 'rebuild' its manifest from it (it can be
   * read now); 'delete' it, and its data with it (only with `deleteOrphanArchives`); 'keep' it
   * (it cannot be read now, or nothing to open it was given): `repair` then says what to do;
   * 'undelete' its manifest, hidden behind a delete marker on a versioned bucket (`marker`).
   */
  orphan?: 'rebuild' | 'delete' | 'keep' | 'undelete';
  /** The version id of the delete marker that hides the manifest ('undelete'). */
  marker?: string;
}

export interface CheckReport {
  /** Archives with both their objects. */
  archives: number;
  problems: CheckProblem[];
  /** Left alone because younger than `olderThan`: they may belong to a backup still running. */
  inProgress: { uploads: number; archivesWithoutManifest: number };
  /** Checks that could not be made (access refused, local state unreadable), one line each saying why. */
  unchecked: string[];
  /** What is worth knowing and no problem, e.g. old versions on a versioned bucket that stay billed. */
  notes: string[];
  /** No problem left (after repair, if asked), and every check was made. */
  consistent: boolean;
}

export interface CheckRequest {
  store: ArchiveStore;
  /** Milliseconds; unfinished uploads and manifest-less archives younger than this are left alone (default 24 h). */
  olderThan?: number;
  /** The local pending restores to check (CLI: pending-restores.json; VS Code: its own store). */
  pending?: PendingStore;
  /** The folder of the local last-backup records. */
  stateDir?: string;
  repair?: boolean;
  /**
   * What opens an archive without a manifest and encrypts the manifest rebuilt from it; asked for
   * only when a rebuild is about to happen (a front end may prompt). Undefined: nothing at hand.
   */
  rebuild?: () => Promise<{ decryption: Decryption; encryption: Encryption } | undefined>;
  /** Repair deletes archives without a manifest instead of keeping them, and their data with them. */
  deleteOrphanArchives?: boolean;
  now?: () => number;
  signal?: AbortSignal;
  /** Called before each repair action. */
  onRepair?: (problem: CheckProblem) => void;
}

export const defaultCheckAge = 24 * 60 * 60_000;

export async function check(req: CheckRequest): Promise<CheckReport> {
  const { store, signal } = req;
  const now = (req.now ?? Date.now)();
  const olderThan = req.olderThan ?? defaultCheckAge;
  const problems: CheckProblem[] = [];
  const inProgress = { uploads: 0, archivesWithoutManifest: 0 };
  const unchecked: string[] = [];
  const notes: string[] = [];
  /** The unfinished upload each 'unfinished-upload' problem is about, for repair. */
  const uploads = new Map<CheckProblem, OpenUpload>();

  const listing = await listArchives(store, signal);
  const versions = await store.versions?.({ signal });
  if (versions && versions.noncurrent.count + versions.deleteMarkers.size > 0) {
    const { count, bytes } = versions.noncurrent;
    notes.push(
      `the bucket keeps ${count} old version${count === 1 ? '' : 's'} (${formatBytes(bytes)}) and ${versions.deleteMarkers.size} delete marker${versions.deleteMarkers.size === 1 ? '' : 's'} under the prefix (versioning): no problem, but old versions stay billed until a lifecycle rule expires them`,
    );
  }
  const complete = new Set(listing.filter((i) => i.archive && i.manifest).map((i) => i.id));
  for (const item of listing) {
    if (item.archive && !item.manifest) {
      const since = item.archive.lastModified;
      if (since && now - since.getTime() < olderThan) {
        inProgress.archivesWithoutManifest++;
        continue;
      }
      problems.push(await orphanArchive(req, item.id, item.archive.storageClass, since, versions));
    } else if (item.manifest && !item.archive) {
      const key = store.objectKey(keys.manifest(item.id));
      const hidden = versions?.deleteMarkers.get(keys.archive(item.id));
      const kept = hidden ? `; the versioned bucket keeps its old version behind delete marker ${hidden}, billed until removed` : '';
      problems.push({ kind: 'manifest-without-archive', id: item.id, key, message: `manifest of ${item.id} has no archive (the archive was deleted${kept})`, repair: `delete ${key}`, repaired: false });
    } else if (item.summary && !item.manifest && !item.archive) {
      // With its archive, the summary is the orphan archive's business (repair rebuilds or deletes both).
      const since = item.summary.lastModified;
      if (since && now - since.getTime() < olderThan) continue; // a backup about to write its manifest
      const key = store.objectKey(keys.summary(item.id));
      problems.push({ kind: 'summary-without-manifest', id: item.id, key, since, message: `catalog summary of ${item.id} has no manifest and no archive (a leftover of a backup that stopped)`, repair: `delete ${key}`, repaired: false });
    }
  }

  // Uploads this machine's journals can resume (see catalog/uploadJournal.ts) are named as such.
  const resumable = req.stateDir
    ? await interruptedUploads(req.stateDir, store).catch((err: unknown) => {
        unchecked.push(`which unfinished uploads this machine can resume: its upload journals could not be read (${describeError(err)})`);
        return [];
      })
    : [];
  for (const u of await store.openUploads(undefined, { signal, action: 'list unfinished uploads' }).catch((err: unknown) => {
    if (!refused(err)) throw err;
    unchecked.push(`unfinished uploads: ${describeError(err)} (it needs s3:ListBucketMultipartUploads)`);
    return [];
  })) {
    const since = u.initiated;
    if (since && now - since.getTime() < olderThan) {
      inProgress.uploads++;
      continue;
    }
    const interrupted = resumable.find((r) => keys.archive(r.journal.id) === u.key && (r.journal.uploadId ?? u.uploadId) === u.uploadId);
    const note = interrupted ? ` (a backup interrupted on this machine: the next backup of ${interrupted.paths.join(', ')} resumes it)` : '';
    const key = store.objectKey(u.key);
    const problem: CheckProblem = {
      kind: 'unfinished-upload',
      key,
      uploadId: u.uploadId,
      since,
      message: `unfinished upload of ${key} started ${since ? since.toISOString() : 'at an unknown time'}${note}`,
      repair: `abort the upload of ${key}${interrupted ? ' (that backup then starts over)' : ''}`,
      repaired: false,
      ...(interrupted ? { journal: interrupted.journal } : {}),
    };
    uploads.set(problem, u);
    problems.push(problem);
  }

  if (req.pending) {
    const tracker = new RestoreTracker({ store, pending: req.pending });
    const pending = await tracker.pending().catch((err: unknown) => {
      unchecked.push(`pending restores: the local list could not be read (${describeError(err)})`);
      return [];
    });
    for (const p of pending) {
      if (complete.has(p.id)) continue;
      problems.push({ kind: 'pending-restore-missing', id: p.id, message: `a pending restore names ${p.id}, which is missing or incomplete in the bucket`, repair: `stop tracking the restore of ${p.id}`, repaired: false });
    }
  }
  if (req.stateDir) {
    const records = await recordsOf(req.stateDir, store).catch((err: unknown) => {
      unchecked.push(`last-backup records: the local state could not be read (${describeError(err)})`);
      return [];
    });
    for (const { sources, record } of records) {
      if (complete.has(record.id)) continue;
      problems.push({
        kind: 'last-backup-missing',
        id: record.id,
        key: sources,
        message: `the local record of the last backup names ${record.id}, which is missing or incomplete in the bucket`,
        repair: `forget the local record of ${record.id}`,
        repaired: false,
      });
    }
  }

  if (req.repair) {
    for (const p of problems) {
      throwIfAborted(signal, 'check');
      if (p.orphan === 'keep') continue; // not repaired: `repair` says what would be needed
      req.onRepair?.(p);
      try {
        await repairOne(req, p, uploads);
        p.repaired = true;
      } catch (err) {
        p.repairError = describeError(err);
      }
    }
  }
  return { archives: complete.size, problems, inProgress, unchecked, notes, consistent: unchecked.length === 0 && problems.every((p) => p.repaired) };
}

async function repairOne(req: CheckRequest, p: CheckProblem, uploads: ReadonlyMap<CheckProblem, OpenUpload>): Promise<void> {
  const { store } = req;
  const action = { signal: req.signal, action: p.repair };
  switch (p.kind) {
    case 'archive-without-manifest':
      if (p.orphan === 'undelete') {
        await store.removeDeleteMarker?.(keys.manifest(p.id!), p.marker!, action);
        return;
      }
      if (p.orphan === 'rebuild') {
        const opener = await req.rebuild!();
        if (!opener) throw new GlacierError('usage', `rebuilding the manifest of ${p.id} needs what opens it: the passphrase, or the private key (--identity) and the recipients`);
        await rebuildManifest({ store, id: p.id!, decryption: opener.decryption, encryption: opener.encryption, signal: req.signal });
        return;
      }
      if (p.orphan !== 'delete') throw new GlacierError('usage', `${p.id} is kept: ${p.repair}`);
      await refuseIfNeeded(req, p.id!);
      await store.delete(keys.summary(p.id!), action);
      await store.delete(keys.archive(p.id!), action);
      return;
    case 'manifest-without-archive':
      await store.delete(keys.summary(p.id!), action);
      await store.delete(keys.manifest(p.id!), action);
      return;
    case 'summary-without-manifest':
      await store.delete(keys.summary(p.id!), action);
      return;
    case 'unfinished-upload':
      await store.abortUpload(uploads.get(p)!, action);
      if (p.journal) await removeJournal(req.stateDir!, store, p.journal.sources, p.journal.id);
      return;
    case 'pending-restore-missing':
      await new RestoreTracker({ store, pending: req.pending! }).remove(p.id!);
      return;
    case 'last-backup-missing':
      await forgetBackup(req.stateDir!, store, p.key!, p.id!);
      return;
  }
}

/**
 * The problem of an archive without a manifest, and what repair does about it: never a deletion
 * unless asked for (`deleteOrphanArchives`), since the archive may be all that is left of a
 * backup whose manifest someone deleted.
 */
async function orphanArchive(req: CheckRequest, id: string, storageClass: string, since: Date | undefined, versions: VersionsSummary | undefined): Promise<CheckProblem> {
  const key = req.store.objectKey(keys.archive(id));
  const marker = versions?.deleteMarkers.get(keys.manifest(id));
  if (marker && req.store.removeDeleteMarker) {
    return { kind: 'archive-without-manifest', id, key, since, repaired: false, message: `archive ${id} has no manifest: it was deleted, and the versioned bucket keeps it behind delete marker ${marker}`, orphan: 'undelete', marker, repair: `bring back the manifest of ${id} by removing its delete marker (${marker})` };
  }
  const base = { kind: 'archive-without-manifest' as const, id, key, since, repaired: false, message: `archive ${id} has no manifest (a backup interrupted before it finished, or its manifest was deleted)` };
  if (req.deleteOrphanArchives) return { ...base, orphan: 'delete', repair: `delete ${key}: the archive and all the data in it are gone for good` };
  let state;
  try {
    state = needsRestore(storageClass) ? (await archiveStatus(req.store, id, req.signal)).glacier.state : 'available';
  } catch (err) {
    if (!refused(err)) throw err;
    return { ...base, orphan: 'keep', repair: `none known: whether it is restored could not be read (${describeError(err)}); run check with credentials that may read archives, or --delete-orphan-archives deletes it with its data` };
  }
  if (state === 'archived' || state === 'restoring') {
    return {
      ...base,
      orphan: 'keep',
      repair: `none while it is in ${storageClass} and ${state === 'archived' ? 'not restored' : 'still being restored'}: restore it (glacier-backup restore ${id}), then run check --repair again to rebuild its manifest from it; or --delete-orphan-archives deletes it with its data`,
    };
  }
  if (!req.rebuild) return { ...base, orphan: 'keep', repair: `none: rebuilding its manifest needs the passphrase or private key that opens it; --delete-orphan-archives deletes it with its data` };
  return { ...base, orphan: 'rebuild', repair: `rebuild the manifest of ${id} from the archive (labelled "${rebuiltLabel}")` };
}

/**
 * An archive without a manifest may be an increment's whose later snapshots still restore through
 * it (format.md "Chains"): it is not deleted then. Told when what opens the catalog is at hand.
 */
async function refuseIfNeeded(req: CheckRequest, id: string): Promise<void> {
  const opener = await req.rebuild?.();
  if (!opener) return;
  const { needers } = await dependentsOf(req.store, id, () => Promise.resolve(opener.decryption), req.signal);
  if (needers.length) throw new GlacierError('usage', `${id} is kept: ${namedSnapshots(needers.map((d) => d.id))} of its chain ${agree(needers, 'needs', 'need')} it to be restored`);
}

/** The store refused the request for want of permission. */
function refused(err: unknown): boolean {
  return err instanceof GlacierError && err.code === 'access-denied';
}
