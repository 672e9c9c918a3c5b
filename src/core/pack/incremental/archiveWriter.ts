/**
 * Writes the tar plaintext of a format version 2 archive from a plan (plan.ts): folders with their
 * `GNU.dumpdir` records, the members of `Y` entries (big files as chunk members and a recipe),
 * nothing for `N` entries, and at the end the `.glacier-backup/` records (docs/format.md, "Chains").
 *
 * Guarantees: the tar is valid and `tar -x -G` over the previous snapshot's tree gives this one.
 * A file is read once, synchronously, in pieces of `pieceSize`; a file's header carries the size
 * seen when it was opened (a file that then shrinks is zero-filled, one that grows is cut, and it
 * is reported in `changed`); one that cannot be opened is reported in `skipped` (its folder's list
 * names it `Y`, so a restore keeps the previous version). A yielded piece may be a view of a read
 * buffer that is filled again once the next piece is asked for: the consumer copies or uses it
 * before. Memory: a few read buffers, and one chunk (4 MiB).
 * The reference writer for tests and the wiring step; the backup job's chunked writer
 * (tarWriter.ts) is to take its per-entry decisions from here.
 */
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { ChunkRef } from '../../model/chain';
import { headerFor, padding, writeHeader, type Header, type HeaderSink } from '../tarHeader';
import { fsPath, readableName } from '../../model/rawNames';
import { ChunkPool } from '../chunkPool';
import { Chunker, defaultChunking, type ChunkerOptions } from './chunker';
import { encodeDumpdir, type DumpChild } from './dumpdir';
import type { CurrentEntries, IncrementPlan } from './plan';
import { chunkMember, chunksDir, defaultChunkThreshold, isChunkable, recipesList, recipesPath, recipeText, recordsDir, sumsFile, sumsPath } from './records';

export interface ArchiveOptions {
  /** This snapshot's id: the archive id its new chunks are recorded in. */
  id: string;
  /** The mtime of the records' members (the snapshot's time), milliseconds. */
  timeMs: number;
  chunkThreshold?: number;
  chunking?: ChunkerOptions;
  pieceSize?: number;
}

/** What was read for a `Y` file: the manifest fields the writer learns. */
export interface WrittenFile {
  size: number;
  mtime: number;
  mode: number;
  sha256: string;
  chunks?: ChunkRef[];
}

export interface ArchiveResult {
  /** By current entry index, for every `Y` file written. */
  files: Map<number, WrittenFile>;
  skipped: { path: string; detail: string }[];
  changed: string[];
  /** Chunk members written, and their bytes. */
  newChunks: number;
  newChunkBytes: number;
  /** File and chunk bytes this archive holds. */
  storedBytes: number;
}

class Pieces implements HeaderSink {
  list: Buffer[] = [];
  /** Copies: the header encoder reuses its block. */
  write(bytes: Buffer): void {
    const copy = Buffer.allocUnsafe(bytes.length);
    bytes.copy(copy);
    this.list.push(copy);
  }
  /** Takes bytes nothing will change. */
  keep(bytes: Buffer): void {
    this.list.push(bytes);
  }
  zeros(count: number): void {
    if (count > 0) this.list.push(Buffer.alloc(count));
  }
  *drain(): Generator<Buffer> {
    yield* this.list;
    this.list = [];
  }
}

/** The archive's tar, as pieces; `result` is complete once the generator is done. */
export function* writeArchive(current: CurrentEntries, plan: IncrementPlan, o: ArchiveOptions, result: ArchiveResult = emptyResult()): Generator<Buffer, ArchiveResult> {
  const out = new Pieces();
  const buffers = new ChunkPool(o.pieceSize ?? 1 << 20);
  const threshold = o.chunkThreshold ?? defaultChunkThreshold;
  const used = new Map<string, 'Y' | 'N'>();
  const recipes: string[] = [];
  const sums: { path: string; sha256: string }[] = [];
  for (let i = 0; i < current.length; i++) {
    const e = current.get(i);
    const p = plan.entries[i]!;
    if (e.type === 'directory') {
      writeHeader(out, { ...headerFor(e), dumpdir: plan.dumpdir(i) });
    } else if (p.letter === 'N') {
      for (const [hash] of p.kept?.chunks ?? []) used.set(hash, 'N');
      if (p.kept?.chunks) recipes.push(e.path);
      if (p.kept?.sha256) sums.push({ path: e.path, sha256: p.kept.sha256 });
    } else if (e.type === 'symlink') {
      writeHeader(out, headerFor(e));
    } else {
      const chunked = isChunkable(e.path, e.size, threshold);
      const pieces = chunked ? chunkedFile(e.abs, plan, used, o, buffers, result) : wholeFile(e.abs, headerFor(e), buffers, out, result);
      let written: WrittenFile | undefined;
      for (;;) {
        const step = pieces.next();
        if (step.done) {
          written = step.value;
          break;
        }
        yield* out.drain();
        yield step.value;
      }
      if (!written) continue;
      if (written.size !== e.size || written.mtime !== e.mtimeMs) result.changed.push(readableName(e.abs));
      result.files.set(i, written);
      sums.push({ path: e.path, sha256: written.sha256 });
      if (written.chunks) {
        recipes.push(e.path);
        const recipe = recipeText(written.chunks.map((c) => c[0]));
        writeMember(out, { ...headerFor(e), size: recipe.length, mode: written.mode, mtimeMs: written.mtime }, recipe);
      }
    }
    yield* out.drain();
  }
  const dir = (name: string, dumpdir: Buffer): Header => ({ name: `${name}/`, type: 'directory', linkname: '', mode: 0o755, uid: 0, gid: 0, size: 0, mtimeMs: o.timeMs, dumpdir });
  const member = (name: string): Header => ({ name, type: 'file', linkname: '', mode: 0o644, uid: 0, gid: 0, size: 0, mtimeMs: o.timeMs });
  const top: DumpChild[] = [{ name: 'chunks', letter: 'D' }, { name: 'recipes', letter: 'Y' }, { name: 'SHA256SUMS', letter: 'Y' }];
  writeHeader(out, dir(recordsDir, encodeDumpdir(top)));
  writeHeader(out, dir(chunksDir, encodeDumpdir([...used].map(([name, letter]) => ({ name, letter })))));
  writeMember(out, member(recipesPath), recipesList(recipes));
  writeMember(out, member(sumsPath), sumsFile(sums));
  out.zeros(1024);
  yield* out.drain();
  return result;
}

export function emptyResult(): ArchiveResult {
  return { files: new Map(), skipped: [], changed: [], newChunks: 0, newChunkBytes: 0, storedBytes: 0 };
}

function writeMember(out: Pieces, h: Header, bytes: Buffer | Buffer[]): void {
  const parts = Array.isArray(bytes) ? bytes : [bytes];
  const size = parts.reduce((n, p) => n + p.length, 0);
  writeHeader(out, { ...h, size });
  for (const p of parts) out.keep(p);
  out.zeros(padding(size));
}

/** Opens a file for reading, or records why it is skipped. */
function open(abs: string, result: ArchiveResult): { fd: number; size: number; mtime: number; mode: number } | undefined {
  let fd: number;
  try {
    fd = openSync(fsPath(abs), 'r');
  } catch (err) {
    result.skipped.push({ path: readableName(abs), detail: (err as NodeJS.ErrnoException).code ?? String(err) });
    return undefined;
  }
  const st = fstatSync(fd);
  if (!st.isFile()) {
    closeSync(fd);
    result.skipped.push({ path: readableName(abs), detail: 'no longer a regular file' });
    return undefined;
  }
  return { fd, size: st.size, mtime: Math.floor(st.mtimeMs), mode: st.mode & 0o7777 };
}

/**
 * The file's pieces, `size` bytes as seen when opened (zero-filled if it shrank), each read into a
 * buffer of `buffers` (`buf`, to hand back once nothing views it) and ending at file offset `end`.
 * The buffers are reused instead of a fresh one per MiB: memory outside V8's heap that, once
 * garbage, waits for a full collection (tens of MiB of it with a big file).
 */
function* readPieces(fd: number, size: number, buffers: ChunkPool): Generator<{ piece: Buffer; buf: Buffer; end: number }> {
  for (let pos = 0; pos < size; ) {
    const buf = buffers.take();
    const piece = buf.subarray(0, Math.min(buffers.chunkSize, size - pos));
    for (let filled = 0; filled < piece.length; ) {
      const n = readSync(fd, piece, filled, piece.length - filled, pos + filled);
      if (n === 0) {
        piece.fill(0, filled);
        break;
      }
      filled += n;
    }
    pos += piece.length;
    yield { piece, buf, end: pos };
  }
}

function* wholeFile(abs: string, h: Header, buffers: ChunkPool, out: Pieces, result: ArchiveResult): Generator<Buffer, WrittenFile | undefined> {
  const f = open(abs, result);
  if (!f) return undefined;
  try {
    writeHeader(out, { ...h, size: f.size, mode: f.mode, mtimeMs: f.mtime });
    const hash = createHash('sha256');
    for (const { piece, buf } of readPieces(f.fd, f.size, buffers)) {
      hash.update(piece);
      yield piece;
      buffers.give(buf);
    }
    out.zeros(padding(f.size));
    result.storedBytes += f.size;
    return { size: f.size, mtime: f.mtime, mode: f.mode, sha256: hash.digest('hex') };
  } finally {
    closeSync(f.fd);
  }
}

/** A big file's new chunks as members; its recipe is written by the caller from the chunks returned. */
function* chunkedFile(abs: string, plan: IncrementPlan, used: Map<string, 'Y' | 'N'>, o: ArchiveOptions, buffers: ChunkPool, result: ArchiveResult): Generator<Buffer, WrittenFile | undefined> {
  const f = open(abs, result);
  if (!f) return undefined;
  try {
    const chunker = new Chunker(o.chunking ?? defaultChunking);
    const hash = createHash('sha256');
    const chunks: ChunkRef[] = [];
    const sink = new Pieces();
    const take = function* (list: ReturnType<Chunker['push']>): Generator<Buffer> {
      for (const c of list) {
        const earlier = plan.previousChunks.get(c.sha256);
        chunks.push([c.sha256, c.length, used.get(c.sha256) === 'Y' ? o.id : (earlier ?? o.id)]);
        if (used.has(c.sha256)) continue;
        if (earlier !== undefined) {
          used.set(c.sha256, 'N');
          continue;
        }
        used.set(c.sha256, 'Y');
        writeMember(sink, { name: chunkMember(c.sha256), type: 'file', linkname: '', mode: 0o644, uid: 0, gid: 0, size: 0, mtimeMs: o.timeMs }, c.parts);
        result.newChunks++;
        result.newChunkBytes += c.length;
        result.storedBytes += c.length;
        yield* sink.drain();
      }
    };
    // Read buffers whose bytes the chunk being cut may still view, oldest first.
    const held: { buf: Buffer; end: number }[] = [];
    for (const { piece, buf, end } of readPieces(f.fd, f.size, buffers)) {
      hash.update(piece);
      held.push({ buf, end });
      yield* take(chunker.push(piece));
      while (held.length > 0 && held[0]!.end <= chunker.pendingFrom) buffers.give(held.shift()!.buf);
    }
    yield* take(chunker.finish());
    for (const h of held) buffers.give(h.buf);
    return { size: f.size, mtime: f.mtime, mode: f.mode, sha256: hash.digest('hex'), chunks };
  } finally {
    closeSync(f.fd);
  }
}
