/**
 * ArchiveStore: everything the engine asks of a place that keeps archives. Two implementations:
 * S3 (store/s3/, the only code that imports `@aws-sdk/*`) and a local folder (store/local/: an
 * external drive, a NAS mount). Jobs receive an ArchiveStore and never know which one it is,
 * except through `coldStorage` and the optional capabilities at the end.
 *
 * Keys are relative to the store's root and use "/" (`archives/<id>.tar.gpg`,
 * `catalog/<id>.json.gpg`; format.md "Objects"); the store adds its prefix or folder. A key
 * handed to a store is always one the engine built (store/keys.ts), never one read back from a
 * listing without checking its shape.
 *
 * Errors are GlacierErrors whose message names the store and the action (one line, no secret):
 * 'not-found' for a key that does not exist, 'not-restored' for a cold object that must be
 * restored first, 'conflict' for a put on a key that exists, 'cancelled' when the signal fired,
 * 'access-denied', 'unreachable', 'no-bucket' (the store itself is missing), or 'io' / 's3' for
 * anything else.
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
 *   and never starts a paid retrieval by itself. A store without cold storage says `available`
 *   for every object and answers `requestRestore` with 'not-needed'.
 */
import type { StorageClass } from '../config';
import type { GlacierState } from './glacierState';

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
  /** What the object is, for messages: 'archive' (default) or 'manifest'. */
  what?: string;
  /** What failed, for the message (default `upload the ${what}`). */
  action?: string;
  contentType?: string;
  signal?: AbortSignal;
  /** Continue this unfinished upload: parts already stored that match the body are not sent again. */
  resume?: { uploadId: string; parts: ReadonlyMap<number, StoredPart> };
  /** Called once the upload exists, before its first byte is sent (to journal it). */
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

export interface OpenOptions {
  signal?: AbortSignal;
  /** Read exactly this version; 'conflict' if the object was replaced. */
  etag?: string;
  /** Called when a dropped read resumes, with the offset it resumes from. */
  onResume?: (offset: number) => void;
}

/** An object opened for reading: its size is known before the first byte is read. */
export interface OpenedObject {
  size: number;
  etag?: string;
  /** Read once. Dropped connections are resumed at the offset reached, never spliced with another version. */
  body: AsyncIterable<Uint8Array>;
}

export type RestoreTier = 'Standard' | 'Bulk' | 'Expedited';

export interface RestoreOutcome {
  head: ObjectHead;
  outcome: 'requested' | 'already-in-progress' | 'extended' | 'not-needed';
}

/** Old versions and delete markers a versioned bucket keeps after deletes. */
export interface VersionsSummary {
  versioning: 'Enabled' | 'Suspended';
  objectLock: boolean;
  /** Noncurrent versions and delete markers under the root. */
  noncurrent: number;
  deleteMarkers: number;
}

export interface ArchiveStore {
  /** How the store is shown to users: "s3://bucket/prefix/" or "file:///mnt/backup/". */
  readonly name: string;
  /** Names this store in local state files (journals, dedup state); stable across runs. */
  readonly stateId: string;
  /** Whether objects may need a restore before they can be read (S3 Glacier classes). */
  readonly coldStorage: boolean;
  /** The storage class archives are put in ("STANDARD" for a local folder). */
  readonly archiveClass: StorageClass;

  /** Stores a new object atomically, checked against what was sent once stored. */
  put(req: PutRequest): Promise<PutResult>;
  /** Opens an object for reading; 'not-found' or 'not-restored' before any byte is read. */
  open(key: string, options?: OpenOptions): Promise<OpenedObject>;
  /** The object and its Glacier state, or undefined when the key does not exist. */
  head(key: string, signal?: AbortSignal): Promise<ObjectHead | undefined>;
  /** Every object under a directory key ("archives/"), once each. */
  list(dir: string, signal?: AbortSignal): AsyncIterable<StoredObject>;
  /** Deletes an object; succeeds when it is already absent. */
  delete(key: string, signal?: AbortSignal): Promise<void>;
  /** Asks for a cold object to be warmed up for `days`; idempotent while one is in progress. */
  requestRestore(key: string, options: { tier: RestoreTier; days: number; signal?: AbortSignal }): Promise<RestoreOutcome>;

  /** Unfinished uploads, of one key or of the whole store, oldest first. */
  openUploads(key?: string, signal?: AbortSignal): Promise<OpenUpload[]>;
  /** The parts an unfinished upload holds, or undefined when it is gone. */
  uploadedParts(upload: OpenUpload, signal?: AbortSignal): Promise<Map<number, StoredPart> | undefined>;
  /** Removes an unfinished upload and what it stored; succeeds when it is already gone. */
  abortUpload(upload: OpenUpload, signal?: AbortSignal): Promise<void>;

  /** Versioning of the store, when it has any (S3 buckets with versioning or Object Lock). */
  versions?(signal?: AbortSignal): Promise<VersionsSummary | undefined>;
}
