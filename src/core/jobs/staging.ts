/**
 * The staging folder of a download: created next to the destination, named so that downloads on
 * different hosts sharing a folder never collide, and always removed when the download does not
 * publish it: on failure, on cancel, and even when the process exits with the download still
 * pending (a synchronous 'exit' hook). Removal works on whatever the archive made of the tree
 * (read-only or unsearchable folders): write and search permission are restored on the way down.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, lstatSync, readdirSync, rmSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { processAlive } from '../util/processAlive';

export const stagingPrefix = '.glacier-backup-staging-';

/** A staging folder of another host is removed only once it was not touched for this long. */
const foreignStaleMs = 24 * 60 * 60_000;
/** A running download touches its staging folder this often, so it never looks abandoned. */
const heartbeatMs = 10 * 60_000;

/** 8 hex digits naming this host: staging folders of other hosts sharing a folder are told apart. */
export function hostTag(host = os.hostname()): string {
  return createHash('sha256').update(host).digest('hex').slice(0, 8);
}

export interface Staging {
  path: string;
  /** Stops the heartbeat and the exit hook; the folder itself is left (published or removed by the caller). */
  release(): void;
}

/**
 * Creates `<dest>/.glacier-backup-staging-<what>-<host tag>-<pid>-<8 hex>` (mode 0700). Until
 * `release()`, it is removed synchronously if the process exits, and touched every few minutes.
 */
export async function createStaging(dest: string, what: string): Promise<Staging> {
  const dir = path.join(dest, `${stagingPrefix}${what}-${hostTag()}-${process.pid}-${randomBytes(4).toString('hex')}`);
  await fs.mkdir(dir, { mode: 0o700 });
  const onExit = (): void => removeTreeSync(dir);
  process.on('exit', onExit);
  const beat = setInterval(() => {
    const now = new Date();
    fs.utimes(dir, now, now).catch(() => undefined);
  }, heartbeatMs);
  beat.unref();
  return {
    path: dir,
    release: () => {
      clearInterval(beat);
      process.off('exit', onExit);
    },
  };
}

/**
 * Runs `work` in a new staging folder. If it fails, the folder is removed and the error rethrown;
 * if it succeeds, the folder is the caller's (`work` has renamed it into place).
 */
export async function withStaging<T>(dest: string, what: string, work: (staging: string) => Promise<T>): Promise<T> {
  const staging = await createStaging(dest, what);
  try {
    return await work(staging.path);
  } catch (err) {
    await removeTree(staging.path).catch(() => undefined);
    throw err;
  } finally {
    staging.release();
  }
}

/**
 * Removes staging folders that an interrupted download (kill -9, power loss) left in `dest`, only
 * when provably abandoned: this host's whose process is gone, and other hosts' (or unnamed ones of
 * older versions) once untouched for a day. A running download keeps its folder touched.
 */
export async function removeStaleStaging(dest: string, onNotice?: (message: string) => void): Promise<void> {
  let names: string[];
  try {
    names = await fs.readdir(dest);
  } catch {
    return;
  }
  const ours = hostTag();
  for (const name of names) {
    if (!name.startsWith(stagingPrefix)) continue;
    const abs = path.join(dest, name);
    const owner = /-([0-9a-f]{8})-(\d+)-[0-9a-f]{8}$/.exec(name);
    let stale: boolean;
    if (owner && owner[1] === ours) stale = !processAlive(Number(owner[2]));
    else stale = Date.now() - ((await fs.lstat(abs).catch(() => undefined))?.mtimeMs ?? Date.now()) > foreignStaleMs;
    if (!stale) continue;
    try {
      await removeTree(abs);
      onNotice?.(`removed ${name}, left by an interrupted download`);
    } catch (err) {
      onNotice?.(`could not remove ${name}, left by an interrupted download (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
  }
}

/** `rm -rf` that first gives the owner rwx on every folder below `dir` (never following symlinks). */
export async function removeTree(dir: string): Promise<void> {
  try {
    await fs.rm(dir, { recursive: true, force: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EACCES' && code !== 'EPERM' && code !== 'ENOTEMPTY') throw err;
    await openUp(dir);
    await fs.rm(dir, { recursive: true, force: true });
  }
}

async function openUp(dir: string): Promise<void> {
  const st = await fs.lstat(dir).catch(() => undefined);
  if (!st?.isDirectory()) return;
  if ((st.mode & 0o700) !== 0o700) await fs.chmod(dir, (st.mode & 0o7777) | 0o700).catch(() => undefined);
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  for (const name of names) await openUp(path.join(dir, name));
}

/** The same, synchronously: for a process 'exit' hook, where nothing asynchronous runs any more. */
export function removeTreeSync(dir: string): void {
  try {
    rmSync(dir, { recursive: true, force: true });
    return;
  } catch {
    // a folder without write or search permission: open the tree up, then try again
  }
  const openUpSync = (d: string): void => {
    let st;
    try {
      st = lstatSync(d);
    } catch {
      return;
    }
    if (!st.isDirectory()) return;
    if ((st.mode & 0o700) !== 0o700) {
      try {
        chmodSync(d, (st.mode & 0o7777) | 0o700);
      } catch {
        // removal below reports nothing either: best effort at exit
      }
    }
    let names: string[] = [];
    try {
      names = readdirSync(d);
    } catch {
      return;
    }
    for (const name of names) openUpSync(path.join(d, name));
  };
  openUpSync(dir);
  try {
    rmSync(dir, { recursive: true, force: true });
  } catch {
    // best effort at exit
  }
}
