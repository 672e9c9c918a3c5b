/**
 * Walks the selected files and folders and lists what goes into an archive, in a stable order.
 * Owns: excludes, the symlink policy, skipping what cannot or should not be archived. Reads no
 * file contents (the tar writer does), so it is cheap to run twice (for example to detect that
 * nothing changed since the last backup).
 */
import { promises as fs, type Stats } from 'node:fs';
import * as path from 'node:path';
import { GlacierError, throwIfAborted } from '../errors';
import { compileExcludes } from './excludes';

export type EntryType = 'file' | 'directory' | 'symlink';

export interface SourceEntry {
  /** Path inside the archive, "/"-separated, starting with the root's archive name. */
  path: string;
  /** Absolute path on disk. */
  abs: string;
  type: EntryType;
  size: number;
  mtimeMs: number;
  mode: number;
  uid: number;
  gid: number;
  linkTarget?: string;
}

export interface SourceRoot {
  /** Absolute path as selected by the user. */
  path: string;
  /** Top-level name of this root inside the archive. */
  name: string;
  type: EntryType;
}

export interface Skipped {
  path: string;
  reason: 'unreadable' | 'special' | 'loop';
  detail: string;
}

export interface WalkOptions {
  exclude?: readonly string[];
  followSymlinks?: boolean;
  signal?: AbortSignal;
}

export interface WalkResult {
  roots: SourceRoot[];
  entries: SourceEntry[];
  skipped: Skipped[];
}

export const defaultExcludes: readonly string[] = ['**/node_modules/**'];

export async function walk(selected: readonly string[], options: WalkOptions = {}): Promise<WalkResult> {
  if (selected.length === 0) throw new GlacierError('usage', 'nothing to back up: no paths given');
  const isExcluded = compileExcludes(options.exclude ?? defaultExcludes);
  const follow = options.followSymlinks ?? false;
  const roots: SourceRoot[] = [];
  const entries: SourceEntry[] = [];
  const skipped: Skipped[] = [];
  const usedNames = new Set<string>();

  const absRoots = [...new Set(selected.map((p) => path.resolve(p)))];
  for (const abs of absRoots) {
    let st: Stats;
    try {
      st = follow ? await fs.stat(abs) : await fs.lstat(abs);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') throw new GlacierError('not-found', `path does not exist: ${abs}`);
      throw new GlacierError('unreadable', `cannot read ${abs}: ${code ?? String(err)}`);
    }
    const name = uniqueName(rootName(abs), usedNames);
    const type = typeOf(st);
    if (!type) throw new GlacierError('usage', `not a file, folder or symlink: ${abs}`);
    roots.push({ path: abs, name, type });
  }

  const visit = async (abs: string, archivePath: string, st: Stats, ancestors: Set<string>): Promise<void> => {
    throwIfAborted(options.signal, 'backup');
    let type = typeOf(st);
    let linkTarget: string | undefined;
    if (type === 'symlink') {
      if (follow) {
        try {
          st = await fs.stat(abs);
          type = typeOf(st);
        } catch {
          // A dangling link is kept as a link.
        }
      }
      if (type === 'symlink') linkTarget = await fs.readlink(abs);
    }
    if (!type) {
      skipped.push({ path: abs, reason: 'special', detail: 'socket, FIFO or device' });
      return;
    }
    const base = {
      path: archivePath,
      abs,
      size: type === 'file' ? st.size : 0,
      mtimeMs: Math.floor(st.mtimeMs),
      mode: st.mode & 0o7777,
      uid: st.uid,
      gid: st.gid,
    };
    if (type !== 'directory') {
      entries.push(linkTarget === undefined ? { ...base, type } : { ...base, type, linkTarget });
      return;
    }
    const id = `${st.dev}:${st.ino}`;
    if (ancestors.has(id)) {
      skipped.push({ path: abs, reason: 'loop', detail: 'symlink loop' });
      return;
    }
    let names: string[];
    try {
      names = await fs.readdir(abs);
    } catch (err) {
      skipped.push({ path: abs, reason: 'unreadable', detail: (err as NodeJS.ErrnoException).code ?? String(err) });
      return;
    }
    entries.push({ ...base, type });
    names.sort(compareNames);
    const kept = names.filter((n) => !isExcluded(`${archivePath}/${n}`));
    const stats = await Promise.all(
      kept.map((n) =>
        fs.lstat(path.join(abs, n)).catch((err: NodeJS.ErrnoException) => {
          skipped.push({ path: path.join(abs, n), reason: 'unreadable', detail: err.code ?? String(err) });
          return undefined;
        }),
      ),
    );
    const inner = follow ? new Set(ancestors).add(id) : ancestors;
    for (let i = 0; i < kept.length; i++) {
      const childStat = stats[i];
      const n = kept[i]!;
      if (!childStat) continue;
      const childPath = `${archivePath}/${n}`;
      if (childStat.isDirectory() && isExcluded(`${childPath}/`)) continue;
      await visit(path.join(abs, n), childPath, childStat, inner);
    }
  };

  for (const root of roots) {
    const st = await fs.lstat(root.path);
    await visit(root.path, root.name, st, new Set());
  }
  return { roots, entries, skipped };
}

function typeOf(st: Stats): EntryType | undefined {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'directory';
  if (st.isSymbolicLink()) return 'symlink';
  return undefined;
}

function rootName(abs: string): string {
  const base = path.basename(abs);
  return base === '' || base === path.sep ? 'root' : base;
}

function uniqueName(name: string, used: Set<string>): string {
  let candidate = name;
  for (let i = 2; used.has(candidate); i++) candidate = `${name}~${i}`;
  used.add(candidate);
  return candidate;
}

/** Code-unit order: stable across locales and the same order the manifest lists. */
function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
