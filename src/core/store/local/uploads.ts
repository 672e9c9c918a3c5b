/**
 * The upload area of the local-folder store: `<root>/.uploads/<uploadId>.<key, "/" as "+">.partial`.
 * An object is written there, synced, read back and checked, then published under its key with
 * no-replace semantics. What a crash, a kill or a full disk leaves is only such a temporary file;
 * `listUploads` finds it and removing it is always safe (once published, the object is a second
 * name of the same file, so removing the temporary name leaves the object whole).
 *
 * Upload ids have the shape of archive ids (`YYYYMMDDTHHMMSSZ-` + 16 hex digits), so they sort
 * by the time the upload began and say nothing else.
 */
import { createHash, randomBytes } from 'node:crypto';
import { constants, promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { OpenUpload } from '../archiveStore';
import { GlacierError } from '../../errors';
import { withFileLock } from '../../fileLock';
import { idStamp } from '../../model/keys';
import { isValidKey, keySegments, noFollow, syncDir } from './paths';
import { isErrno } from './fsErrors';

export const uploadsFolder = '.uploads';
const uploadIdPattern = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z-[0-9a-f]{16}$/;
const partialPattern = /^(\d{8}T\d{6}Z-[0-9a-f]{16})\.([A-Za-z0-9._+-]+)\.partial$/;

export function newUploadId(now = new Date()): string {
  return `${idStamp(now)}-${randomBytes(8).toString('hex')}`;
}

export function checkUploadId(uploadId: string): void {
  if (!uploadIdPattern.test(uploadId)) throw new GlacierError('usage', `not an upload id of a local-folder store: ${JSON.stringify(uploadId.slice(0, 100))}`);
}

/** The temporary file of an upload. */
export function partialPath(root: string, upload: OpenUpload): string {
  checkUploadId(upload.uploadId);
  keySegments(upload.key);
  return path.join(root, uploadsFolder, `${upload.uploadId}.${upload.key.replaceAll('/', '+')}.partial`);
}

function initiated(uploadId: string): Date | undefined {
  const m = uploadIdPattern.exec(uploadId);
  if (!m) return undefined;
  const date = new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** The unfinished uploads under `<root>/.uploads`, of one key or all, oldest first. */
export async function listUploads(root: string, key?: string): Promise<OpenUpload[]> {
  const dir = path.join(root, uploadsFolder);
  const st = await fs.lstat(dir).catch((err: unknown) => {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw err;
  });
  if (st === undefined || !st.isDirectory()) return [];
  const found: OpenUpload[] = [];
  for (const name of await fs.readdir(dir)) {
    const m = partialPattern.exec(name);
    if (!m) continue;
    const uploadKey = m[2]!.replaceAll('+', '/');
    if (!isValidKey(uploadKey) || (key !== undefined && uploadKey !== key)) continue;
    const upload: OpenUpload = { key: uploadKey, uploadId: m[1]! };
    const when = initiated(m[1]!);
    if (when) upload.initiated = when;
    found.push(upload);
  }
  return found.sort((a, b) => (a.uploadId < b.uploadId ? -1 : a.uploadId > b.uploadId ? 1 : 0));
}

/** Creates `<root>/.uploads` if needed; refuses one that is a link. */
export async function ensureUploadsFolder(root: string): Promise<string> {
  const dir = path.join(root, uploadsFolder);
  await fs.mkdir(dir, { mode: 0o700 }).catch((err: unknown) => {
    if (!isErrno(err, 'EEXIST')) throw err;
  });
  if (!(await fs.lstat(dir)).isDirectory()) throw new GlacierError('io', `${dir} is not a plain folder (a symbolic link or a file); the store never follows links`);
  return dir;
}

/** That the folder takes files: a small one is written under `.uploads`, synced and removed (no upload lists it). */
export async function probeWrite(root: string): Promise<void> {
  const file = path.join(await ensureUploadsFolder(root), `write-check-${newUploadId()}`);
  const handle = await createPartial(file);
  try {
    await writeAll(handle, Buffer.from('glacier-backup write check\n'), 0);
    await handle.sync();
  } finally {
    await handle.close().catch(() => undefined);
    await fs.rm(file, { force: true });
  }
}

/** Opens a new temporary file for writing and reading back, failing if it exists (O_EXCL) or is a link (O_NOFOLLOW). */
export function createPartial(file: string): Promise<fs.FileHandle> {
  return fs.open(file, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL | noFollow, 0o600);
}

/** The size and sha256 of what a file holds, read back through its handle (memory: one 1 MiB buffer). */
export async function hashFile(handle: fs.FileHandle, signal: AbortSignal | undefined, action: string): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256');
  const buffer = Buffer.allocUnsafe(1 << 20);
  let size = 0;
  for (;;) {
    if (signal?.aborted) throw new GlacierError('cancelled', `${action} cancelled`);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, size);
    if (bytesRead === 0) break;
    hash.update(buffer.subarray(0, bytesRead));
    size += bytesRead;
  }
  return { size, sha256: hash.digest('hex') };
}

/** Writes all of `chunk` at `position` (a write may store fewer bytes than asked). */
export async function writeAll(handle: fs.FileHandle, chunk: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < chunk.length) {
    const { bytesWritten } = await handle.write(chunk, done, chunk.length - done, position + done);
    done += bytesWritten;
  }
}

/** Codes of link() on a file system without hard links (FAT, exFAT, some network shares). */
const noHardLinks = ['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS'];

/**
 * Gives the synced temporary file its final name, never replacing an object: link() fails with
 * EEXIST when the name is taken (whatever is there, a link included), which two concurrent puts
 * of one key resolve with exactly one winner. Where the file system has no hard links, a lock
 * file in `.uploads` serialises the check-then-rename of every writer of that key instead. The
 * temporary name is removed afterwards (a crash in between leaves it listed, and harmless).
 */
export async function publish(partial: string, final: string, key: string, options: { storeName?: string; hardLinks?: boolean } = {}): Promise<void> {
  const taken = (): GlacierError => new GlacierError('conflict', `${key} already exists${options.storeName ? ` in ${options.storeName}` : ''}; objects are never replaced`);
  let linked = false;
  if (options.hardLinks !== false) {
    try {
      await fs.link(partial, final);
      linked = true;
    } catch (err) {
      if (isErrno(err, 'EEXIST')) throw taken();
      if (!isErrno(err, ...noHardLinks)) throw err;
    }
  }
  if (linked) {
    // The object is published; a temporary name that stays is listed by openUploads, harmless.
    await fs.unlink(partial).catch(() => undefined);
  } else {
    const lock = path.join(path.dirname(partial), `publish.${key.replaceAll('/', '+')}`);
    await withFileLock(
      lock,
      async () => {
        const exists = await fs.lstat(final).then(
          () => true,
          (err: unknown) => (isErrno(err, 'ENOENT') ? false : Promise.reject(err)),
        );
        if (exists) throw taken();
        await fs.rename(partial, final);
      },
      { staleMs: 60_000, waitMs: 60_000 },
    );
  }
  await syncDir(path.dirname(final));
  await syncDir(path.dirname(partial));
}
