/**
 * Extracts a tar into an empty staging folder, treating the archive as hostile: anyone who can
 * write the bucket can plant one.
 *
 * Guarantees: nothing is created, changed or followed outside `root`. Every name is checked
 * before anything is written (no absolute paths, drive letters, backslashes, `..` segments, NUL
 * bytes, over-long names); hard links, devices, FIFOs and unknown types are refused; symlinks may
 * not point out of the root, and nothing is ever written through a symlink (each parent is
 * lstat-ed, files are opened O_EXCL|O_NOFOLLOW). Refusals are GlacierError('corrupt') naming the
 * entry. Memory stays bounded: file data streams to disk with back-pressure. setuid, setgid and
 * sticky bits are dropped. The archive's own top folder (a directory "./", as `tar -C DIR -cf - .`
 * writes it first) stands for the root: it is skipped, neither written nor returned. A malformed or truncated tar is 'corrupt'; an error of the source
 * itself (such as a failed decryption) is rethrown unchanged. Nothing is cleaned up on failure:
 * the caller removes the staging folder.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type * as tar from 'tar-stream';
import { GlacierError, oneLine } from '../errors';
import { fsPath } from './rawNames';
import { rawNameExtract } from './rawTarNames';
import { checkLinkTarget, checkStructure, kindOf, refuse, splitName } from './entryRules';
import { localFailure } from './localError';
import { sparseInfo } from './sparse';
import { applyDirectoryModes, cancelled, consume, contentSink, eachChunk, ensureDirs, errno, pull, writeFile, type Entry, type State } from './extractDisk';

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
}


const defaultMaxEntries = 5_000_000;
const defaultMaxPathBytes = 4096;

export async function extractTar(source: AsyncIterable<Uint8Array>, options: ExtractOptions): Promise<ExtractedEntry[]> {
  const { signal } = options;
  const maxEntries = options.maxEntries ?? defaultMaxEntries;
  const maxPathBytes = options.maxPathBytes ?? defaultMaxPathBytes;
  if (signal?.aborted) throw cancelled();
  const root = path.resolve(options.root);
  const write = options.write ?? true;
  if (write && !(await fs.stat(root)).isDirectory()) throw new GlacierError('usage', `${root} is not a folder`);

  const state: State = {
    root,
    seen: new Map(),
    dirsOnDisk: new Set(),
    dirs: new Map(),
    results: [],
    progress: { entries: 0, bytes: 0 },
    fed: 0,
    zeroTail: 0,
    lastEnd: 0,
  };
  const extract = rawNameExtract();
  // The parser's own error is kept: a data stream it tears down only says "Stream was destroyed".
  let parserError: unknown;
  extract.on('error', (err: unknown) => {
    parserError ??= err;
  });
  const onAbort = (): void => extract.destroy(cancelled());
  signal?.addEventListener('abort', onAbort);
  const feeding = feed(source, extract, state);

  /** A failure while pulling from the parser: the source's own error, a cancel, or a bad tar. */
  const tarFailure = async (err: unknown): Promise<unknown> => {
    if (extract.destroying && !extract.destroyed) await new Promise<void>((resolve) => extract.once('close', () => resolve()));
    if (state.sourceFailure) return state.sourceFailure.error;
    if (signal?.aborted) return cancelled();
    const cause = (err as { code?: string } | undefined)?.code === 'STREAM_DESTROYED' && parserError !== undefined ? parserError : err;
    if (cause instanceof GlacierError) return cause;
    const detail = oneLine(cause instanceof Error ? cause.message : String(cause));
    const why = detail === 'Unexpected end of data' ? 'it ends in the middle of an entry: truncated?' : detail;
    return new GlacierError('corrupt', `the archive is not a valid tar stream (${why})`, { cause });
  };

  try {
    // Entries are pulled one at a time, each fully consumed before the next (the explicit
    // iterator tells parser failures apart from failures while writing).
    const entries = extract[Symbol.asyncIterator]();
    for (;;) {
      const entry = await pull(entries, tarFailure, signal);
      if (entry === undefined) break;
      state.progress.entries++;
      if (state.progress.entries > maxEntries) refuse(entry.header.name, `the archive has more than ${maxEntries} entries`);
      await extractEntry(entry, state, options, maxPathBytes, tarFailure).catch((err: unknown) => {
        throw (write ? localFailure(err, `${root}/${entry.header.name}`, root) : null) ?? err;
      });
      options.onProgress?.({ ...state.progress });
    }
    await feeding;
    if (state.sourceFailure) throw state.sourceFailure.error;
    if (state.fed - state.lastEnd < 1024 || state.zeroTail < 1024) {
      throw new GlacierError('corrupt', 'the archive is not a valid tar stream (it ends without the end-of-archive blocks: truncated?)');
    }
    if (write) {
      await applyDirectoryModes(state).catch((err: unknown) => {
        throw localFailure(err, root, root) ?? err;
      });
    }
    return state.results;
  } catch (err) {
    extract.destroy();
    if (signal?.aborted) throw cancelled();
    throw err;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

/** Writes the source into the parser, waiting for it to drain; records a failure of the source. */
async function feed(source: AsyncIterable<Uint8Array>, extract: tar.Extract, state: State): Promise<void> {
  try {
    for await (const data of source) {
      if (extract.destroying) return;
      if (data.byteLength === 0) continue;
      const chunk = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
      state.fed += chunk.byteLength;
      let last = chunk.byteLength - 1;
      while (last >= 0 && chunk[last] === 0) last--;
      state.zeroTail = last < 0 ? state.zeroTail + chunk.byteLength : chunk.byteLength - 1 - last;
      if (!extract.write(chunk)) await drained(extract);
    }
  } catch (err) {
    if (extract.destroying) return; // we stopped first: our own error explains it
    state.sourceFailure = { error: err };
    extract.destroy(err instanceof Error ? err : new Error(String(err)));
    return;
  }
  if (!extract.destroying) extract.end(null);
}

function drained(extract: tar.Extract): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      extract.off('drain', done);
      extract.off('close', done);
      resolve();
    };
    extract.on('drain', done);
    extract.on('close', done);
  });
}

async function extractEntry(
  entry: Entry,
  state: State,
  options: ExtractOptions,
  maxPathBytes: number,
  tarFailure: (err: unknown) => Promise<unknown>,
): Promise<void> {
  const { header } = entry;
  const sparse = sparseInfo(header.pax as Record<string, string> | undefined, (why) => refuse(header.name, why));
  const name = sparse?.name ?? header.name;
  const kind = kindOf(header.type as string | null, name);
  if (sparse && kind !== 'file') refuse(name, `a sparse ${kind}`);
  const segments = splitName(name, kind === 'directory', maxPathBytes);
  const size = header.size;
  if (kind !== 'file' && size !== 0) refuse(name, `a ${kind} entry with data`);
  if (segments.length === 0) {
    // The archive's own top folder ("./", as `tar -C DIR -cf - .` writes it): the staging root
    // stands for it, so nothing is written and it is not returned.
    state.lastEnd = entry.offset + 512;
    return;
  }
  const rel = segments.join('/');
  const linkTarget = kind === 'symlink' ? checkLinkTarget(name, header.linkname ?? '', segments, maxPathBytes, options.allowOutsideSymlinks ?? false) : undefined;
  checkStructure(name, rel, kind, state.seen);
  state.lastEnd = entry.offset + 512 + Math.ceil(size / 512) * 512;

  const mtimeMs = header.mtime.getTime();
  const mtime = Number.isFinite(mtimeMs) ? mtimeMs : 0;
  const mode = (Number.isFinite(header.mode) ? header.mode : 0) & 0o777;
  const wanted = options.filter ? options.filter(rel) : true;

  if (options.write === false) {
    // Check only: the same reading, validation and hashing, and nothing on disk.
    if (kind === 'file') {
      const hash = createHash('sha256');
      const sink = contentSink(hash, name, size, sparse, () => undefined);
      await eachChunk(entry, name, size, state, options, tarFailure, sink.push);
      const length = sink.finish();
      if (wanted) state.results.push({ path: rel, type: 'file', size: length, mtime, mode, sha256: hash.digest('hex') });
    } else if (wanted && kind === 'directory') {
      const known = state.dirs.get(rel);
      if (known) Object.assign(known.result, { mode, mtime });
      else {
        const result: ExtractedEntry = { path: rel, type: 'directory', size: 0, mtime, mode };
        state.dirs.set(rel, { abs: '', mode, mtime, result });
        state.results.push(result);
      }
    } else if (wanted) {
      state.results.push({ path: rel, type: 'symlink', size: 0, mtime, mode, linkTarget: linkTarget ?? '' });
    }
    return;
  }
  if (kind === 'file') {
    if (!wanted) {
      await consume(entry, name, size, state, options, tarFailure);
      return;
    }
    await ensureDirs(state, segments, segments.length - 1, name);
    const abs = path.join(state.root, ...segments);
    const written = await writeFile(entry, abs, name, { size, sparse, mode, mtime }, state, options, tarFailure);
    state.results.push({ path: rel, type: 'file', size: written.size, mtime, mode, sha256: written.sha256 });
    return;
  }
  if (!wanted) return;
  const abs = path.join(state.root, ...segments);
  if (kind === 'directory') {
    await ensureDirs(state, segments, segments.length, name);
    const known = state.dirs.get(rel);
    if (known) {
      // the same directory again: the last entry's mode and mtime win
      known.mode = mode;
      known.mtime = mtime;
      known.result.mode = mode;
      known.result.mtime = mtime;
      return;
    }
    const result: ExtractedEntry = { path: rel, type: 'directory', size: 0, mtime, mode };
    state.dirs.set(rel, { abs, mode, mtime, result });
    state.results.push(result);
    return;
  }
  await ensureDirs(state, segments, segments.length - 1, name);
  const target = linkTarget ?? '';
  try {
    await fs.symlink(fsPath(target), fsPath(abs));
  } catch (err) {
    if (errno(err) === 'EEXIST') refuse(name, 'the path already exists');
    throw err;
  }
  try {
    await fs.lutimes(fsPath(abs), mtime / 1000, mtime / 1000);
  } catch {
    // a symlink's own mtime is cosmetic, and not every platform can set it
  }
  state.results.push({ path: rel, type: 'symlink', size: 0, mtime, mode, linkTarget: target });
}
