/**
 * Walks the selected files and folders and lists what goes into an archive, in a stable order.
 * Owns: excludes, the symlink policy, skipping what cannot or should not be archived. Reads no
 * file contents (the tar writer does), so it is cheap to run twice (for example to detect that
 * nothing changed since the last backup). Entries are kept compactly (entryList.ts): a walk of
 * 200,000 files holds about 15 MB.
 */
import { lstatSync, promises as fs, readdirSync, readlinkSync, statSync, type Stats } from 'node:fs';
import * as path from 'node:path';
import { defaultExcludes } from '../config';
import { GlacierError, throwIfAborted } from '../errors';
import { compileExcludes } from './excludes';
import { joinName, SourceEntryList } from './entryList';
import { fromBytes, fsPath, readableName } from '../model/rawNames';
import { archiveLinkTarget, archiveMode, archiveOwner, rootName } from './portableMeta';
import type { EntryType } from '../model/entry';

/**
 * Names are the bytes on disk as rawNames.ts carries them (lone surrogates for bytes that are not
 * UTF-8): give paths to `fs` through fsPath, and to people through readableName.
 */
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
  /** Absolute, readable (readableName). */
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
  /** In walk order: each root, and inside a folder its entries sorted by name, depth first. */
  entries: SourceEntryList;
  skipped: Skipped[];
}

const yieldEvery = 1000;
const yieldAfterMs = 20;

export async function walk(selected: readonly string[], options: WalkOptions = {}): Promise<WalkResult> {
  if (selected.length === 0) throw new GlacierError('usage', 'nothing to back up: no paths given');
  const isExcluded = compileExcludes(options.exclude ?? defaultExcludes);
  const follow = options.followSymlinks ?? false;
  const roots: SourceRoot[] = [];
  const entries = new SourceEntryList();
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

  // The syscalls are synchronous: for the cached metadata of a re-backup, lstat takes a few
  // microseconds, and a thread-pool round trip per file cost 2-5 times as much in all. The event
  // loop gets a turn (and cancellation a check) every `yieldEvery` calls or `yieldAfterMs`,
  // whichever comes first, so a slow (network) file system never holds it for long (the VS Code
  // extension host is shared). pause() comes before each call, outside the try blocks that turn a
  // failed call into a skip.
  let calls = 0;
  let since = performance.now();
  const pause = async (): Promise<void> => {
    if (++calls % yieldEvery !== 0 && performance.now() - since < yieldAfterMs) return;
    await new Promise((resolve) => setImmediate(resolve));
    since = performance.now();
    throwIfAborted(options.signal, 'backup');
  };
  const code = (err: unknown): string => (err as NodeJS.ErrnoException).code ?? String(err);

  /** `name` is the base name in its folder `parent` (or the root's archive name, parent -1). */
  const visit = async (abs: string, archivePath: string, name: string, parent: number, st: Stats, ancestors: Set<string>): Promise<void> => {
    let type = typeOf(st);
    let linkTarget: string | undefined;
    if (type === 'symlink') {
      if (follow) {
        await pause();
        try {
          st = statSync(fsPath(abs));
          type = typeOf(st);
        } catch {
          // A dangling link is kept as a link.
        }
      }
      if (type === 'symlink') {
        await pause();
        try {
          linkTarget = archiveLinkTarget(fromBytes(readlinkSync(fsPath(abs), { encoding: 'buffer' })));
        } catch (err) {
          skipped.push({ path: readableName(abs), reason: 'unreadable', detail: code(err) });
          return;
        }
      }
    }
    if (!type) {
      skipped.push({ path: readableName(abs), reason: 'special', detail: 'socket, FIFO or device' });
      return;
    }
    const fields = {
      type,
      size: type === 'file' ? st.size : 0,
      mtimeMs: Math.floor(st.mtimeMs),
      mode: archiveMode(type, st.mode),
      uid: archiveOwner(st.uid),
      gid: archiveOwner(st.gid),
      ...(linkTarget === undefined ? {} : { linkTarget }),
    };
    const rootAbs = parent < 0 ? abs : undefined;
    if (type !== 'directory') {
      entries.add(parent, name, fields, rootAbs);
      return;
    }
    const id = `${st.dev}:${st.ino}`;
    if (ancestors.has(id)) {
      skipped.push({ path: readableName(abs), reason: 'loop', detail: 'symlink loop' });
      return;
    }
    let names: string[];
    await pause();
    try {
      names = readNames(abs);
    } catch (err) {
      skipped.push({ path: readableName(abs), reason: 'unreadable', detail: code(err) });
      return;
    }
    const index = entries.add(parent, name, fields, rootAbs);
    names.sort(compareNames);
    const inner = follow ? new Set(ancestors).add(id) : ancestors;
    for (const n of names) {
      const childPath = `${archivePath}/${n}`;
      if (isExcluded(childPath)) continue;
      const childAbs = joinName(abs, n);
      let childStat: Stats;
      await pause();
      try {
        childStat = lstatSync(fsPath(childAbs));
      } catch (err) {
        skipped.push({ path: readableName(childAbs), reason: 'unreadable', detail: code(err) });
        continue;
      }
      if (childStat.isDirectory() && isExcluded(`${childPath}/`)) continue;
      await visit(childAbs, childPath, n, index, childStat, inner);
    }
  };

  for (const root of roots) {
    throwIfAborted(options.signal, 'backup');
    const st = await fs.lstat(root.path);
    await visit(root.path, root.name, root.name, -1, st, new Set());
  }
  return { roots, entries, skipped };
}

/**
 * The names in a folder, each exactly as its bytes (rawNames.ts). Node decodes names as UTF-8 and
 * turns bytes that are not into U+FFFD, which no longer names the file: only then is the folder
 * read again as bytes.
 */
function readNames(dir: string): string[] {
  const names = readdirSync(fsPath(dir));
  if (!names.some((n) => n.includes('\ufffd'))) return names;
  return readdirSync(fsPath(dir), { encoding: 'buffer' }).map(fromBytes);
}

function typeOf(st: Stats): EntryType | undefined {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'directory';
  if (st.isSymbolicLink()) return 'symlink';
  return undefined;
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
