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
import { constants, deflateRawSync } from 'node:zlib';
import { bodyLength, literalHeader, literalTag, partialLength } from './seipd';

/** What a backup asks for: adaptive deflate at level 1 (auto) or 6 (max), or no compressed packet. */
export type Compression = 'auto' | 'max' | 'off';
export const compressions: readonly Compression[] = ['auto', 'max', 'off'];

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
      yield deflateRawSync(block, { level, finishFlush: constants.Z_SYNC_FLUSH, ...(dictionary.byteLength ? { dictionary } : {}) });
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
