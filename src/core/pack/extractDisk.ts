/**
 * The disk side of safeExtract.ts: the extraction's running state, and the calls that create
 * folders, files and their modes under the staging root. Same guarantees as there: nothing is
 * written through a symlink (parents lstat-ed, files opened O_EXCL|O_NOFOLLOW), nothing outside
 * the root; an entry's bytes are counted against its header size and hashed as they pass.
 */
import { createHash, type Hash } from 'node:crypto';
import { closeSync, constants, fchmodSync, ftruncateSync, futimesSync, lstatSync, mkdirSync, openSync, promises as fs, writeSync } from 'node:fs';
import * as path from 'node:path';
import type * as tar from 'tar-stream';
import { GlacierError } from '../errors';
import { fsPath } from './rawNames';
import { printable, refuse, type Seen } from './entryRules';
import { type SparseInfo, SparseSink } from './sparse';
import type { ExtractedEntry, ExtractOptions } from './safeExtract';

export interface State {
  root: string;
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

/** One tar entry: its header, and a stream of its data. */
export type Entry = tar.Extract extends AsyncIterable<infer S> ? S : never;

const progressStep = 16 << 20;
const openFlags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0);

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

/**
 * Writes a file entry, its mode and its mtime. The calls are synchronous: for the many small files
 * of a typical tree, handing each of them to libuv's thread pool cost more than the call itself.
 */
export async function writeFile(
  entry: Entry,
  abs: string,
  name: string,
  file: { size: number; sparse: SparseInfo | null; mode: number; mtime: number },
  state: State,
  options: ExtractOptions,
  tarFailure: (err: unknown) => Promise<unknown>,
): Promise<{ size: number; sha256: string }> {
  const { mode, mtime } = file;
  let fd: number;
  try {
    fd = openSync(fsPath(abs), openFlags, 0o600);
  } catch (err) {
    if (errno(err) === 'EEXIST') refuse(name, 'the path already exists');
    if (errno(err) === 'ELOOP') refuse(name, 'writes through a symlink');
    throw err;
  }
  try {
    const hash = createHash('sha256');
    const sink = contentSink(hash, name, file.size, file.sparse, (chunk, position) => {
      for (let off = 0; off < chunk.byteLength; ) off += writeSync(fd, chunk, off, chunk.byteLength - off, position === null ? null : position + off);
    });
    await eachChunk(entry, name, file.size, state, options, tarFailure, sink.push);
    const size = sink.finish();
    if (file.sparse) ftruncateSync(fd, size); // the trailing hole
    fchmodSync(fd, mode);
    futimesSync(fd, mtime / 1000, mtime / 1000);
    return { size, sha256: hash.digest('hex') };
  } finally {
    closeSync(fd);
  }
}

/**
 * Where a file's stored data goes: hashed and written in order, or, for a sparse file, each
 * segment at its offset (holes hashed as zeros). `finish()` gives the file's real size.
 */
export function contentSink(
  hash: Hash,
  name: string,
  size: number,
  sparse: SparseInfo | null,
  write: (chunk: Buffer, position: number | null) => void,
): { push: (chunk: Buffer) => Promise<void>; finish: () => number } {
  if (sparse) {
    const sink = new SparseSink(sparse, size, hash, write, (why) => refuse(name, why));
    return { push: (chunk) => Promise.resolve(sink.push(chunk)), finish: () => sink.finish() };
  }
  return {
    push: (chunk) => {
      hash.update(chunk);
      write(chunk, null);
      return Promise.resolve();
    },
    finish: () => size,
  };
}

/** Reads a file entry that is not written, so the stream goes on. */
export function consume(entry: Entry, name: string, size: number, state: State, options: ExtractOptions, tarFailure: (err: unknown) => Promise<unknown>): Promise<void> {
  return eachChunk(entry, name, size, state, options, tarFailure, () => Promise.resolve());
}

/** The parser's next item, undefined at the end; a parser failure is passed through tarFailure, an abort is 'cancelled'. */
export async function pull<T>(items: AsyncIterator<T>, tarFailure: (err: unknown) => Promise<unknown>, signal: AbortSignal | undefined): Promise<T | undefined> {
  let next: IteratorResult<T>;
  try {
    next = await items.next();
  } catch (err) {
    throw await tarFailure(err);
  }
  if (next.done) return undefined;
  if (signal?.aborted) throw cancelled();
  return next.value;
}

export async function eachChunk(
  entry: Entry,
  name: string,
  size: number,
  state: State,
  options: ExtractOptions,
  tarFailure: (err: unknown) => Promise<unknown>,
  use: (chunk: Buffer) => Promise<void>,
): Promise<void> {
  const chunks = (entry as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  let read = 0;
  for (;;) {
    const chunk = await pull(chunks, tarFailure, options.signal);
    if (chunk === undefined) break;
    read += chunk.byteLength;
    const before = state.progress.bytes;
    state.progress.bytes += chunk.byteLength;
    if (Math.floor(before / progressStep) !== Math.floor(state.progress.bytes / progressStep)) options.onProgress?.({ ...state.progress });
    await use(chunk);
  }
  if (read !== size) throw new GlacierError('corrupt', `the archive is not a valid tar stream ("${printable(name)}" holds ${read} of ${size} bytes)`);
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

export function cancelled(): GlacierError {
  return new GlacierError('cancelled', 'restore cancelled');
}
