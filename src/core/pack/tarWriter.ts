/**
 * Streams a POSIX tar (ustar, PAX for long or non-ASCII names) of walked entries, without
 * temporary files, and records what was really written: the manifest entries with each file's
 * sha256 (compactly, see entryList.ts), files skipped because they could not be opened or read
 * (locked by another program, as Windows does), and files that changed while read.
 *
 * Guarantees: the tar is always valid. A file's header carries the size seen when it was opened;
 * if it then shrinks the rest is zero-filled, if it grows the tail is left out, and either way it
 * is reported in `changed`, as is a file whose size or mtime differs from what the walk saw. A
 * file that cannot be opened, or whose first read fails (a lock held by another program: EBUSY),
 * is skipped; one that fails later while read fails the backup (its header is already written).
 * Modes are the file's own, or on Windows the portable ones of portableMeta.ts. Memory: the chunk being filled, plus up to a few recycled ones (chunkPool.ts); the
 * consumer pulls chunks as fast as it takes them.
 */
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { GlacierError, throwIfAborted } from '../errors';
import type { Skipped, SourceEntry } from './walk';
import { ManifestEntryList, type SourceEntryList } from './entryList';
import { headerFor, padding, planHeader, writeHeader } from './tarHeader';
import { fsPath, readableName } from '../model/rawNames';
import { archiveMode } from './portableMeta';
import { ChunkPool } from './chunkPool';

export interface PackReport {
  /** What was written, in tar order; also counts the files and their bytes. */
  entries: ManifestEntryList;
  skipped: Skipped[];
  /** Absolute paths of files that changed while they were read. */
  changed: string[];
}

export interface PackProgress {
  entriesDone: number;
  /** Bytes of file content read so far. */
  bytesRead: number;
}

export interface PackOptions {
  signal?: AbortSignal;
  onProgress?: (p: PackProgress) => void;
}

/**
 * The size of the tar of these entries as walked (for choosing the multipart part size): exact
 * unless files change before they are read.
 */
export function tarSizeBound(entries: Iterable<SourceEntry>): number {
  let total = 1024;
  for (const e of entries) {
    const size = e.type === 'file' ? e.size : 0;
    total += planHeader(headerFor(e)).length + size + padding(size);
  }
  return total;
}

/** Bytes per chunk of the tar stream: every chunk but the last is exactly this long. */
export const tarChunkSize = 1 << 20;
const yieldAfterMs = 20;

/** The tar as chunks of `tarChunkSize` bytes, and what ended up in it once it is consumed. */
export interface PackedTar {
  /** Iterate once. A chunk is the caller's from then on; it may hand it back through `recycle`. */
  stream: AsyncIterable<Buffer>;
  report: Promise<PackReport>;
  /** Gives back a chunk this stream yielded and nothing holds any more, to be filled again. */
  recycle(chunk: Buffer): void;
}

/**
 * The tar, written straight into fixed-size chunk buffers: headers are encoded in place and file
 * contents are read into the chunk (synchronously: a page-cache read costs less than a thread-pool
 * round trip), so a byte is copied once from the kernel and never again on this thread.
 */
export function packTar(entries: SourceEntryList, options: PackOptions = {}): PackedTar {
  const report: PackReport = { entries: new ManifestEntryList(entries), skipped: [], changed: [] };
  const progress: PackProgress = { entriesDone: 0, bytesRead: 0 };
  const out = new ChunkWriter();
  let settle!: { resolve: (r: PackReport) => void; reject: (e: unknown) => void };
  const done = new Promise<PackReport>((resolve, reject) => {
    settle = { resolve, reject };
  });
  // The stream carries the failure to its consumer; the report promise must not also go unhandled.
  done.catch(() => undefined);

  async function* generate(): AsyncGenerator<Buffer> {
    let finished = false;
    try {
      let lastYield = performance.now();
      for (let i = 0; i < entries.length; i++) {
        throwIfAborted(options.signal, 'backup');
        for (const chunk of writeEntry(out, entries.get(i), i, report, progress, () => options.onProgress?.(progress))) {
          yield chunk;
          throwIfAborted(options.signal, 'backup');
        }
        progress.entriesDone++;
        options.onProgress?.(progress);
        yield* out.drain();
        // Reads are synchronous: let timers and sockets run now and then.
        if (performance.now() - lastYield > yieldAfterMs) {
          await new Promise((resolve) => setImmediate(resolve));
          lastYield = performance.now();
        }
      }
      out.zeros(1024);
      yield* out.drain();
      const last = out.rest();
      if (last) yield last;
      finished = true;
      settle.resolve(report);
    } catch (err) {
      settle.reject(err);
      throw err;
    } finally {
      if (!finished) settle.reject(new GlacierError('cancelled', 'archive stream closed'));
    }
  }
  return { stream: generate(), report: done, recycle: (chunk) => out.recycle(chunk) };
}

/** Fills chunk buffers of `tarChunkSize` bytes; full ones wait in `ready` until drained. */
class ChunkWriter {
  private readonly pool = new ChunkPool(tarChunkSize);
  buf: Buffer = this.pool.take();
  at = 0;
  private readonly ready: Buffer[] = [];

  get room(): number {
    return this.buf.length - this.at;
  }

  /** Moves on to a fresh chunk once this one is full; returns the full one. */
  next(): Buffer {
    const full = this.buf;
    this.buf = this.pool.take();
    this.at = 0;
    return full;
  }

  write(bytes: Buffer): void {
    for (let from = 0; from < bytes.length; ) {
      if (this.room === 0) this.ready.push(this.next());
      const n = bytes.copy(this.buf, this.at, from, Math.min(bytes.length, from + this.room));
      this.at += n;
      from += n;
    }
  }

  zeros(count: number): void {
    while (count > 0) {
      if (this.room === 0) this.ready.push(this.next());
      const n = Math.min(count, this.room);
      this.buf.fill(0, this.at, this.at + n);
      this.at += n;
      count -= n;
    }
  }

  *drain(): Generator<Buffer> {
    while (this.ready.length > 0) yield this.ready.shift() as Buffer;
  }

  /** The last, partly filled chunk, if any. */
  rest(): Buffer | undefined {
    return this.at > 0 ? this.buf.subarray(0, this.at) : undefined;
  }

  recycle(chunk: Buffer): void {
    this.pool.give(chunk);
  }
}

/**
 * Writes one entry; yields each chunk it fills while reading a file's content (so a large file
 * never holds more than one chunk here). Headers and padding go to the writer's ready list.
 */
function* writeEntry(out: ChunkWriter, e: SourceEntry, index: number, report: PackReport, progress: PackProgress, tick: () => void): Generator<Buffer> {
  if (e.type !== 'file') {
    writeHeader(out, headerFor(e));
    report.entries.add(index, 0, e.mtimeMs, e.mode);
    return;
  }

  let fd: number;
  try {
    fd = openSync(fsPath(e.abs), 'r');
  } catch (err) {
    report.skipped.push({ path: readableName(e.abs), reason: 'unreadable', detail: skipDetail(err) });
    return;
  }
  try {
    if (readWhole(out, fd, e, index, report, progress)) return;
    const before = fstatSync(fd);
    if (!before.isFile()) {
      // replaced by a folder or a special file since the walk
      report.skipped.push({ path: readableName(e.abs), reason: 'special', detail: 'no longer a regular file' });
      return;
    }
    const size = before.size;
    if (size > 0 && !firstReadWorks(fd, e, report)) return;
    const mtime = Math.floor(before.mtimeMs);
    const mode = archiveMode('file', before.mode);
    writeHeader(out, { ...headerFor(e), mode, size, mtimeMs: mtime });
    yield* out.drain();
    const hash = createHash('sha256');
    let changed = false;
    let grew: boolean | undefined;
    for (let pos = 0; pos < size; ) {
      if (out.room === 0) yield out.next();
      const want = Math.min(size - pos, out.room);
      const at = out.at;
      let filled = 0;
      if (!changed) {
        // The last read asks for one byte more when the chunk has room: it shows a file that grew.
        const ask = pos + want === size && out.room > want ? want + 1 : want;
        filled = readFully(fd, out.buf, at, ask, pos);
        if (ask > want) grew = filled > want;
        filled = Math.min(filled, want);
        if (filled < want) changed = true;
      }
      out.buf.fill(0, at + filled, at + want);
      hash.update(out.buf.subarray(at, at + want));
      out.at += want;
      pos += want;
      progress.bytesRead += filled;
      if (size > tarChunkSize) tick();
    }
    grew ??= !changed && readSync(fd, probe, 0, 1, size) > 0;
    out.zeros(padding(size));
    const after = fstatSync(fd);
    const sinceWalk = size !== e.size || mtime !== Math.floor(e.mtimeMs);
    if (changed || grew || sinceWalk || after.size !== size || Math.floor(after.mtimeMs) !== mtime) report.changed.push(readableName(e.abs));
    report.entries.add(index, size, mtime, mode, hash.digest());
  } catch (err) {
    throw new GlacierError('unreadable', `cannot read ${readableName(e.abs)}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  } finally {
    closeSync(fd);
  }
}

const probe = Buffer.alloc(1);

/** Errors of a first read that mean "not readable now" (a byte-range lock of another program), not a failing disk. */
const lockedCodes = new Set(['EBUSY', 'EPERM', 'EACCES']);

function skipDetail(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === undefined) return String(err);
  return code === 'EBUSY' ? 'EBUSY: in use by another program' : code;
}

/** Reads a file's first byte before its header is written; false (and the file skipped) when it is locked. */
function firstReadWorks(fd: number, e: SourceEntry, report: PackReport): boolean {
  try {
    readSync(fd, probe, 0, 1, 0);
    return true;
  } catch (err) {
    if (!lockedCodes.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
    report.skipped.push({ path: readableName(e.abs), reason: 'unreadable', detail: skipDetail(err) });
    return false;
  }
}

/**
 * The common case, in one read and one fstat: a file that, with its header, fits in the room left
 * in the chunk. The read asks for one byte more than the walk saw, into the chunk after room for
 * the header; the header is then written from what was read and from the fstat after it. False
 * (nothing written) when the file has grown past the walked size or does not fit: the general
 * path takes it. Anything that differs from the walk counts as changed while read. A read refused
 * by a lock skips the file (true, nothing written).
 */
function readWhole(out: ChunkWriter, fd: number, e: SourceEntry, index: number, report: PackReport, progress: PackProgress): boolean {
  const header = headerFor(e);
  const plan = planHeader(header);
  if (plan.length + e.size + 1 > out.room) return false;
  const dataAt = out.at + plan.length;
  let n: number;
  try {
    n = readFully(fd, out.buf, dataAt, e.size + 1, 0);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EISDIR') return false; // the general path skips it
    if (!lockedCodes.has(code ?? '')) throw err;
    report.skipped.push({ path: readableName(e.abs), reason: 'unreadable', detail: skipDetail(err) });
    return true;
  }
  if (n > e.size) return false;
  const st = fstatSync(fd);
  if (!st.isFile()) return false;
  header.size = n;
  header.mode = archiveMode('file', st.mode);
  header.mtimeMs = Math.floor(st.mtimeMs);
  const sha256 = createHash('sha256').update(out.buf.subarray(dataAt, dataAt + n)).digest();
  writeHeader(out, header, plan);
  out.at += n;
  out.zeros(padding(n));
  progress.bytesRead += n;
  if (n !== e.size || st.size !== n || header.mtimeMs !== Math.floor(e.mtimeMs)) report.changed.push(readableName(e.abs));
  report.entries.add(index, n, header.mtimeMs, header.mode, sha256);
  return true;
}

/** Reads until `length` bytes or the end of the file; returns how many were read. */
function readFully(fd: number, buf: Buffer, offset: number, length: number, position: number): number {
  let filled = 0;
  while (filled < length) {
    const n = readSync(fd, buf, offset + filled, length - filled, position + filled);
    if (n === 0) break;
    filled += n;
  }
  return filled;
}
