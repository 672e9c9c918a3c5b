/**
 * Deleting one archive: its manifest, then its archive object, then the local records that name
 * it (the last-backup record, a pending restore). Used by the CLI's `delete` and `prune` and by
 * VS Code's Delete… command.
 *
 * Order: the manifest goes first. A manifest is what makes an archive listed as restorable
 * (files, label, sources); an archive object without one is only an orphan, which `check` reports
 * and running this delete again removes. Deleting the archive first would, if the second request failed,
 * leave a manifest that offers a restore of something that no longer exists.
 *
 * Guarantees: the result says exactly which objects were deleted; a failure throws, and its
 * message says what was and was not deleted. An id with neither object is "not found" (S3
 * answers a DELETE of a missing key with success, so existence is looked up first).
 */
import { DeleteObjectCommand, GetBucketVersioningCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { keys, type StoreConfig } from '../config';
import { describeError, GlacierError, isNotFound, s3Error, throwIfAborted } from '../errors';
import { forgetBackup, recordsOf } from '../catalog/dedupState';
import { earlyDeletionFee, minimumEnds } from '../model/pricing';
import { isPresent } from '../store/s3/storedCheck';
import { RestoreTracker, type PendingStore } from './restoreTracker';

export interface DeleteRequest {
  client: S3Client;
  store: StoreConfig;
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
  deleted: ('manifest' | 'archive')[];
}

export async function deleteArchive(req: DeleteRequest): Promise<DeleteResult> {
  const { client, store, id, signal } = req;
  const manifestKey = keys.manifest(store.prefix, id);
  const archiveKey = keys.archive(store.prefix, id);
  const found = await findArchive(client, store, id);
  const hasManifest = found.manifest;
  const hasArchive = found.archive !== undefined;
  const deleted: DeleteResult['deleted'] = [];
  const remove = async (key: string): Promise<void> => {
    throwIfAborted(signal, `delete ${id}`);
    try {
      await client.send(new DeleteObjectCommand({ Bucket: store.bucket, Key: key }), { abortSignal: signal });
    } catch (err) {
      throw s3Error(err, { bucket: store.bucket, endpoint: store.endpoint, action: `delete ${key}` });
    }
  };
  if (hasManifest) {
    try {
      await remove(manifestKey);
    } catch (err) {
      throw new GlacierError(err instanceof GlacierError ? err.code : 's3', `archive ${id} was not deleted: ${describeError(err)}`, { cause: err });
    }
    deleted.push('manifest');
  }
  if (hasArchive) {
    try {
      await remove(archiveKey);
    } catch (err) {
      const what = deleted.length ? `its manifest was deleted but its archive object was not (${describeError(err)}); "glacier-backup delete ${id}" again removes it` : describeError(err);
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
  if (req.pending) await new RestoreTracker({ client, store, pending: req.pending }).remove(id).catch(() => undefined);
  return { id, deleted };
}

export interface FoundArchive {
  /** The archive object, if present. */
  archive?: { size: number; storageClass: string; uploaded?: Date };
  manifest: boolean;
}

/** Looks up both objects of an archive (HEAD works in every storage class); "not found" if neither exists. */
export async function findArchive(client: S3Client, store: StoreConfig, id: string): Promise<FoundArchive> {
  const headArchive = async (): Promise<FoundArchive['archive']> => {
    const key = keys.archive(store.prefix, id);
    try {
      const head = await client.send(new HeadObjectCommand({ Bucket: store.bucket, Key: key }));
      return { size: head.ContentLength ?? 0, storageClass: head.StorageClass ?? 'STANDARD', ...(head.LastModified ? { uploaded: head.LastModified } : {}) };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw s3Error(err, { bucket: store.bucket, endpoint: store.endpoint, action: `check ${key}` });
    }
  };
  const [archive, manifest] = await Promise.all([headArchive(), isPresent(client, store, keys.manifest(store.prefix, id))]);
  if (!archive && !manifest) throw new GlacierError('not-found', `archive ${id} is not in s3://${store.bucket}/${store.prefix}`);
  return { ...(archive ? { archive } : {}), manifest };
}

/** What deleting an archive now costs and saves: the early-deletion fee, and until when it applies. */
export function deletionCost(archive: { size: number; storageClass: string; uploaded?: Date }, now: Date): { fee: number; minimumEnds?: Date } {
  const ends = archive.uploaded ? minimumEnds(archive.storageClass, archive.uploaded) : undefined;
  const fee = earlyDeletionFee(archive.size, archive.storageClass, archive.uploaded, now);
  return { fee, ...(ends && ends.getTime() > now.getTime() ? { minimumEnds: ends } : {}) };
}

/**
 * Whether the bucket keeps old versions (versioning Enabled or Suspended): a delete then only adds
 * a delete marker, and the data is billed until a lifecycle rule expires it. False when unknown.
 */
export async function keepsOldVersions(client: S3Client, store: StoreConfig, signal?: AbortSignal): Promise<boolean> {
  try {
    const v = await client.send(new GetBucketVersioningCommand({ Bucket: store.bucket }), { abortSignal: signal });
    return v.Status === 'Enabled' || v.Status === 'Suspended';
  } catch {
    return false;
  }
}
