/**
 * Deleting one archive: its catalog summary, its manifest, then its archive object, then the local
 * records that name it (the last-backup record, a pending restore). Used by the CLI's `delete` and `prune` and by
 * VS Code's Delete… command.
 *
 * Order: the manifest goes first. A manifest is what makes an archive listed as restorable
 * (files, label, sources); an archive object without one is only an orphan, which `check` reports
 * and running this delete again removes. Deleting the archive first would, if the second request failed,
 * leave a manifest that offers a restore of something that no longer exists. The summary goes
 * before the manifest: without its manifest it would be a leftover (`check` reports it).
 *
 * Guarantees: the result says exactly which objects were deleted; a failure throws, and its
 * message says what was and was not deleted. An id with neither object is "not found" (a store
 * answers a delete of a missing key with success, so existence is looked up first).
 */
import { describeError, GlacierError, throwIfAborted } from '../errors';
import type { ArchiveStore } from '../store/archiveStore';
import { keys } from '../model/keys';
import { forgetBackup, recordsOf } from '../catalog/dedupState';
import { className, dollars, earlyDeletionFee, minimumEnds, monthlyCost } from '../model/pricing';
import { RestoreTracker, type PendingStore } from './restoreTracker';

export interface DeleteRequest {
  store: ArchiveStore;
  id: string;
  /** The folder of the local last-backup records; a record naming this archive is dropped. */
  stateDir?: string;
  /** The local pending restores; an entry for this archive is dropped. */
  pending?: PendingStore;
  signal?: AbortSignal;
}

export interface DeleteResult {
  id: string;
  /** What was deleted, in order. */
  deleted: ('summary' | 'manifest' | 'archive')[];
}

export async function deleteArchive(req: DeleteRequest): Promise<DeleteResult> {
  const { store, id, signal } = req;
  const found = await findArchive(store, id);
  const hasManifest = found.manifest;
  const hasArchive = found.archive !== undefined;
  const deleted: DeleteResult['deleted'] = [];
  const remove = async (key: string): Promise<void> => {
    throwIfAborted(signal, `delete ${id}`);
    await store.delete(key, { signal });
  };
  if (found.summary) {
    try {
      await remove(keys.summary(id));
    } catch (err) {
      throw new GlacierError(err instanceof GlacierError ? err.code : 's3', `archive ${id} was not deleted: ${describeError(err)}`, { cause: err });
    }
    deleted.push('summary');
  }
  if (hasManifest) {
    try {
      await remove(keys.manifest(id));
    } catch (err) {
      const what = deleted.length ? `its catalog summary was deleted but its manifest was not (${describeError(err)}); "glacier-backup delete ${id}" again removes it` : describeError(err);
      throw new GlacierError(err instanceof GlacierError ? err.code : 's3', `archive ${id} was not deleted: ${what}`, { cause: err });
    }
    deleted.push('manifest');
  }
  if (hasArchive) {
    try {
      await remove(keys.archive(id));
    } catch (err) {
      const what = deleted.includes('manifest') ? `its manifest was deleted but its archive object was not (${describeError(err)}); "glacier-backup delete ${id}" again removes it` : describeError(err);
      throw new GlacierError(err instanceof GlacierError ? err.code : 's3', `archive ${id}: ${what}`, { cause: err });
    }
    deleted.push('archive');
  }
  // Local records are a cache and a to-do list: a failure here does not undo the deletion.
  if (req.stateDir) {
    const dir = req.stateDir;
    for (const r of await recordsOf(dir, store).catch(() => [])) {
      if (r.record.id === id) await forgetBackup(dir, store, r.sources, id).catch(() => undefined);
    }
  }
  if (req.pending) await new RestoreTracker({ store, pending: req.pending }).remove(id).catch(() => undefined);
  return { id, deleted };
}

export interface FoundArchive {
  /** The archive object, if present. */
  archive?: { size: number; storageClass: string; uploaded?: Date };
  manifest: boolean;
  /** Whether it has a catalog summary (archives written before summaries have none). */
  summary: boolean;
}

/** Looks up both objects of an archive (HEAD works in every storage class); "not found" if neither exists. */
export async function findArchive(store: ArchiveStore, id: string): Promise<FoundArchive> {
  const headArchive = async (): Promise<FoundArchive['archive']> => {
    const head = await store.head(keys.archive(id));
    return head && { size: head.size, storageClass: head.storageClass, ...(head.lastModified ? { uploaded: head.lastModified } : {}) };
  };
  const [archive, manifest, summary] = await Promise.all([headArchive(), store.has(keys.manifest(id)), store.has(keys.summary(id))]);
  if (!archive && !manifest) throw new GlacierError('not-found', `archive ${id} is not in ${store.name}`);
  return { ...(archive ? { archive } : {}), manifest, summary };
}

/** What deleting an archive now costs and saves: the early-deletion fee, and until when it applies. */
export function deletionCost(archive: { size: number; storageClass: string; uploaded?: Date }, now: Date): { fee: number; minimumEnds?: Date } {
  const ends = archive.uploaded ? minimumEnds(archive.storageClass, archive.uploaded) : undefined;
  const fee = earlyDeletionFee(archive.size, archive.storageClass, archive.uploaded, now);
  return { fee, ...(ends && ends.getTime() > now.getTime() ? { minimumEnds: ends } : {}) };
}

/** The cost of deleting now in one line, as both front ends state it before they delete. */
export function deletionCostNote(archive: { size: number; storageClass: string; uploaded?: Date }, now: Date): string {
  const cost = deletionCost(archive, now);
  return cost.minimumEnds
    ? `early-deletion fee: about ${dollars(cost.fee)} (${className(archive.storageClass)} bills at least until ${cost.minimumEnds.toISOString().slice(0, 10)}); it saves nothing before then`
    : `no early-deletion fee applies; it saves about ${dollars(monthlyCost(archive.size, archive.storageClass))} per month`;
}

/**
 * Whether the store keeps old versions (S3 versioning Enabled or Suspended): a delete then only
 * adds a delete marker, and the data is billed until a lifecycle rule expires it. False when unknown.
 */
export async function keepsOldVersions(store: ArchiveStore, signal?: AbortSignal): Promise<boolean> {
  return (await store.keepsOldVersions?.({ signal })) ?? false;
}
