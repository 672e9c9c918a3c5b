/**
 * Keys to paths for the local-folder store, without ever leaving the store folder.
 *
 * Guarantees: a key that passes `keySegments` is relative, has no empty, "." or ".." segment, no
 * backslash, colon or other character outside [A-Za-z0-9._-], and no segment that starts with a
 * dot (so it can never name the store's own `.uploads` folder or a hidden file). Below the root,
 * `checkedParent` and `ensureParent` refuse any folder on the way that is a symbolic link, and
 * files are opened with O_NOFOLLOW where the platform has it: a link planted in the store folder
 * is never followed. The root itself may be a link (it is the user's own setting).
 */
import { constants, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { GlacierError } from '../../errors';

/** O_NOFOLLOW where the platform has it (not on Windows, where links need privileges anyway). */
export const noFollow = constants.O_NOFOLLOW ?? 0;

const segmentPattern = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;
const maxKeyLength = 1024;

/** The segments of a key the engine built ("archives/<id>.tar.gpg"), or a 'usage' error. */
export function keySegments(key: string): string[] {
  const segments = key.split('/');
  if (key.length === 0 || key.length > maxKeyLength || !segments.every(isKeySegment)) {
    throw new GlacierError('usage', `not a valid object key for a local-folder store: ${JSON.stringify(key.slice(0, 200))}`);
  }
  return segments;
}

/** The segments of a directory key: "" (the whole store) or "archives/" and the like. */
export function dirSegments(dir: string): string[] {
  if (dir === '') return [];
  if (!dir.endsWith('/')) throw new GlacierError('usage', `not a directory key (it must end with "/"): ${JSON.stringify(dir.slice(0, 200))}`);
  return keySegments(dir.slice(0, -1));
}

/** Whether a file name can be a segment of a key (hidden names and `.uploads` cannot). */
export function isKeySegment(name: string): boolean {
  return segmentPattern.test(name) && name.length <= 255;
}

export function isValidKey(key: string): boolean {
  try {
    keySegments(key);
    return true;
  } catch {
    return false;
  }
}

/** The error for a folder in the store that is a link or a file where a folder belongs. */
function notAFolder(dir: string): GlacierError {
  return new GlacierError('io', `${dir} is not a plain folder (a symbolic link or a file); the store never follows links`);
}

/**
 * The folder that holds `segments`' last segment, after checking with lstat that every folder
 * below the root on the way is a real folder. Undefined when one of them does not exist.
 */
export async function checkedParent(root: string, segments: readonly string[]): Promise<string | undefined> {
  let dir = root;
  for (const segment of segments.slice(0, -1)) {
    dir = path.join(dir, segment);
    const st = await fs.lstat(dir).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return undefined;
      throw err;
    });
    if (st === undefined) return undefined;
    if (!st.isDirectory()) throw notAFolder(dir);
  }
  return dir;
}

/** As checkedParent, but creates the missing folders (never the root itself). */
export async function ensureParent(root: string, segments: readonly string[]): Promise<string> {
  let dir = root;
  for (const segment of segments.slice(0, -1)) {
    dir = path.join(dir, segment);
    let created = false;
    try {
      await fs.mkdir(dir);
      created = true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const st = await fs.lstat(dir);
    if (!st.isDirectory()) throw notAFolder(dir);
    if (created) await syncDir(path.dirname(dir));
  }
  return dir;
}

/**
 * Makes a folder's entries durable (a new name, a removed name). File systems that cannot sync a
 * folder (some network mounts, Windows) are skipped: there the rename or link is all we have.
 */
export async function syncDir(dir: string): Promise<void> {
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(dir, constants.O_RDONLY | noFollow);
    await handle.sync();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'EISDIR' && code !== 'EPERM' && code !== 'EBADF' && code !== 'ENOTSUP') throw err;
  } finally {
    await handle?.close();
  }
}
