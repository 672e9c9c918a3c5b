/**
 * Content-defined chunks of a file's bytes (docs/format.md, "Chains", "Big files by chunks"): a gear
 * rolling hash with normalised chunking, as FastCDC. A boundary depends only on the 32 bytes
 * before it, so an edit moves at most the chunks around it; the rest keep their bytes and names.
 *
 * Guarantees: deterministic (the same bytes give the same chunks, however they are split into
 * pushes, on every platform and version: the gear table below is part of the format); every chunk
 * but the last is between `min` and `max` bytes. Pushed bytes are not copied until their chunk is
 * complete (a chunk inside one push is a view of it): the caller must not change them after the
 * push. Memory: the bytes of the chunk being cut (at most `max`) and the chunks a push returns.
 */
import { createHash } from 'node:crypto';

export interface ChunkerOptions {
  min: number;
  avg: number;
  max: number;
}

export const defaultChunking: ChunkerOptions = { min: 256 * 1024, avg: 1024 * 1024, max: 4 * 1024 * 1024 };

export interface Chunk {
  /** Where the chunk starts in the file. */
  offset: number;
  length: number;
  /** SHA-256 of its bytes, lowercase hex: its name. */
  sha256: string;
  /** Its bytes in order, as views of the pushed bytes (not copied), the caller's to keep. */
  parts: Buffer[];
}

/** The gear table: for each byte value, the first 4 bytes (big-endian) of SHA-256("gear" + value byte). Fixed forever. */
const gear = Int32Array.from({ length: 256 }, (_, i) => createHash('sha256').update(Buffer.from([0x67, 0x65, 0x61, 0x72, i])).digest().readInt32BE(0));

/** `bits` of the hash's top bits, which depend on all of the last 32 bytes (the low bits on fewer). */
function topMask(bits: number): number {
  return (~0 << (32 - bits)) | 0;
}

/** Cuts a stream of bytes into chunks: push the bytes in order, then finish. */
export class Chunker {
  /** The current chunk's bytes so far, as views of what was pushed. */
  private pending: Buffer[] = [];
  private len = 0;
  private hash = 0;
  private offset = 0;
  /** Below `avg` a cut needs two more zero bits than the average, above it two fewer (FastCDC level 2). */
  private readonly maskSmall: number;
  private readonly maskLarge: number;

  constructor(private readonly o: ChunkerOptions = defaultChunking) {
    if (!(o.min > 0 && o.min <= o.avg && o.avg <= o.max)) throw new RangeError('chunk sizes must satisfy 0 < min <= avg <= max');
    const bits = Math.round(Math.log2(o.avg));
    this.maskSmall = topMask(Math.min(bits + 2, 31));
    this.maskLarge = topMask(Math.max(bits - 2, 1));
  }

  /** Where in the file the chunk being cut starts: bytes pushed before it are no longer viewed. */
  get pendingFrom(): number {
    return this.offset;
  }

  /** The chunks completed by these bytes, in order. */
  push(data: Uint8Array): Chunk[] {
    const out: Chunk[] = [];
    const { min, avg, max } = this.o;
    let pos = 0;
    while (pos < data.length) {
      if (this.len < min) {
        // The first `min` bytes of a chunk are not hashed: no cut can fall there.
        const take = Math.min(min - this.len, data.length - pos);
        this.pending.push(view(data, pos, pos + take));
        this.len += take;
        pos += take;
        this.hash = 0;
        continue;
      }
      let h = this.hash;
      let l = this.len;
      let i = pos;
      let cut = false;
      const end = Math.min(data.length, pos + (max - l));
      const smallEnd = Math.min(end, pos + Math.max(0, avg - l));
      const ms = this.maskSmall;
      while (i < smallEnd) {
        h = ((h << 1) + gear[data[i++]!]!) | 0;
        if ((h & ms) === 0) {
          cut = true;
          break;
        }
      }
      const ml = this.maskLarge;
      if (!cut) {
        while (i < end) {
          h = ((h << 1) + gear[data[i++]!]!) | 0;
          if ((h & ml) === 0) {
            cut = true;
            break;
          }
        }
      }
      if (i > pos) this.pending.push(view(data, pos, i));
      l += i - pos;
      pos = i;
      this.hash = h;
      this.len = l;
      if (cut || l === max) out.push(this.emit());
    }
    return out;
  }

  /** The last chunk (shorter than `min` if the file is), or none for an empty rest. */
  finish(): Chunk[] {
    return this.len > 0 ? [this.emit()] : [];
  }

  private emit(): Chunk {
    const hash = createHash('sha256');
    for (const part of this.pending) hash.update(part);
    const chunk = { offset: this.offset, length: this.len, sha256: hash.digest('hex'), parts: this.pending };
    this.pending = [];
    this.offset += this.len;
    this.len = 0;
    this.hash = 0;
    return chunk;
  }
}

function view(data: Uint8Array, from: number, to: number): Buffer {
  return Buffer.from(data.buffer, data.byteOffset + from, to - from);
}

/** The chunks of a stream of bytes, as they complete (a streaming transform over Chunker). */
export async function* chunkStream(source: AsyncIterable<Uint8Array>, options: ChunkerOptions = defaultChunking): AsyncGenerator<Chunk> {
  const chunker = new Chunker(options);
  for await (const data of source) yield* chunker.push(data);
  yield* chunker.finish();
}
