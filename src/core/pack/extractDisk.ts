/**
 * The disk side of a restore (safeExtract.ts reads and checks the tar; this places it): what an
 * extraction returns and is given, its running state, the local name of each entry, parent folders
 * made without following links, the check that stands in for O_NOFOLLOW where there is none
 * (Windows), and the folders' modes and times applied last, deepest first.
 */
import { constants, fstatSync, lstatSync, mkdirSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { GlacierError } from '../errors';
import { fsPath } from '../model/rawNames';
import { printable, refuse, type Seen } from './entryRules';
import type { LocalNamer } from './localNames';

export interface ExtractedEntry {
  /** The name's bytes as rawNames.ts carries them (so is linkTarget). */
  path: string;
  type: 'file' | 'directory' | 'symlink';
  size: number;
  /** Modification time, milliseconds since the epoch (whole seconds, as the tar header keeps). */
  mtime: number;
  /** The mode applied: permission bits only (`& 0o777`), setuid, setgid and sticky dropped. */
  mode: number;
  /** Hex sha256 of the content written, files only. */
  sha256?: string;
  linkTarget?: string;
  /** Where it was written, relative to the root, '/'-separated: only when that differs from `path` (localNames.ts). */
  localPath?: string;
  /** For the user: why it was written under another name, or not written at all (a symlink on Windows). */
  note?: string;
  /** True when it was not written on this system (`note` says why). */
  leftOut?: true;
}

export interface ExtractOptions {
  /** Existing, empty staging directory; nothing is ever written outside it. */
  root: string;
  /**
   * false: check only. Every entry is read, validated and hashed exactly as when extracting, and
   * the same results are returned, but nothing is written (`root` is not touched). Default true.
   */
  write?: boolean;
  /**
   * Subset restore: only entries whose archive path passes are written (parent directories of
   * written entries are created). Entries that fail the filter are still read (to continue the
   * stream) and still validated.
   */
  filter?: (archivePath: string) => boolean;
  /** Default 5 000 000. */
  maxEntries?: number;
  /** Longest entry name or symlink target, in bytes; default 4096. */
  maxPathBytes?: number;
  /**
   * Create symlinks whose target is absolute or leaves the root, as they are (they are still
   * never followed while extracting). Default false: such entries are refused.
   */
  allowOutsideSymlinks?: boolean;
  signal?: AbortSignal;
  onProgress?: (p: { entries: number; bytes: number }) => void;
  /** Whose file-name rules apply (localNames.ts); default process.platform. For tests. */
  platform?: NodeJS.Platform;
}


export interface State {
  root: string;
  platform: NodeJS.Platform;
  namer: LocalNamer;
  /** Archive-level view of every path, written or not: catches type changes and links as parents. */
  seen: Map<string, Seen>;
  /** Paths (relative, '/'-separated) known to be real directories on disk. */
  dirsOnDisk: Set<string>;
  /** Final mode and mtime of directory entries, applied at the end. */
  dirs: Map<string, { abs: string; mode: number; mtime: number; result: ExtractedEntry }>;
  results: ExtractedEntry[];
  progress: { entries: number; bytes: number };
  /** Set when the source iterable itself threw: that error wins over what the parser makes of it. */
  sourceFailure?: { error: unknown };
  /** Bytes handed to the parser, the trailing run of zero bytes among them, and where the last entry ends. */
  fed: number;
  zeroTail: number;
  lastEnd: number;
}

export const hasNoFollow = constants.O_NOFOLLOW !== undefined;
export const openFlags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0);

/**
 * The local segments of an entry to write (localNames.ts), and what its result then says: its
 * `localPath` when it differs, and a `note` for each renaming that this entry is the first to meet.
 */
export function placeLocal(state: State, segments: readonly string[], rel: string): { local: readonly string[]; extra: Pick<ExtractedEntry, 'localPath' | 'note'> } {
  const { local, renamed } = state.namer.place(segments);
  if (state.namer.system === 'posix') return { local, extra: {} };
  const localPath = local.join('/');
  const notes = renamed.map((r) =>
    r.path === rel ? `restored as "${printable(r.localPath)}": ${r.reason}` : `its folder "${printable(r.path)}" is restored as "${printable(r.localPath)}": ${r.reason}`,
  );
  return { local, extra: { ...(localPath === rel ? {} : { localPath }), ...(notes.length ? { note: notes.join('; ') } : {}) } };
}

/**
 * Where open() cannot refuse to follow links (no O_NOFOLLOW: Windows), what O_EXCL|O_NOFOLLOW
 * guarantee is checked after opening, before anything is written: every folder between the root
 * and the file is a real folder (no symlink or junction, which Node reports as a symlink), and the
 * path names the very file opened (same volume and file id, a regular file).
 */
export function checkOpened(fd: number, abs: string, root: string, local: readonly string[], name: string): void {
  let dir = root;
  for (const segment of local.slice(0, -1)) {
    dir = path.join(dir, segment);
    const st = lstatSync(fsPath(dir));
    if (st.isSymbolicLink() || !st.isDirectory()) refuse(name, `writes through a symlink or junction ("${printable(path.relative(root, dir))}")`);
  }
  const opened = fstatSync(fd, { bigint: true });
  const named = lstatSync(fsPath(abs), { bigint: true });
  if (!named.isFile() || named.dev !== opened.dev || named.ino !== opened.ino) refuse(name, 'the file opened is not the one its path names (replaced while restoring?)');
}

/**
 * Makes the first `count` segments real directories on disk, refusing symlinks and files among
 * them. Linear in the name's length: only the missing tail of the chain is looked at, found from
 * the deepest parent up to the first one known on disk.
 */
export async function ensureDirs(state: State, segments: readonly string[], count: number, name: string): Promise<void> {
  if (count === 0) return;
  const prefixes: string[] = [];
  let rel = segments.slice(0, count).join('/');
  while (!state.dirsOnDisk.has(rel)) {
    prefixes.push(rel);
    const cut = rel.lastIndexOf('/');
    if (cut < 0) break;
    rel = rel.slice(0, cut);
  }
  for (let k = prefixes.length - 1; k >= 0; k--) {
    const r = prefixes[k] as string;
    const abs = `${state.root}${path.sep}${r}`;
    try {
      mkdirSync(fsPath(abs), { mode: 0o700 });
    } catch (err) {
      if (errno(err) !== 'EEXIST') throw err;
      const st = lstatSync(fsPath(abs));
      if (st.isSymbolicLink()) refuse(name, `writes through a symlink ("${printable(r)}")`);
      if (!st.isDirectory()) refuse(name, k === 0 && count === segments.length ? 'the path already exists' : `a parent ("${printable(r)}") is not a folder`);
    }
    state.dirsOnDisk.add(r);
  }
}

/** Directory modes and mtimes, deepest first: a read-only or unsearchable folder blocks nothing. */
export async function applyDirectoryModes(state: State): Promise<void> {
  const dirs = [...state.dirs.values()].map((d) => ({ d, depth: depth(d.result.path) })).sort((a, b) => b.depth - a.depth);
  for (const { d } of dirs) {
    const st = await fs.lstat(fsPath(d.abs));
    if (!st.isDirectory()) throw new GlacierError('corrupt', `refused entry "${printable(d.result.path)}": it is no longer a folder`);
    await fs.chmod(fsPath(d.abs), d.mode);
    await fs.utimes(fsPath(d.abs), d.mtime / 1000, d.mtime / 1000);
  }
}

function depth(rel: string): number {
  let n = 1;
  for (let i = rel.indexOf('/'); i !== -1; i = rel.indexOf('/', i + 1)) n++;
  return n;
}

export function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}
