/**
 * Restore requests and status of archive objects. Deep Archive offers the Standard (within 12 h)
 * and Bulk (within 48 h) tiers; Glacier Flexible Retrieval also Expedited.
 * Guarantees: a request while one is in progress counts as success; a request on a restored copy
 * extends it (S3 semantics).
 */
import { HeadObjectCommand, RestoreObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { keys, type StoreConfig } from '../../config';
import { GlacierError, isNotFound, s3Error } from '../../errors';
import { glacierState, type GlacierState } from '../glacierState';

export const restoreTiers = ['Standard', 'Bulk', 'Expedited'] as const;
export type RestoreTier = (typeof restoreTiers)[number];

export interface ArchiveStatus {
  id: string;
  storageClass: string;
  size: number;
  glacier: GlacierState;
}

export async function archiveStatus(client: S3Client, store: StoreConfig, id: string, signal?: AbortSignal): Promise<ArchiveStatus> {
  try {
    const head = await client.send(new HeadObjectCommand({ Bucket: store.bucket, Key: keys.archive(store.prefix, id) }), { abortSignal: signal });
    const storageClass = head.StorageClass ?? 'STANDARD';
    return { id, storageClass, size: head.ContentLength ?? 0, glacier: glacierState(storageClass, head.Restore) };
  } catch (err) {
    if (isNotFound(err)) throw new GlacierError('not-found', `archive ${id} does not exist in s3://${store.bucket}/${store.prefix}`);
    throw s3Error(err, { bucket: store.bucket, endpoint: store.endpoint, action: `check archive ${id}` });
  }
}

export interface RestoreResult {
  status: ArchiveStatus;
  /** What the request did. */
  outcome: 'requested' | 'already-in-progress' | 'extended' | 'not-needed';
}

export async function requestRestore(
  client: S3Client,
  store: StoreConfig,
  id: string,
  options: { tier: RestoreTier; days: number },
): Promise<RestoreResult> {
  if (!Number.isInteger(options.days) || options.days < 1 || options.days > 365) {
    throw new GlacierError('usage', 'restore days must be a whole number from 1 to 365');
  }
  const before = await archiveStatus(client, store, id);
  if (before.glacier.state === 'available') return { status: before, outcome: 'not-needed' };
  if (options.tier === 'Expedited' && before.storageClass === 'DEEP_ARCHIVE') {
    throw new GlacierError('usage', 'Deep Archive has no Expedited tier: use Standard (within 12 hours) or Bulk (within 48 hours)');
  }
  try {
    await client.send(
      new RestoreObjectCommand({
        Bucket: store.bucket,
        Key: keys.archive(store.prefix, id),
        RestoreRequest: { Days: options.days, GlacierJobParameters: { Tier: options.tier } },
      }),
    );
  } catch (err) {
    const name = (err as { name?: string }).name;
    if (name === 'RestoreAlreadyInProgress') return { status: { ...before, glacier: { state: 'restoring' } }, outcome: 'already-in-progress' };
    throw s3Error(err, { bucket: store.bucket, endpoint: store.endpoint, action: `request a restore of ${id}` });
  }
  const after = await archiveStatus(client, store, id);
  return { status: after, outcome: before.glacier.state === 'restored' ? 'extended' : before.glacier.state === 'restoring' ? 'already-in-progress' : 'requested' };
}
