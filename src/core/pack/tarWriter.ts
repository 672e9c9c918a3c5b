/**
 * Streams a POSIX tar (ustar, PAX for long or non-ASCII names) of walked entries, without
 * temporary files, and records what was really written: the manifest entries with each file's
 * sha256 (compactly, see entryList.ts), files skipped because they could not be opened, and files
 * that changed while read.
 *
 * Guarantees: the tar is always valid. A file's header carries the size seen when it was opened;
 * if it then shrinks the rest is zero-filled, if it grows the tail is left out, and either way it
 * is reported in `changed`. Back-pressure is honoured: at most one read chunk per entry is in
 * flight beyond the consumer's buffer.
 */
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, promises as fs, readSync } from 'node:fs';
import { once } from 'node:events';
import * as tar from 'tar-stream';
import { GlacierError } from '../errors';
import type { EntryType, Skipped, SourceEntry } from './walk';
import { ManifestEntryList, type SourceEntryList } from './entryList';

export interface ManifestEntry {
  path: string;
  type: EntryType;
  size: number;
  /** Modification time, milliseconds since the epoch (the tar header keeps whole seconds). */
  mtime: number;
  mode: number;
  sha256?: string;
  linkTarget?: string;
}

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

const wholeFileLimit = 1 << 20;
const readChunk = 1 << 20;
const maxOctal6 = 0o777777;

/** An upper bound of the tar size for these entries (for choosing the multipart part size). */
export function tarSizeBound(entries: Iterable<SourceEntry>): number {
  let total = 1024;
  for (const e of entries) {
    // header, plus a PAX header block and its records when a name or link is long or non-ASCII
    const nameBytes = Buffer.byteLength(e.path) + Buffer.byteLength(e.linkTarget ?? '');
    total += 512 + (nameBytes > 90 || !/^[\x20-\x7e]*$/.test(e.path) ? 1024 + Math.ceil((nameBytes + 64) / 512) * 512 : 0);
    total += Math.ceil(e.size / 512) * 512;
  }
  return total;
}

type Header = Parameters<tar.Pack['entry']>[0];
type Sink = ReturnType<tar.Pack['entry']>;

/** The tar as an async iterable of byte chunks, and what ended up in it once it is consumed. */
export function packTar(
  entries: SourceEntryList,
  options: PackOptions = {},
): { stream: AsyncIterable<Uint8Array> & { destroy(err?: Error): void }; report: Promise<PackReport> } {
  const pack = tar.pack({ highWaterMark: 4 * readChunk });
  // Errors reach the consumer through iteration and `report`; no separate listener is needed.
  pack.on('error', () => undefined);
  const report: PackReport = { entries: new ManifestEntryList(entries), skipped: [], changed: [] };
  const progress: PackProgress = { entriesDone: 0, bytesRead: 0 };

  const run = async (): Promise<PackReport> => {
    for (let i = 0; i < entries.length; i++) {
      if (options.signal?.aborted) throw new GlacierError('cancelled', 'backup cancelled');
      if (pack.destroyed) throw new GlacierError('cancelled', 'archive stream closed');
      await writeEntry(pack, entries.get(i), i, report, progress, () => options.onProgress?.(progress));
      progress.entriesDone++;
      options.onProgress?.(progress);
    }
    pack.finalize();
    return report;
  };
  const done = run().catch((err: unknown) => {
    pack.destroy(err instanceof Error ? err : new Error(String(err)));
    throw err;
  });
  // The stream carries the failure to its consumer; the report promise must not also go unhandled.
  done.catch(() => undefined);
  return { stream: pack as unknown as AsyncIterable<Uint8Array> & { destroy(err?: Error): void }, report: done };
}

/** `tick` reports progress inside a large file, chunk by chunk (small files report once done). */
async function writeEntry(pack: tar.Pack, e: SourceEntry, index: number, report: PackReport, progress: PackProgress, tick: () => void): Promise<void> {
  const base = {
    mode: e.mode,
    mtime: new Date(e.mtimeMs),
    uid: e.uid <= maxOctal6 ? e.uid : 0,
    gid: e.gid <= maxOctal6 ? e.gid : 0,
  };
  if (e.type === 'directory') {
    await addEntry(pack, { ...base, name: `${e.path}/`, type: 'directory', size: 0 });
    report.entries.add(index, 0, e.mtimeMs, e.mode);
    return;
  }
  if (e.type === 'symlink') {
    await addEntry(pack, { ...base, name: e.path, type: 'symlink', linkname: e.linkTarget ?? '', size: 0 });
    report.entries.add(index, 0, e.mtimeMs, e.mode);
    return;
  }

  // Small files (the many) are read synchronously: a handful of microseconds each, where six
  // thread-pool round trips per file left the event loop idle most of the time.
  if (e.size <= wholeFileLimit) {
    const small = readSmallFile(e, report);
    if (small) {
      await addEntry(pack, { ...base, mtime: new Date(small.mtime), mode: small.mode, name: e.path, type: 'file', size: small.data.length }, small.data);
      progress.bytesRead += small.data.length;
      report.entries.add(index, small.data.length, small.mtime, small.mode, small.sha256);
      return;
    }
    if (small === null) return;
  }

  let handle: fs.FileHandle;
  try {
    handle = await fs.open(e.abs, 'r');
  } catch (err) {
    report.skipped.push({ path: e.abs, reason: 'unreadable', detail: (err as NodeJS.ErrnoException).code ?? String(err) });
    return;
  }
  try {
    const before = await handle.stat();
    const size = before.size;
    const mtime = Math.floor(before.mtimeMs);
    const hash = createHash('sha256');
    let changed = false;
    const header = { ...base, mtime: new Date(mtime), mode: before.mode & 0o7777, name: e.path, type: 'file' as const, size };

    const readAt = async (position: number, length: number): Promise<Buffer> => {
      const buf = Buffer.allocUnsafe(length);
      let filled = 0;
      while (filled < length) {
        const { bytesRead } = await handle.read(buf, filled, length - filled, position + filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      if (filled < length) {
        changed = true;
        buf.fill(0, filled);
      }
      progress.bytesRead += filled;
      tick();
      hash.update(buf);
      return buf;
    };

    if (size <= wholeFileLimit) {
      const data = await readAt(0, size);
      await addEntry(pack, header, data);
    } else {
      let sinkError: Error | undefined;
      let sink: Sink | undefined;
      const finished = new Promise<void>((resolve, reject) => {
        sink = pack.entry(header, (err) => (err ? reject(err) : resolve()));
      });
      if (!sink) throw new Error('tar entry was not opened');
      finished.catch((err: Error) => {
        sinkError = err;
      });
      for (let pos = 0; pos < size; pos += readChunk) {
        if (sinkError) throw sinkError;
        const chunk = await readAt(pos, Math.min(readChunk, size - pos));
        if (!sink.write(chunk)) await Promise.race([once(sink, 'drain'), finished]);
      }
      sink.end(null);
      await finished;
    }

    const probe = Buffer.allocUnsafe(1);
    const grew = (await handle.read(probe, 0, 1, size)).bytesRead > 0;
    const after = await handle.stat();
    if (changed || grew || after.size !== size || Math.floor(after.mtimeMs) !== mtime) report.changed.push(e.abs);
    report.entries.add(index, size, mtime, header.mode, hash.digest());
  } finally {
    await handle.close();
  }
}

function addEntry(pack: tar.Pack, header: Header, data?: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const cb = (err?: Error | null): void => (err ? reject(err) : resolve());
    if (data) pack.entry(header, data, cb);
    else pack.entry(header, cb);
  });
}

/**
 * Reads a file that was small when walked; null if it cannot be opened (reported as skipped),
 * undefined if it has grown past the small-file limit (the streaming path takes it).
 */
function readSmallFile(e: SourceEntry, report: PackReport): { data: Buffer; mtime: number; mode: number; sha256: Buffer } | null | undefined {
  let fd: number;
  try {
    fd = openSync(e.abs, 'r');
  } catch (err) {
    report.skipped.push({ path: e.abs, reason: 'unreadable', detail: (err as NodeJS.ErrnoException).code ?? String(err) });
    return null;
  }
  try {
    const before = fstatSync(fd);
    if (before.size > wholeFileLimit) return undefined;
    const data = Buffer.allocUnsafe(before.size);
    let filled = 0;
    while (filled < data.length) {
      const n = readSync(fd, data, filled, data.length - filled, filled);
      if (n === 0) break;
      filled += n;
    }
    let changed = false;
    if (filled < data.length) {
      data.fill(0, filled);
      changed = true;
    }
    const grew = readSync(fd, Buffer.allocUnsafe(1), 0, 1, data.length) > 0;
    const after = fstatSync(fd);
    const mtime = Math.floor(before.mtimeMs);
    if (changed || grew || after.size !== before.size || Math.floor(after.mtimeMs) !== mtime) report.changed.push(e.abs);
    return { data, mtime, mode: before.mode & 0o7777, sha256: createHash('sha256').update(data).digest() };
  } catch (err) {
    report.skipped.push({ path: e.abs, reason: 'unreadable', detail: (err as NodeJS.ErrnoException).code ?? String(err) });
    return null;
  } finally {
    closeSync(fd);
  }
}
