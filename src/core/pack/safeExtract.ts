/**
 * Extracts a tar into an empty staging folder, treating the archive as hostile: anyone who can
 * write the bucket can plant one.
 *
 * Guarantees: nothing is created, changed or followed outside `root`. Every name is checked
 * before anything is written (no absolute paths, drive letters, backslashes, `..` segments, NUL
 * bytes, over-long names); hard links, devices, FIFOs and unknown types are refused; symlinks may
 * not point out of the root, and nothing is ever written through a symlink (each parent is
 * lstat-ed, files are opened O_EXCL|O_NOFOLLOW; where O_NOFOLLOW does not exist, as on Windows,
 * each opened file is checked after opening: every folder on its way is a real folder, no link or
 * junction, and its path names the very file opened). Refusals are GlacierError('corrupt') naming
 * the entry. Names this system cannot hold, or would take for one another (case, Unicode
 * normalisation), are written under other names (localNames.ts): the entry then carries its
 * `localPath` and a `note` saying why. On Windows a symlink that may not be created (a privilege)
 * is left out with a `note` (`leftOut`), not a failure. Memory stays bounded: file data streams to
 * disk with back-pressure. setuid, setgid and sticky bits are dropped. The archive's own top
 * folder (a directory "./", as `tar -C DIR -cf - .` writes it first) stands for the root: it is
 * skipped, neither written nor returned. A malformed or truncated tar is 'corrupt'; an error of
 * the source itself (such as a failed decryption) is rethrown unchanged. Nothing is cleaned up on
 * failure: the caller removes the staging folder.
 */
import { createHash, type Hash } from 'node:crypto';
import { closeSync, fchmodSync, ftruncateSync, futimesSync, openSync, promises as fs, writeSync } from 'node:fs';
import * as path from 'node:path';
import type * as tar from 'tar-stream';
import { GlacierError, oneLine } from '../errors';
import { fsPath } from '../model/rawNames';
import { rawNameExtract } from './rawTarNames';
import { checkLinkTarget, checkStructure, kindOf, printable, refuse, splitName } from './entryRules';
import { localFailure } from './localError';
import { LocalNamer } from './localNames';
import { applyDirectoryModes, checkOpened, ensureDirs, errno, hasNoFollow, openFlags, placeLocal, type ExtractedEntry, type ExtractOptions, type State } from './extractDisk';

export { checkOpened, type ExtractedEntry, type ExtractOptions } from './extractDisk';
import { type SparseInfo, SparseSink, sparseInfo } from './sparse';


/** One tar entry: its header, and a stream of its data. */
type Entry = tar.Extract extends AsyncIterable<infer S> ? S : never;

const defaultMaxEntries = 5_000_000;
const defaultMaxPathBytes = 4096;
const progressStep = 16 << 20;

export async function extractTar(source: AsyncIterable<Uint8Array>, options: ExtractOptions): Promise<ExtractedEntry[]> {
  const { signal } = options;
  const maxEntries = options.maxEntries ?? defaultMaxEntries;
  const maxPathBytes = options.maxPathBytes ?? defaultMaxPathBytes;
  if (signal?.aborted) throw cancelled();
  const root = path.resolve(options.root);
  const write = options.write ?? true;
  if (write && !(await fs.stat(root)).isDirectory()) throw new GlacierError('usage', `${root} is not a folder`);

  const platform = options.platform ?? process.platform;
  const state: State = {
    root,
    platform,
    namer: new LocalNamer(platform),
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
      let next: IteratorResult<Entry>;
      try {
        next = await entries.next();
      } catch (err) {
        throw await tarFailure(err);
      }
      if (next.done) break;
      if (signal?.aborted) throw cancelled();
      const entry = next.value;
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
    const { local, extra } = placeLocal(state, segments, rel);
    await ensureDirs(state, local, local.length - 1, name);
    const abs = path.join(state.root, ...local);
    const written = await writeFile(entry, abs, name, { size, sparse, mode, mtime, local }, state, options, tarFailure);
    state.results.push({ path: rel, type: 'file', size: written.size, mtime, mode, sha256: written.sha256, ...extra });
    return;
  }
  if (!wanted) return;
  const { local, extra } = placeLocal(state, segments, rel);
  const abs = path.join(state.root, ...local);
  if (kind === 'directory') {
    await ensureDirs(state, local, local.length, name);
    const known = state.dirs.get(rel);
    if (known) {
      // the same directory again: the last entry's mode and mtime win
      known.mode = mode;
      known.mtime = mtime;
      known.result.mode = mode;
      known.result.mtime = mtime;
      return;
    }
    const result: ExtractedEntry = { path: rel, type: 'directory', size: 0, mtime, mode, ...extra };
    state.dirs.set(rel, { abs, mode, mtime, result });
    state.results.push(result);
    return;
  }
  await ensureDirs(state, local, local.length - 1, name);
  const target = linkTarget ?? '';
  try {
    await fs.symlink(fsPath(target), fsPath(abs));
  } catch (err) {
    if (errno(err) === 'EEXIST') refuse(name, 'the path already exists');
    if (state.platform === 'win32' && errno(err) === 'EPERM') {
      // Windows lets only Developer Mode or the "Create symbolic links" privilege make them.
      const note = `symlink to "${printable(target)}" not created: Windows needs Developer Mode or the "Create symbolic links" privilege for it (EPERM)`;
      state.results.push({ path: rel, type: 'symlink', size: 0, mtime, mode, linkTarget: target, ...extra, note: extra.note ? `${extra.note}; ${note}` : note, leftOut: true });
      return;
    }
    throw err;
  }
  try {
    await fs.lutimes(fsPath(abs), mtime / 1000, mtime / 1000);
  } catch {
    // a symlink's own mtime is cosmetic, and not every platform can set it
  }
  state.results.push({ path: rel, type: 'symlink', size: 0, mtime, mode, linkTarget: target, ...extra });
}




/**
 * Writes a file entry, its mode and its mtime. The calls are synchronous: for the many small files
 * of a typical tree, handing each of them to libuv's thread pool cost more than the call itself.
 */
async function writeFile(
  entry: Entry,
  abs: string,
  name: string,
  file: { size: number; sparse: SparseInfo | null; mode: number; mtime: number; local: readonly string[] },
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
    if (!hasNoFollow) checkOpened(fd, abs, state.root, file.local, name);
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
function contentSink(
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
function consume(entry: Entry, name: string, size: number, state: State, options: ExtractOptions, tarFailure: (err: unknown) => Promise<unknown>): Promise<void> {
  return eachChunk(entry, name, size, state, options, tarFailure, () => Promise.resolve());
}

async function eachChunk(
  entry: Entry,
  name: string,
  size: number,
  state: State,
  options: ExtractOptions,
  tarFailure: (err: unknown) => Promise<unknown>,
  use: (chunk: Buffer) => Promise<void>,
): Promise<void> {
  const chunks = (entry as AsyncIterable<unknown>)[Symbol.asyncIterator]();
  let read = 0;
  for (;;) {
    let next: IteratorResult<unknown>;
    try {
      next = await chunks.next();
    } catch (err) {
      throw await tarFailure(err);
    }
    if (next.done) break;
    if (options.signal?.aborted) throw cancelled();
    const chunk = next.value as Buffer;
    read += chunk.byteLength;
    const before = state.progress.bytes;
    state.progress.bytes += chunk.byteLength;
    if (Math.floor(before / progressStep) !== Math.floor(state.progress.bytes / progressStep)) options.onProgress?.({ ...state.progress });
    await use(chunk);
  }
  if (read !== size) throw new GlacierError('corrupt', `the archive is not a valid tar stream ("${printable(name)}" holds ${read} of ${size} bytes)`);
}




function cancelled(): GlacierError {
  return new GlacierError('cancelled', 'restore cancelled');
}
