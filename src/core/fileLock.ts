/**
 * Read-modify-write of the small local state files that several processes share (two VS Code
 * windows, the CLI beside them): an exclusive lock file `<file>.lock`, created with O_EXCL, holding
 * its owner's host, pid, start time and a random token.
 *
 * Guarantees: while `fn` runs no other caller of withFileLock holds the same lock, so updates are
 * never lost. A lock whose owner is gone (its pid is dead or a zombie on this host) or that is older than
 * `staleMs` (an update takes milliseconds) is taken over; otherwise the caller waits up to
 * `waitMs` and then fails with 'conflict'. The lock is removed when `fn` settles. Before taking a
 * stale lock over, it is read again and must still be the same lock (same token).
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GlacierError } from './errors';
import { processAlive } from './util/processAlive';

export interface LockOptions {
  /** Default 30 s. */
  staleMs?: number;
  /** Default 10 s. */
  waitMs?: number;
}

interface Owner {
  host: string;
  pid: number;
  time: number;
  token: string;
}

export async function withFileLock<T>(file: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const lock = `${file}.lock`;
  const staleMs = options.staleMs ?? 30_000;
  const deadline = Date.now() + (options.waitMs ?? 10_000);
  const me: Owner = { host: os.hostname(), pid: process.pid, time: Date.now(), token: randomBytes(8).toString('hex') };
  await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  for (let wait = 5; ; wait = Math.min(wait * 2, 100)) {
    me.time = Date.now();
    try {
      await fs.writeFile(lock, JSON.stringify(me), { flag: 'wx', mode: 0o600 });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = await readOwner(lock);
    if (owner === undefined) continue; // released meanwhile
    if (isStale(owner, staleMs)) {
      // Take it over only if it is still the lock we judged (another process may have done so).
      const again = await readOwner(lock);
      if (again !== undefined && again.token === owner.token) await fs.rm(lock, { force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new GlacierError('conflict', `${path.basename(file)} is locked by process ${owner.pid} on ${owner.host}; if no other Glacier Backup is running, delete ${lock}`);
    }
    await new Promise((r) => setTimeout(r, wait + Math.random() * wait));
  }
  try {
    return await fn();
  } finally {
    const owner = await readOwner(lock);
    if (owner?.token === me.token) await fs.rm(lock, { force: true });
  }
}

async function readOwner(lock: string): Promise<Owner | undefined> {
  let text: string;
  try {
    text = await fs.readFile(lock, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const o = JSON.parse(text) as Partial<Owner>;
    if (typeof o.pid === 'number' && typeof o.time === 'number' && typeof o.host === 'string' && typeof o.token === 'string') return o as Owner;
  } catch {
    // a lock being written right now, or garbage: judged by its age below
  }
  const st = await fs.stat(lock).catch(() => undefined);
  // Unreadable content: treat as a lock of unknown owner, stale once old enough.
  return st ? { host: '', pid: 0, time: st.mtimeMs, token: `mtime:${st.mtimeMs}` } : undefined;
}

function isStale(owner: Owner, staleMs: number): boolean {
  if (Date.now() - owner.time > staleMs) return true;
  if (owner.host !== os.hostname() || owner.pid <= 0) return false;
  return !processAlive(owner.pid);
}
