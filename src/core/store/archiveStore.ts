/**
 * ArchiveStore: everything the engine asks of a place that keeps archives. Two implementations:
 * S3 (store/s3/, the only code that imports `@aws-sdk/*`) and a local folder (store/local/: an
 * external drive, a NAS mount). Jobs receive an ArchiveStore and never know which one it is,
 * except through `coldStorage` and the optional capabilities at the end.
 *
 * Keys are relative to the store's root and use "/" (`archives/<id>.tar.gpg`,
 * `catalog/<id>.json.gpg`; format.md "Objects"); the store adds its prefix or folder. A key
 * handed to a store is one the engine built (model/keys.ts) or one the user named on purpose
 * (`download-key`, on a store rooted at the bucket), never one read back from a listing without
 * checking its shape.
 *
 * Errors are GlacierErrors whose message names the store and the action (one line, no secret):
 * 'not-found' for a key that does not exist, 'not-restored' for a cold object that must be
 * restored first, 'conflict' for a put on a key that exists, 'cancelled' when the signal fired,
 * 'access-denied', 'unreachable', 'no-bucket' (the store itself is missing), or 'io' / 's3' for
 * anything else. Most methods take `action`, what the caller was doing ("list archives"), which
 * the message names instead of the method's default ("check <key>", "delete <key>").
 *
 * Guarantees every implementation keeps (test/integration/store-conformance.test.ts holds them):
 * - Atomic visibility: an object is either absent or complete with the bytes put; a reader never
 *   sees a partial object, whatever happens to the writer (crash, kill -9, full disk, cancel).
 * - Write once: `put` never replaces an existing object ('conflict'), and a put whose answer was
 *   lost is resolved by looking, so a retried put of the same bytes succeeds once.
 * - `delete` is idempotent: deleting a key that does not exist succeeds. After it returns the key
 *   is absent from `head`, `open` and `list` (on a versioned bucket, older versions may remain:
 *   see `versions`).
 * - `list` returns every object whose key starts with the directory, each once, in no promised
 *   order, including objects put before the call began; it never returns unfinished uploads.
 * - Cold storage: in a store with `coldStorage`, an object may be `archived` and must be warmed
 *   up with `requestRestore` before `open`; `open` of such an object fails with 'not-restored'
 *   and never starts a paid retrieval by itself. Whether it is, `head` says for each object: a
 *   cold store may hold objects that are `available` too (S3: a STANDARD archive class, a
 *   manifest). A store without cold storage says `available` for every object. Every store
 *   answers `requestRestore` of an `available` object with 'not-needed'.
 * - A put makes an upload (which `openUploads` lists while it is unfinished, and `onStarted`
 *   names) when it needs more than one part of `partSize`; a put of one part may be stored in
 *   one request, without one: then nothing is started, and a cancel or a suspend leaves nothing.
 *
 * Changes from the first draft of this contract, which porting the jobs proved needed:
 * - `action` in the options of each method: the messages users see name what they were doing.
 * - `has`: presence with the least permission (S3: the listing when HEAD is refused, as it is to
 *   a back-up-only machine); `objectKey`: the key as manifests record it and messages show it.
 * - `partSize`, and PutRequest's `partSize`, `concurrency` and `buffers`: an interrupted put
 *   resumes with the parts it started with; a backup's manifest reuses its archive's buffers.
 * - `PutRetry`: a put that failed before anything was stored and may be tried once more from the
 *   start (the body is a stream only the caller can make again).
 * - OpenedObject's body is an AsyncGenerator, so a reader that stops early can close it (return()).
 *   `open` and `requestRestore` take `what` ("archive <id>") for their messages.
 * - `openUploads()` of the whole store comes in key order (S3's), not oldest first.
 * - `replace`: the freshness marker an outside monitor watches is rewritten after each backup;
 *   `put` stays write-once for everything else.
 * - A failure of a put's own body (the caller's stream) is rethrown as it is, not relabelled.
 * - VersionsSummary names each delete marker's key (check brings a deleted manifest back with
 *   `removeDeleteMarker`); `keepsOldVersions`, `checkBucket`, `addAbortRule` and `createBucket` are
 *   capabilities of S3 alone, absent from stores without them; `close` releases connections.
 * - `checkWritable`: set-up checks a folder store before the first backup (S3 has `checkBucket`).
 * - StoredObject's `glacier` in listings: on AWS one LIST gives the restore state of 1,000 objects,
 *   where a HEAD gives one (issue 15: listing 1,000 snapshots).
 *
 * For a store without a prefix or multipart uploads (a local folder): `objectKey` may return the
 * key itself; `partSize` any positive number (it is only recorded); `openUploads` the temporary
 * files a killed writer left, or none; `stateId` a stable name such as the folder's URL.
 */
import type { StorageClass } from '../config';
import { GlacierError } from '../errors';
import type { GlacierState } from '../model/glacierState';
import type { PartBuffers } from './partBuffers';
import type { BucketReport } from './s3/bucketCheck';

/** What every call may carry. */
export interface CallOptions {
  signal?: AbortSignal;
  /** What the caller was doing, for the error message ("list archives"); default names the method and key. */
  action?: string;
}

/** One object as a listing or a HEAD reports it. */
export interface StoredObject {
  /** Relative to the store's root. */
  key: string;
  size: number;
  lastModified?: Date;
  /** Storage class as the store names it ("STANDARD" for a local folder). */
  storageClass: string;
  /** An opaque version tag: same tag, same bytes. */
  etag?: string;
  /**
   * In a listing: the object's Glacier state, when the listing reports it and can be trusted to
   * (S3: s3/listedRestore.ts says when); absent otherwise, and `head` tells. A store without
   * `coldStorage` may leave it absent: its objects are all `available`.
   */
  glacier?: GlacierState;
}

export interface ObjectHead extends StoredObject {
  glacier: GlacierState;
}

/** A part already stored in an unfinished upload. */
export interface StoredPart {
  size: number;
  etag: string;
  /** Base64 CRC32, when the upload was made with checksums. */
  crc32?: string;
}

/** An unfinished upload: what a crash, a kill or a suspended backup leaves behind. */
export interface OpenUpload {
  /** Relative to the store's root. */
  key: string;
  uploadId: string;
  initiated?: Date;
}

export interface PutRequest {
  key: string;
  body: AsyncIterable<Uint8Array>;
  /** 'archive' goes to the configured (cold) storage class; 'catalog' always to STANDARD. */
  tier: 'archive' | 'catalog';
  /** The most bytes the body can hold (sizes the parts of a multipart upload). */
  sizeBound: number;
  /** The part size (default `partSize(sizeBound)`); a resumed put must use the one it started with. */
  partSize?: number;
  /** Parts sent at once (default 4). */
  concurrency?: number;
  /** Where part buffers come from and go back to (default: this put's own). */
  buffers?: PartBuffers;
  /** What the object is, for messages: 'archive' (default) or 'manifest'. */
  what?: string;
  /** What failed, for the message (default `upload the ${what}`). */
  action?: string;
  contentType?: string;
  signal?: AbortSignal;
  /** Continue this unfinished upload: parts already stored that match the body are not sent again. */
  resume?: { uploadId: string; parts: ReadonlyMap<number, StoredPart> };
  /** Called once the upload exists, before its first byte is sent (to journal it); never for a put stored in one request. */
  onStarted?: (uploadId: string) => Promise<void> | void;
  /** Bytes stored so far (sent and acknowledged, or found already stored). */
  onUploaded?: (bytes: number) => void;
  /** Notes for the user (a lost answer resolved, a part sent again); never contains secrets. */
  onNotice?: (message: string) => void;
}

export interface PutResult {
  size: number;
  /** What of the stored object was compared with what was sent, e.g. "size+crc32", "size+sha256", or "none". */
  verified: string;
}

/**
 * A put that failed before anything was stored, and that one more put of the same bytes from the
 * start may get through: the store adjusted itself ('store-adjusted': an S3-compatible endpoint
 * refused checksum headers, which are no longer sent) or the bytes were damaged on the way and
 * refused ('damaged-in-transit'). Code and message are those of the failure itself.
 */
export class PutRetry extends GlacierError {
  constructor(
    readonly reason: 'store-adjusted' | 'damaged-in-transit',
    failure: GlacierError,
  ) {
    super(failure.code, failure.message, { cause: failure });
    this.name = 'PutRetry';
  }
}

export interface OpenOptions extends CallOptions {
  /** Read exactly this version; 'conflict' if the object was replaced. */
  etag?: string;
  /** What the object is, for messages ("archive <id>"; default its key). */
  what?: string;
  /** Called when a dropped read resumes, with the offset it resumes from. */
  onResume?: (offset: number) => void;
}

/** An object opened for reading: its size is known before the first byte is read. */
export interface OpenedObject {
  size: number;
  etag?: string;
  /** Read once. Dropped connections are resumed at the offset reached, never spliced with another version. */
  body: AsyncGenerator<Uint8Array>;
}

export type RestoreTier = 'Standard' | 'Bulk' | 'Expedited';

export interface RestoreOutcome {
  head: ObjectHead;
  outcome: 'requested' | 'already-in-progress' | 'extended' | 'not-needed';
}

/** Old versions and delete markers a versioned bucket keeps after deletes and overwrites. */
export interface VersionsSummary {
  /** Keys (relative) whose current version is a delete marker with an older version behind it, and that marker's version id. */
  deleteMarkers: Map<string, string>;
  /** Versions that are not current, and their bytes. */
  noncurrent: { count: number; bytes: number };
}

export interface ArchiveStore {
  /** How the store is shown to users: "s3://bucket/prefix/" or "file:///mnt/backup/". */
  readonly name: string;
  /** Names this store in local state files (journals, dedup state); stable across runs. */
  readonly stateId: string;
  /**
   * Whether an object may need a restore before it can be read. True for every S3 store, whatever
   * `archiveClass`: archives put in an earlier class, or moved by a lifecycle rule, may be in
   * Glacier. False promises that every object is `available`.
   */
  readonly coldStorage: boolean;
  /** The storage class archives are put in ("STANDARD" for a local folder). */
  readonly archiveClass: StorageClass;

  /** The key as manifests record it (`archive.key`) and messages show it: S3's object key, prefix included. */
  objectKey(key: string): string;
  /** The part size of a put of at most `sizeBound` bytes; 'usage' when the store cannot hold so much in one object. */
  partSize(sizeBound: number): number;

  /** Stores a new object atomically, checked against what was sent once stored. */
  put(req: PutRequest): Promise<PutResult>;
  /** Opens an object for reading; 'not-found' or 'not-restored' before any byte is read. */
  open(key: string, options?: OpenOptions): Promise<OpenedObject>;
  /** The object and its Glacier state, or undefined when the key does not exist. */
  head(key: string, options?: CallOptions): Promise<ObjectHead | undefined>;
  /** Whether the object exists; needs no more than the permission to list. */
  has(key: string, options?: CallOptions): Promise<boolean>;
  /** Every object under a directory key ("archives/"), once each. */
  list(dir: string, options?: CallOptions): AsyncIterable<StoredObject>;
  /** Deletes an object; succeeds when it is already absent. */
  delete(key: string, options?: CallOptions): Promise<void>;
  /**
   * Stores a small object (at most a few hundred KiB, in one request) under `key` in STANDARD,
   * replacing what is there: the one exception to write-once, kept for the freshness marker
   * (format.md "Objects"), which is plaintext and outside the catalog. Last writer wins; a reader
   * sees the old bytes or the new, never a mix. Never used for archives or manifests.
   */
  replace(key: string, body: Uint8Array, options?: CallOptions & { contentType?: string }): Promise<void>;
  /**
   * Asks for a cold object to be warmed up for `days`; idempotent while one is in progress.
   * 'not-found' when the key does not exist; `what` names the object in messages. `known`: the
   * object's head as the caller read it moments ago, which the store may take for its own look
   * before the request (it still answers right if the object changed since).
   */
  requestRestore(key: string, options: CallOptions & { tier: RestoreTier; days: number; what?: string; known?: ObjectHead }): Promise<RestoreOutcome>;

  /** Unfinished uploads: of exactly one key, oldest first; or of the whole store, by key. */
  openUploads(key?: string, options?: CallOptions): Promise<OpenUpload[]>;
  /** The parts an unfinished upload holds, or undefined when it is gone. */
  uploadedParts(upload: OpenUpload, options?: CallOptions): Promise<Map<number, StoredPart> | undefined>;
  /** Removes an unfinished upload and what it stored; succeeds when it is already gone. */
  abortUpload(upload: OpenUpload, options?: CallOptions): Promise<void>;

  /** Old versions and delete markers under the root; undefined when they cannot be listed (refused, not implemented). */
  versions?(options?: CallOptions): Promise<VersionsSummary | undefined>;
  /** Whether a delete leaves the old version behind (S3 versioning Enabled or Suspended); false when unknown. */
  keepsOldVersions?(options?: CallOptions): Promise<boolean>;
  /** Removes the delete marker `versionId` of `key`, which brings back the version behind it. */
  removeDeleteMarker?(key: string, versionId: string, options?: CallOptions): Promise<void>;
  /** Releases what the store holds (connections); the store is not used after. */
  close?(): void;
  /** S3: the bucket's settings, and what the credentials may do (a dry run that writes nothing). */
  checkBucket?(): Promise<BucketReport>;
  /** S3: adds a lifecycle rule aborting incomplete uploads under the root after `days`. */
  addAbortRule?(days: number): Promise<void>;
  /**
   * S3: creates the missing bucket with the recommended settings (public access blocked, the
   * abort rule above); succeeds when these credentials already own it, 'conflict' when another
   * account does.
   */
  createBucket?(): Promise<void>;
  /** A folder: that it exists ('no-bucket' otherwise) and takes files; writes a test file and removes it. */
  checkWritable?(options?: CallOptions): Promise<void>;
}
