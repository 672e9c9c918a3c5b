/**
 * The ArchiveStore of one S3 bucket and prefix (archiveStore.ts states what it guarantees). Keys
 * are relative to the prefix. Every SDK error leaves as a one-line GlacierError (errors.ts
 * s3Error): a missing key is 'not-found' (undefined from `head`), a GET of an object still in
 * Glacier is 'not-restored' (S3's InvalidObjectState), a read of a replaced object 'conflict'.
 * The only failures not turned into GlacierErrors are those of a put's own body, which the
 * caller made.
 */
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  GetBucketVersioningCommand,
  HeadObjectCommand,
  PutObjectCommand,
  RestoreObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { StorageClass, StoreConfig } from '../../config';
import { storeId } from '../../config';
import { GlacierError, isNotFound, s3Error } from '../../errors';
import {
  PutRetry,
  type ArchiveStore,
  type CallOptions,
  type ObjectHead,
  type OpenedObject,
  type OpenOptions,
  type OpenUpload,
  type PutRequest,
  type PutResult,
  type RestoreOutcome,
  type RestoreTier,
  type StoredObject,
  type StoredPart,
  type VersionsSummary,
} from '../archiveStore';
import { glacierState, type GlacierState } from '../../model/glacierState';
import { addAbortRule, checkBucket, createBucket, type BucketReport } from './bucketCheck';
import { withoutChecksums } from './client';
import { openUploads, openUploadsUnder, storedParts } from './multipart';
import { rangedGet } from './rangedGet';
import { listWithRestore, type ListingKnowledge } from './listedRestore';
import { isPresent } from './storedCheck';
import { ChecksumsRejected, choosePartSize, isBadDigest, uploadObject } from './upload';
import { versionsUnder } from './versions';

export class S3Store implements ArchiveStore {
  readonly name: string;
  readonly stateId: string;
  readonly coldStorage = true;
  readonly archiveClass: StorageClass;
  /** What listings taught about the server (whether it reports RestoreStatus). */
  private readonly listings: ListingKnowledge = { sawRestoreStatus: false, attributeRefused: false };

  constructor(
    readonly client: S3Client,
    readonly config: StoreConfig,
  ) {
    this.name = `s3://${config.bucket}/${config.prefix}`;
    this.stateId = storeId(config);
    this.archiveClass = config.storageClass;
  }

  objectKey(key: string): string {
    return `${this.config.prefix}${key}`;
  }

  partSize(sizeBound: number): number {
    return choosePartSize(sizeBound);
  }

  /** Releases the client's connections; the store is not used after. */
  close(): void {
    this.client.destroy();
  }

  private fail(err: unknown, action: string): GlacierError {
    return s3Error(err, { bucket: this.config.bucket, endpoint: this.config.endpoint, action });
  }

  async put(req: PutRequest): Promise<PutResult> {
    try {
      return await uploadObject({
        client: this.client,
        bucket: this.config.bucket,
        key: this.objectKey(req.key),
        body: req.body,
        storageClass: req.tier === 'archive' ? this.config.storageClass : 'STANDARD',
        partSize: req.partSize ?? choosePartSize(req.sizeBound),
        queueSize: req.concurrency ?? 4,
        endpoint: this.config.endpoint,
        ...pick(req, ['contentType', 'what', 'action', 'buffers', 'signal', 'resume', 'onStarted', 'onUploaded', 'onNotice']),
      });
    } catch (err) {
      if (err instanceof ChecksumsRejected) {
        withoutChecksums(this.client); // for the life of the client: the endpoint will not change
        throw new PutRetry('store-adjusted', err);
      }
      if (err instanceof GlacierError && isBadDigest(err)) throw new PutRetry('damaged-in-transit', err);
      throw err;
    }
  }

  async open(key: string, options: OpenOptions = {}): Promise<OpenedObject> {
    const what = options.what ?? this.objectKey(key);
    try {
      return await rangedGet({ client: this.client, bucket: this.config.bucket, key: this.objectKey(key), ...pick(options, ['etag', 'signal', 'onResume']) });
    } catch (err) {
      const name = (err as { name?: string }).name;
      if (name === 'InvalidObjectState') throw new GlacierError('not-restored', `${what} is not restored`, { cause: err });
      if (name === 'PreconditionFailed') throw new GlacierError('conflict', `${what} was replaced while it was being read; try again`, { cause: err });
      if (name === 'NoSuchKey' || name === 'NotFound') throw new GlacierError('not-found', `${what} does not exist in ${this.name}`, { cause: err });
      throw this.fail(err, options.action ?? `download ${what}`);
    }
  }

  async head(key: string, options: CallOptions = {}): Promise<ObjectHead | undefined> {
    const full = this.objectKey(key);
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.config.bucket, Key: full }), { abortSignal: options.signal });
      const storageClass = head.StorageClass ?? 'STANDARD';
      return {
        key,
        size: head.ContentLength ?? 0,
        storageClass,
        ...(head.LastModified ? { lastModified: head.LastModified } : {}),
        ...(head.ETag ? { etag: head.ETag } : {}),
        glacier: glacierState(storageClass, head.Restore),
      };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw this.fail(err, options.action ?? `check ${full}`);
    }
  }

  has(key: string, options: CallOptions = {}): Promise<boolean> {
    const full = this.objectKey(key);
    return isPresent(this.client, this.config, full, options.action ?? `check ${full}`);
  }

  /** S3's listing, with the restore states the server reports when it can be trusted to (listedRestore.ts). */
  list(dir: string, options: CallOptions = {}): AsyncGenerator<StoredObject> {
    const prefix = this.objectKey(dir);
    return listWithRestore(this.client, this.config, prefix, this.listings, options.signal, (err) => this.fail(err, options.action ?? `list ${prefix}`));
  }

  async delete(key: string, options: CallOptions = {}): Promise<void> {
    const full = this.objectKey(key);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.config.bucket, Key: full }), { abortSignal: options.signal });
    } catch (err) {
      throw this.fail(err, options.action ?? `delete ${full}`);
    }
  }

  /** One PutObject without If-None-Match: the freshness marker is the only object ever replaced. */
  async replace(key: string, body: Uint8Array, options: CallOptions & { contentType?: string } = {}): Promise<void> {
    const full = this.objectKey(key);
    try {
      const command = new PutObjectCommand({ Bucket: this.config.bucket, Key: full, Body: body, StorageClass: 'STANDARD', ContentType: options.contentType ?? 'application/octet-stream' });
      await this.client.send(command, { abortSignal: options.signal });
    } catch (err) {
      throw this.fail(err, options.action ?? `write ${full}`);
    }
  }

  /**
   * A restore already in progress counts as success; one of a restored copy extends it (S3's
   * semantics). `what` names the object in the HEADs' messages ("check <what>"). `known`, a HEAD
   * the caller made moments ago (restore's plan), stands for the HEAD before: what changed since
   * shows in the request's answer (already in progress; no such key; no longer cold, which is
   * then looked at afresh) or in the HEAD after (a restored copy that expired is restored anew).
   */
  async requestRestore(key: string, options: CallOptions & { tier: RestoreTier; days: number; what?: string; known?: ObjectHead }): Promise<RestoreOutcome> {
    const what = options.what ?? this.objectKey(key);
    const look = async (): Promise<ObjectHead> => {
      const head = await this.head(key, { signal: options.signal, action: `check ${what}` });
      if (!head) throw new GlacierError('not-found', `${what} does not exist in ${this.name}`);
      return head;
    };
    const before = options.known ?? (await look());
    if (before.glacier.state === 'available') return { head: before, outcome: 'not-needed' };
    if (options.tier === 'Expedited' && before.storageClass === 'DEEP_ARCHIVE') {
      throw new GlacierError('usage', 'Deep Archive has no Expedited tier: use Standard (within 12 hours) or Bulk (within 48 hours)');
    }
    try {
      await this.client.send(
        new RestoreObjectCommand({
          Bucket: this.config.bucket,
          Key: this.objectKey(key),
          RestoreRequest: { Days: options.days, GlacierJobParameters: { Tier: options.tier } },
        }),
        { abortSignal: options.signal },
      );
    } catch (err) {
      const name = (err as { name?: string }).name;
      if (name === 'RestoreAlreadyInProgress') return { head: { ...before, glacier: { state: 'restoring' } }, outcome: 'already-in-progress' };
      if (options.known && name === 'NoSuchKey') throw new GlacierError('not-found', `${what} does not exist in ${this.name}`, { cause: err });
      if (options.known && name === 'InvalidObjectState') return this.requestRestore(key, { ...options, known: undefined });
      throw this.fail(err, options.action ?? `request a restore of ${what}`);
    }
    const after = await look();
    return { head: after, outcome: restoreOutcome(before.glacier.state, after.glacier.state) };
  }

  async openUploads(key?: string, options: CallOptions = {}): Promise<OpenUpload[]> {
    const { bucket, prefix } = this.config;
    try {
      if (key !== undefined) return (await openUploads(this.client, bucket, this.objectKey(key))).map((u) => ({ key, ...u }));
      const all = await openUploadsUnder(this.client, bucket, prefix, options.signal);
      return all.map((u) => ({ ...u, key: u.key.slice(prefix.length) }));
    } catch (err) {
      throw this.fail(err, options.action ?? 'list unfinished uploads');
    }
  }

  async uploadedParts(upload: OpenUpload, options: CallOptions = {}): Promise<Map<number, StoredPart> | undefined> {
    const full = this.objectKey(upload.key);
    try {
      return await storedParts(this.client, this.config.bucket, full, upload.uploadId);
    } catch (err) {
      throw this.fail(err, options.action ?? `list the parts of the upload of ${full}`);
    }
  }

  async abortUpload(upload: OpenUpload, options: CallOptions = {}): Promise<void> {
    const full = this.objectKey(upload.key);
    try {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.config.bucket, Key: full, UploadId: upload.uploadId }), { abortSignal: options.signal });
    } catch (err) {
      if ((err as { name?: string }).name === 'NoSuchUpload') return;
      throw this.fail(err, options.action ?? `abort the upload of ${full}`);
    }
  }

  async versions(options: CallOptions = {}): Promise<VersionsSummary | undefined> {
    const { prefix } = this.config;
    let found;
    try {
      found = await versionsUnder(this.client, this.config, options.signal);
    } catch (err) {
      throw this.fail(err, options.action ?? 'list old versions');
    }
    if (!found) return undefined;
    const deleteMarkers = new Map([...found.deleteMarkers].filter(([key]) => key.startsWith(prefix)).map(([key, id]) => [key.slice(prefix.length), id] as const));
    return { deleteMarkers, noncurrent: found.noncurrent };
  }

  async keepsOldVersions(options: CallOptions = {}): Promise<boolean> {
    try {
      const v = await this.client.send(new GetBucketVersioningCommand({ Bucket: this.config.bucket }), { abortSignal: options.signal });
      return v.Status === 'Enabled' || v.Status === 'Suspended';
    } catch {
      return false;
    }
  }

  async removeDeleteMarker(key: string, versionId: string, options: CallOptions = {}): Promise<void> {
    const full = this.objectKey(key);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.config.bucket, Key: full, VersionId: versionId }), { abortSignal: options.signal });
    } catch (err) {
      throw this.fail(err, options.action ?? `remove the delete marker of ${full}`);
    }
  }

  checkBucket(): Promise<BucketReport> {
    return checkBucket(this.client, this.config);
  }

  addAbortRule(days: number): Promise<void> {
    return addAbortRule(this.client, this.config, days);
  }

  createBucket(): Promise<void> {
    return createBucket(this.client, this.config);
  }
}

/** The fields of `from` named in `names` that are set. */
function pick<T extends object, K extends keyof T>(from: T, names: readonly K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const name of names) if (from[name] !== undefined) out[name] = from[name];
  return out;
}

/** What a restore request that S3 accepted did, from the state before it and the state after. */
function restoreOutcome(before: GlacierState['state'], after: GlacierState['state']): RestoreOutcome['outcome'] {
  if (before === 'restored') return after === 'restored' ? 'extended' : 'requested'; // the copy had expired
  if (before === 'restoring') return after === 'restored' ? 'extended' : 'already-in-progress'; // it had finished
  return 'requested';
}
