/**
 * OpenPGP compression as stock `gpg -d` reads it: a Compressed Data packet (RFC 4880 §5.6) with
 * algorithm 1, ZIP (raw deflate), holding the Literal Data packet. This module lays the literal
 * packet out in blocks and says how each setting compresses; deflatePool.ts deflates the blocks of
 * an archive on worker threads, `deflateLiteralSync` those of a manifest on this thread.
 *
 * The deflate stream is a join of independent pieces, as pigz makes them: each block is deflated
 * with the last 32 KiB before it as its dictionary and ends with a sync flush (so on a byte
 * boundary), or is written as stored blocks; an empty final block ends the stream. Guarantees:
 * - the stream is a pure function of the plaintext, the setting and the partial length (how the
 *   plaintext is split into pieces, or how many workers run, never changes a byte), so an
 *   interrupted upload regenerates identical bytes with the same Node;
 * - the literal packet inside it is the one seipd.ts writes uncompressed: binary, empty name,
 *   date 0, partial lengths of `chunkSize`, the last piece a normal length.
 */
import * as zlib from 'node:zlib';
import type * as Zlib from 'node:zlib';
import type { Compression } from '../config';
import { bodyLength, literalHeader, literalTag, partialLength } from './seipd';

/** The setting lives in core/config, where the front ends read it from. */
export { compressions, type Compression } from '../config';

/** What the manifest records (docs/format.md): `none` for `off`. */
export type ManifestCompression = 'none' | 'zip-adaptive' | 'zip-adaptive-max';

export function manifestCompression(c: Compression): ManifestCompression {
  return c === 'off' ? 'none' : c === 'max' ? 'zip-adaptive-max' : 'zip-adaptive';
}

/** The deflate level of a setting, or undefined for `off`. */
export function deflateLevel(c: Compression): number | undefined {
  return c === 'off' ? undefined : c === 'max' ? 6 : 1;
}

/** Deflate's window: the dictionary each block is primed with. */
export const windowSize = 1 << 15;
/** A block is judged, and stored or deflated, by segments of this size. */
export const segmentSize = 1 << 18;
/** Bits per byte above which a segment is stored: Huffman coding alone would save under 3 %. */
const storedAbove = 7.8;
const samples = 4;
const sampleSize = 4096;
const counts = new Float64Array(256);

/**
 * Whether a segment is not worth deflating: the entropy of its bytes, estimated from four samples
 * of 4 KiB spread over it, is above 7.8 bits per byte (random data, media, archives, encrypted
 * files). About 20 µs per segment; a trial deflate of as many bytes costs 10 times more.
 */
export function incompressible(seg: Uint8Array): boolean {
  counts.fill(0);
  let n = 0;
  const add = (from: number, to: number): void => {
    for (let i = from; i < to; i++) counts[seg[i]!]!++;
    n += to - from;
  };
  if (seg.byteLength <= samples * sampleSize) add(0, seg.byteLength);
  else {
    for (let k = 0; k < samples; k++) {
      const at = Math.floor(((seg.byteLength - sampleSize) * k) / (samples - 1));
      add(at, at + sampleSize);
    }
  }
  let bits = 0;
  for (let b = 0; b < 256; b++) {
    const c = counts[b]!;
    if (c > 0) bits -= (c / n) * Math.log2(c / n);
  }
  return bits > storedAbove;
}

/** Which segments of `block` are stored (true) and which deflated. */
export function judge(block: Uint8Array): boolean[] {
  const stored: boolean[] = [];
  for (let at = 0; at < block.byteLength; at += segmentSize) stored.push(incompressible(block.subarray(at, Math.min(at + segmentSize, block.byteLength))));
  return stored;
}

/** One block's piece of the deflate stream, and how many of its bytes were deflated and stored. */
export interface EncodedBlock {
  out: Buffer;
  deflated: number;
  stored: number;
}

/**
 * One block's piece of the deflate stream, segment by segment as `stored` says: stored blocks
 * (non-final, 5 octets of header per 65,535 bytes), or deflateRaw at `level` with the 32 KiB
 * before the segment as dictionary (`dictionary` for the first), ended by a sync flush so that the
 * next piece starts on a byte boundary. The output is one buffer of its own.
 *
 * Self-contained (it uses only its parameters and Buffer): deflatePool.ts's workers run its source
 * text, so it must not call anything else of this module.
 */
export function encodeBlock(zlib: typeof Zlib, block: Buffer, dictionary: Buffer, stored: readonly boolean[], level: number, segment: number): EncodedBlock {
  const pieces: Buffer[] = [];
  let total = 0;
  let deflated = 0;
  let kept = 0;
  for (let at = 0, k = 0; at < block.length; at += segment, k++) {
    const seg = block.subarray(at, Math.min(at + segment, block.length));
    if (stored[k]) {
      for (let i = 0; i < seg.length; i += 65535) {
        const n = Math.min(65535, seg.length - i);
        const head = Buffer.allocUnsafe(5);
        head[0] = 0;
        head.writeUInt16LE(n, 1);
        head.writeUInt16LE(n ^ 0xffff, 3);
        pieces.push(head, seg.subarray(i, i + n));
        total += 5 + n;
      }
      kept += seg.length;
    } else {
      const dict = at === 0 ? dictionary : block.subarray(Math.max(0, at - (1 << 15)), at);
      const options: Zlib.ZlibOptions = { level, finishFlush: zlib.constants.Z_SYNC_FLUSH };
      if (dict.length > 0) options.dictionary = dict;
      const piece = zlib.deflateRawSync(seg, options);
      pieces.push(piece);
      total += piece.length;
      deflated += seg.length;
    }
  }
  const out = Buffer.allocUnsafeSlow(total);
  let pos = 0;
  for (const piece of pieces) pos += piece.copy(out, pos);
  return { out, deflated, stored: kept };
}

/** An empty final block with fixed codes (BFINAL 1, BTYPE 01, end-of-block code 0000000). */
export const finalBlock = Buffer.of(0x03, 0x00);
/** Room in front of a block's body for the packet's tag octet and a length of up to 5 octets. */
const headroom = 6;

/**
 * The Literal Data packet of a plaintext given in pieces, as blocks of the packet's bytes: each
 * block is one piece of the packet's body (`chunkSize` bytes, or what is left) with its length
 * octets in front (and the packet's tag octet in the first). The plaintext is copied once, into
 * the block; the caller may reuse a piece as soon as `push` returns.
 */
export class LiteralBlocks {
  private block: Buffer | undefined;
  /** Body bytes in `block`. */
  private fill = 0;
  private started = false;

  constructor(
    private readonly chunkSize: number,
    /** A buffer of at least `LiteralBlocks.bufferSize(chunkSize)` bytes to fill. */
    private readonly take: () => Buffer,
  ) {}

  static bufferSize(chunkSize: number): number {
    return headroom + chunkSize;
  }

  /** Adds plaintext; appends to `out` the blocks now complete. */
  push(data: Uint8Array, out: Buffer[]): void {
    if (!this.block) this.open(literalHeader);
    let at = 0;
    while (at < data.byteLength) {
      // A full body piece is sent only once more bytes come: the last piece has a normal length.
      if (this.fill === this.chunkSize) out.push(this.emit(partialLength(this.chunkSize)));
      if (!this.block) this.open();
      const n = Math.min(this.chunkSize - this.fill, data.byteLength - at);
      this.block!.set(data.subarray(at, at + n), headroom + this.fill);
      this.fill += n;
      at += n;
    }
  }

  /** Ends the plaintext: appends the last block (with a normal length). */
  end(out: Buffer[]): void {
    if (!this.block) this.open(literalHeader);
    out.push(this.emit(bodyLength(this.fill)));
  }

  private open(first?: Buffer): void {
    this.block = this.take();
    this.fill = 0;
    if (first) {
      first.copy(this.block, headroom);
      this.fill = first.byteLength;
    }
  }

  private emit(length: Buffer): Buffer {
    const block = this.block!;
    let start = headroom - length.byteLength;
    length.copy(block, start);
    if (!this.started) {
      this.started = true;
      block[--start] = 0xc0 | literalTag;
    }
    this.block = undefined;
    return block.subarray(start, headroom + this.fill);
  }
}

/**
 * The last `windowSize` bytes of everything seen so far: each block's dictionary. Blocks are
 * usually longer than the window, so this is one copy of 32 KiB per block.
 */
export class WindowTail {
  private tail = Buffer.alloc(0);

  /** The dictionary for the next block (a fresh buffer, which the caller may hand away). */
  get(): Buffer {
    return this.tail;
  }

  add(block: Buffer): void {
    if (block.byteLength >= windowSize) {
      this.tail = Buffer.from(block.subarray(block.byteLength - windowSize));
    } else {
      const joined = Buffer.concat([this.tail, block]);
      this.tail = Buffer.from(joined.subarray(Math.max(0, joined.byteLength - windowSize)));
    }
  }
}

/**
 * The deflate stream of the Literal Data packet of `pieces`, on this thread, every block deflated
 * (a manifest is JSON: it always compresses). For what fits in memory as it is made: yields as it
 * goes, one block of about `chunkSize` bytes at a time.
 */
export function* deflateLiteralSync(pieces: Iterable<Uint8Array>, level: number, chunkSize: number): Generator<Buffer> {
  const literal = new LiteralBlocks(chunkSize, () => Buffer.allocUnsafe(LiteralBlocks.bufferSize(chunkSize)));
  const dict = new WindowTail();
  const blocks: Buffer[] = [];
  const deflate = function* (): Generator<Buffer> {
    for (const block of blocks) {
      const dictionary = dict.get();
      yield zlib.deflateRawSync(block, { level, finishFlush: zlib.constants.Z_SYNC_FLUSH, ...(dictionary.byteLength ? { dictionary } : {}) });
      dict.add(block);
    }
    blocks.length = 0;
  };
  for (const piece of pieces) {
    literal.push(piece, blocks);
    yield* deflate();
  }
  literal.end(blocks);
  yield* deflate();
  yield finalBlock;
}
