/**
 * LocalStore: an ArchiveStore over a folder (an external drive, a NAS mount), with the bucket's
 * layout below it (`archives/<id>.tar.gpg`, `catalog/<id>.json.gpg`), so that
 * `gpg -d < archives/ID.tar.gpg | tar x` restores from it by hand (docs/format.md, "Local-folder
 * store").
 *
 * Beyond archiveStore.ts's guarantees:
 * - The root folder must exist: it is never created, so an unmounted drive fails with 'no-bucket'
 *   instead of filling the mount point. Folders below it are created on write.
 * - A put writes `.uploads/<uploadId>.<key>.partial`, syncs it, reads it back (size and sha256
 *   against what was sent; the read comes from the OS, often its cache, so it checks what the
 *   file system holds, not the medium), links it under its key (never replacing), then syncs
 *   the folders.
 *   A crash leaves only the temporary file, which `openUploads` lists and `abortUpload` removes.
 * - Nothing is resumable: `uploadedParts` reports an existing temporary file with no parts, and a
 *   put that continues an upload writes its temporary file again from the first byte.
 * - Nothing is cold: every object is 'available' and `requestRestore` answers 'not-needed';
 *   a put's `tier`, `contentType` and `sizeBound` change nothing here.
 * - Links planted in the folder are never followed (see paths.ts); memory stays bounded (1 MiB
 *   read buffers, the body's own chunks when writing).
 */
import { createHash } from 'node:crypto';
import { promises as fs, type BigIntStats } from 'node:fs';
import * as path from 'node:path';
import type {
  ArchiveStore,
  CallOptions,
  ObjectHead,
  OpenedObject,
  OpenOptions,
  OpenUpload,
  PutRequest,
  PutResult,
  RestoreOutcome,
  StoredObject,
  StoredPart,
} from '../archiveStore';
import { formatStoreUrl, type StorageClass } from '../../config';
import { GlacierError, isSuspended, suspendedMessage } from '../../errors';
import { fsError, isErrno, noStoreFolder } from './fsErrors';
import { checkedParent, dirSegments, ensureParent, isKeySegment, keySegments, syncDir } from './paths';
import { checkUploadId, createPartial, ensureUploadsFolder, hashFile, listUploads, newUploadId, partialPath, probeWrite, publish, writeAll } from './uploads';
import { nextOrAbort, readFile } from './streams';

export interface LocalStoreOptions {
  /** Absolute path of the store folder (it must exist). */
  root: string;
}

export class LocalStore implements ArchiveStore {
  readonly name: string;
  readonly stateId: string;
  readonly coldStorage = false;
  readonly archiveClass: StorageClass = 'STANDARD';
  private readonly root: string;

  constructor(options: LocalStoreOptions) {
    if (!path.isAbsolute(options.root)) throw new GlacierError('usage', `the store folder must be an absolute path: ${options.root}`);
    this.root = path.resolve(options.root);
    this.name = formatStoreUrl({ kind: 'file', root: this.root });
    this.stateId = `file|${this.root}`;
  }

  /** Keys are recorded as they are: the folder is the store's root. */
  objectKey(key: string): string {
    return key;
  }

  /** Only recorded: a put here is one file, written as the body comes. */
  partSize(sizeBound: number): number {
    return Math.max(1, Math.min(sizeBound, 64 * 1024 * 1024));
  }

  async has(key: string, options: CallOptions = {}): Promise<boolean> {
    return (await this.head(key, options)) !== undefined;
  }

  async put(req: PutRequest): Promise<PutResult> {
    const what = req.what ?? 'archive';
    const action = req.action ?? `upload the ${what}`;
    const segments = keySegments(req.key);
    const { signal } = req;
    let partial: string | undefined;
    let handle: fs.FileHandle | undefined;
    /** What the body threw: passed on as it is (it is not a file system error). */
    let bodyFailure: { err: unknown } | undefined;
    const ctx = { root: this.root, file: path.join(this.root, ...segments), action: `${action} (${req.key}) to ${this.name}` };
    try {
      this.throwIfAborted(signal, action);
      await this.checkRoot();
      const final = path.join(await ensureParent(this.root, segments), segments.at(-1)!);
      if (await exists(final)) throw new GlacierError('conflict', `${req.key} already exists in ${this.name}; objects are never replaced`);
      await ensureUploadsFolder(this.root);
      const upload: OpenUpload = { key: req.key, uploadId: req.resume?.uploadId ?? newUploadId() };
      partial = partialPath(this.root, upload);
      // Continuing an upload: its temporary file may hold anything a crash left, so it starts again.
      if (req.resume) await fs.rm(partial, { force: true });
      handle = await createPartial(partial);
      await req.onStarted?.(upload.uploadId);

      const sent = createHash('sha256');
      let size = 0;
      const it = req.body[Symbol.asyncIterator]();
      for (;;) {
        let next: IteratorResult<Uint8Array>;
        try {
          next = await nextOrAbort(it, signal, () => this.cancelled(signal, action));
        } catch (err) {
          bodyFailure = { err };
          throw err;
        }
        if (next.done) break;
        await writeAll(handle, next.value, size);
        sent.update(next.value);
        size += next.value.length;
        req.onUploaded?.(size);
      }
      await handle.sync();
      const stored = await hashFile(handle, signal, action);
      const sentSha256 = sent.digest('hex');
      if (stored.size !== size || stored.sha256 !== sentSha256) {
        throw new GlacierError('corrupt', `the ${what} read back from ${partial} differs from what was written (${stored.size} of ${size} bytes, sha256 ${stored.sha256 === sentSha256 ? 'equal' : 'differs'})`);
      }
      await handle.close();
      handle = undefined;
      this.throwIfAborted(signal, action);
      await publish(partial, final, req.key, { storeName: this.name });
      partial = undefined;
      return { size, verified: 'size+sha256' };
    } catch (err) {
      await handle?.close().catch(() => undefined);
      // Suspended: the temporary file stays, listed by openUploads; otherwise nothing is left.
      if (partial !== undefined && !isSuspended(signal)) await fs.rm(partial, { force: true }).catch(() => undefined);
      if (signal?.aborted && !(err instanceof GlacierError && err.code === 'conflict')) throw this.cancelled(signal, action);
      if (bodyFailure?.err === err) throw err;
      throw fsError(err, ctx);
    }
  }

  async open(key: string, options: OpenOptions = {}): Promise<OpenedObject> {
    const action = options.action ?? `read ${options.what ?? key} from ${this.name}`;
    const file = path.join(this.root, ...keySegments(key));
    const ctx = { root: this.root, file, action };
    const st = await this.lstatObject(key, ctx);
    if (st === undefined) throw new GlacierError('not-found', `${options.what ?? key} does not exist in ${this.name}`);
    const etag = etagOf(st);
    if (options.etag !== undefined && options.etag !== etag) throw new GlacierError('conflict', `${key} in ${this.name} is not the version that was asked for`);
    const size = Number(st.size);
    // Opened when the first byte is wanted, so an object opened and never read holds no descriptor.
    const body = readFile(file, { size, ino: st.ino, signal: options.signal, cancelled: () => this.cancelled(options.signal, action), fail: (err) => fsError(err, ctx) });
    return { size, etag, body };
  }

  async head(key: string, options: CallOptions = {}): Promise<ObjectHead | undefined> {
    const { signal } = options;
    const action = options.action ?? `look up ${key} in ${this.name}`;
    this.throwIfAborted(signal, action);
    const st = await this.lstatObject(key, { root: this.root, file: path.join(this.root, ...keySegments(key)), action });
    return st === undefined ? undefined : { ...storedObject(key, st), glacier: { state: 'available' } };
  }

  async *list(dir: string, options: CallOptions = {}): AsyncIterable<StoredObject> {
    const { signal } = options;
    const action = options.action ?? `list ${dir || 'the objects'} in ${this.name}`;
    const segments = dirSegments(dir);
    const ctx = { root: this.root, file: path.join(this.root, ...segments), action };
    try {
      await this.checkRoot();
      const start = await checkedParent(this.root, [...segments, '']);
      if (start === undefined) return;
      const pending: string[][] = [segments];
      for (let folder = pending.pop(); folder !== undefined; folder = pending.pop()) {
        const entries = await fs.opendir(path.join(this.root, ...folder)).catch((err: unknown) => (isErrno(err, 'ENOENT', 'ENOTDIR') ? undefined : Promise.reject(err)));
        if (entries === undefined) continue;
        for await (const entry of entries) {
          this.throwIfAborted(signal, action);
          // Hidden names (the `.uploads` area, editors' files) and names no key can have are not objects.
          if (!isKeySegment(entry.name)) continue;
          const segs = [...folder, entry.name];
          const st = await fs.lstat(path.join(this.root, ...segs), { bigint: true }).catch((err: unknown) => (isErrno(err, 'ENOENT') ? undefined : Promise.reject(err)));
          if (st?.isDirectory()) pending.push(segs);
          else if (st?.isFile()) yield storedObject(segs.join('/'), st);
        }
      }
    } catch (err) {
      throw fsError(err, ctx);
    }
  }

  async delete(key: string, options: CallOptions = {}): Promise<void> {
    const { signal } = options;
    const action = options.action ?? `delete ${key} from ${this.name}`;
    const segments = keySegments(key);
    const file = path.join(this.root, ...segments);
    try {
      this.throwIfAborted(signal, action);
      await this.checkRoot();
      const parent = await checkedParent(this.root, segments);
      if (parent === undefined) return;
      await fs.unlink(file);
      await syncParent(file);
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return;
      throw fsError(err, { root: this.root, file, action });
    }
  }

  /**
   * Written beside its key under a hidden temporary name (never listed), synced, then renamed over
   * the key, so a reader sees the old file or the new one.
   */
  async replace(key: string, body: Uint8Array, options: CallOptions = {}): Promise<void> {
    const action = options.action ?? `write ${key} to ${this.name}`;
    const segments = keySegments(key);
    const file = path.join(this.root, ...segments);
    const tmp = path.join(path.dirname(file), `.${segments.at(-1)!}.${newUploadId()}.tmp`);
    try {
      this.throwIfAborted(options.signal, action);
      await this.checkRoot();
      await ensureParent(this.root, segments);
      const handle = await createPartial(tmp);
      try {
        await writeAll(handle, body, 0);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await fs.rename(tmp, file);
      await syncParent(file);
    } catch (err) {
      await fs.rm(tmp, { force: true }).catch(() => undefined);
      throw err instanceof GlacierError ? err : fsError(err, { root: this.root, file, action });
    }
  }

  async requestRestore(key: string, options: CallOptions & { what?: string }): Promise<RestoreOutcome> {
    const head = await this.head(key, options);
    if (head === undefined) throw new GlacierError('not-found', `${options.what ?? key} does not exist in ${this.name}`);
    return { head, outcome: 'not-needed' };
  }

  async openUploads(key?: string, options: CallOptions = {}): Promise<OpenUpload[]> {
    const { signal } = options;
    const action = options.action ?? `list unfinished uploads in ${this.name}`;
    if (key !== undefined) keySegments(key);
    this.throwIfAborted(signal, action);
    await this.checkRoot();
    const uploads = await listUploads(this.root, key).catch((err: unknown) => Promise.reject(fsError(err, { root: this.root, file: this.root, action })));
    // The contract's order: by key for the whole store (one key's come oldest first from listUploads).
    return key === undefined ? uploads.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)) : uploads;
  }

  /** An existing upload holds no part that can be reused (see the header): an empty map. */
  async uploadedParts(upload: OpenUpload, options: CallOptions = {}): Promise<Map<number, StoredPart> | undefined> {
    checkUploadId(upload.uploadId);
    const { signal } = options;
    const action = options.action ?? `look up upload ${upload.uploadId} in ${this.name}`;
    this.throwIfAborted(signal, action);
    await this.checkRoot();
    const file = partialPath(this.root, upload);
    const st = await fs.lstat(file).catch((err: unknown) => (isErrno(err, 'ENOENT') ? undefined : Promise.reject(fsError(err, { root: this.root, file, action }))));
    return st?.isFile() ? new Map() : undefined;
  }

  async abortUpload(upload: OpenUpload, options: CallOptions = {}): Promise<void> {
    const { signal } = options;
    const action = options.action ?? `remove upload ${upload.uploadId} from ${this.name}`;
    const file = partialPath(this.root, upload);
    this.throwIfAborted(signal, action);
    await this.checkRoot();
    try {
      await fs.unlink(file);
      await syncParent(file);
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw fsError(err, { root: this.root, file, action });
    }
  }

  /** The root must exist and be a folder; it may be a link (the user's own setting). */
  /** That the folder exists and takes files ('no-bucket' when it is missing, 'access-denied' or 'io' when it is read-only). */
  async checkWritable(options: CallOptions = {}): Promise<void> {
    const action = options.action ?? `write a test file in ${this.name}`;
    try {
      await this.checkRoot();
      await probeWrite(this.root);
    } catch (err) {
      throw fsError(err, { root: this.root, file: this.root, action });
    }
  }

  private async checkRoot(): Promise<void> {
    let st;
    try {
      st = await fs.stat(this.root);
    } catch (err) {
      if (isErrno(err, 'ENOENT', 'ENOTDIR')) throw noStoreFolder(this.root, 'missing', err);
      throw fsError(err, { root: this.root, file: this.root, action: `open the store folder ${this.root}` });
    }
    if (!st.isDirectory()) throw noStoreFolder(this.root, 'not-a-folder');
  }

  /** The object's lstat, undefined when absent; a link or folder at its key is an error. */
  private async lstatObject(key: string, ctx: { root: string; file: string; action: string }): Promise<BigIntStats | undefined> {
    try {
      await this.checkRoot();
      if ((await checkedParent(this.root, keySegments(key))) === undefined) return undefined;
      const st = await fs.lstat(ctx.file, { bigint: true });
      if (!st.isFile()) throw new GlacierError('io', `${ctx.file} is not a plain file (a symbolic link or a folder); the store never follows links`);
      return st;
    } catch (err) {
      if (isErrno(err, 'ENOENT', 'ENOTDIR')) return undefined;
      throw fsError(err, ctx);
    }
  }

  private throwIfAborted(signal: AbortSignal | undefined, action: string): void {
    if (signal?.aborted) throw this.cancelled(signal, action);
  }

  private cancelled(signal: AbortSignal | undefined, action: string): GlacierError {
    return new GlacierError('cancelled', isSuspended(signal) ? suspendedMessage : `${action} cancelled`);
  }
}

async function exists(file: string): Promise<boolean> {
  return fs.lstat(file).then(
    () => true,
    (err: unknown) => (isErrno(err, 'ENOENT') ? false : Promise.reject(err)),
  );
}

async function syncParent(file: string): Promise<void> {
  await syncDir(path.dirname(file));
}

/** Same tag, same bytes: objects are never rewritten in place, so inode, size and mtime name a version. */
function etagOf(st: BigIntStats): string {
  return `${st.ino.toString(16)}-${st.size.toString(16)}-${st.mtimeNs.toString(16)}`;
}

function storedObject(key: string, st: BigIntStats): StoredObject {
  return { key, size: Number(st.size), lastModified: new Date(Number(st.mtimeMs)), storageClass: 'STANDARD', etag: etagOf(st) };
}
