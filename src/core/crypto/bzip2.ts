/**
 * A streaming bzip2 decompressor for OpenPGP's BZIP2 compressed packets (RFC 4880 §9.3): input
 * as it comes, output in pieces of at most 64 KiB as they are read. Every step is bounded by the
 * input: each Huffman symbol reads at most 20 bits, each block's symbols are counted against the
 * block size its stream header gives, and a block may not span more input than any bzip2 block
 * can (3 MiB), so damaged data ends in an error, never in a loop. Memory: one block (at most
 * 900,000 positions, 3.6 MB) and the input it spans. Block and stream CRCs are checked.
 *
 * Output per input is bounded the way the format bounds it (a block of 900,000 bytes expands to
 * at most 255 copies per run of 4): pieces are only made as they are read, so a "bomb" costs the
 * reader's time as it reads, never memory, exactly as a ZIP or ZLIB packet does.
 */
import { GlacierError } from '../errors';

/**
 * More compressed input than any bzip2 block takes: 900,001 symbols of at most 20 bits, 32,767
 * selectors and six tables come to under 2.3 MB. Input is pulled in refills of twice this, when
 * less than this is left, so each input byte is copied about twice.
 */
const maxBlockInput = 3 << 20;
const outSize = 1 << 16;
const blockMagic = [0x314159, 0x265359];
const endMagic = [0x177245, 0x385090];

const crcTable = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 24;
    for (let k = 0; k < 8; k++) c = c & 0x80000000 ? (c << 1) ^ 0x04c11db7 : c << 1;
    t[i] = c >>> 0;
  }
  return t;
})();

class Damaged extends Error {}

/** Bits, most significant first, from the input pulled so far; `Short` when it runs out. */
class BitReader {
  private buf: Buffer = Buffer.alloc(0);
  private at = 0;
  private bits = 0;
  private count = 0;
  ended = false;

  constructor(private readonly input: AsyncIterator<Buffer>) {}

  /** Unless `need` bytes are unread, pulls input until twice that many are, or the input ends. */
  async fill(need: number): Promise<void> {
    const parts: Buffer[] = [this.buf.subarray(this.at)];
    let have = parts[0]!.byteLength;
    if (have >= need) return;
    const want = 2 * need;
    while (have < want && !this.ended) {
      const r = await this.input.next();
      if (r.done) this.ended = true;
      else {
        parts.push(r.value);
        have += r.value.byteLength;
      }
    }
    this.buf = parts.length === 1 ? parts[0]! : Buffer.concat(parts, have);
    this.at = 0;
  }

  /** Whether no input is left (after a fill), apart from the bits of a partly read byte. */
  get drained(): boolean {
    return this.at >= this.buf.byteLength;
  }

  /** The next `n` bits, n at most 24. */
  read(n: number): number {
    while (this.count < n) {
      if (this.at >= this.buf.byteLength) throw new Damaged(this.ended ? 'it is truncated' : 'a block is larger than bzip2 makes');
      this.bits = ((this.bits << 8) | this.buf[this.at++]!) >>> 0;
      this.count += 8;
    }
    this.count -= n;
    return (this.bits >>> this.count) & ((1 << n) - 1);
  }

  bit(): number {
    if (this.count === 0) {
      if (this.at >= this.buf.byteLength) return this.read(1);
      this.bits = this.buf[this.at++]!;
      this.count = 8;
    }
    return (this.bits >>> --this.count) & 1;
  }

  /** The next 10 bits without reading them, or -1 if fewer are left. */
  peek10(): number {
    while (this.count < 10 && this.at < this.buf.byteLength) {
      this.bits = ((this.bits << 8) | this.buf[this.at++]!) >>> 0;
      this.count += 8;
    }
    return this.count >= 10 ? (this.bits >>> (this.count - 10)) & 0x3ff : -1;
  }

  /** Reads `n` bits known to be there (after peek10). */
  skip(n: number): void {
    this.count -= n;
  }

  /** Drops the bits left in the current byte (the end of a stream is byte-aligned). */
  align(): void {
    this.count = 0;
    this.bits = 0;
  }
}

/** Decompresses bzip2 `input` (one or more streams), yielding the data as it is read. */
export async function* bunzip2(input: AsyncIterable<Buffer>, what: string): AsyncGenerator<Buffer> {
  const bits = new BitReader(input[Symbol.asyncIterator]());
  try {
    do yield* stream(bits);
    while (!bits.drained);
  } catch (err) {
    if (err instanceof Damaged) throw new GlacierError('corrupt', `${what} is damaged (in its bzip2 data: ${err.message})`);
    throw err;
  }
}

async function* stream(bits: BitReader): AsyncGenerator<Buffer> {
  await bits.fill(maxBlockInput);
  if (bits.read(8) !== 0x42 || bits.read(8) !== 0x5a || bits.read(8) !== 0x68) throw new Damaged('no stream header');
  const level = bits.read(8) - 0x30;
  if (level < 1 || level > 9) throw new Damaged('bad block size');
  const tt = new Uint32Array(level * 100_000);
  let combined = 0;
  for (;;) {
    await bits.fill(maxBlockInput);
    const magic = [bits.read(24), bits.read(24)];
    const crc = bits.read(16) * 0x10000 + bits.read(16);
    if (magic[0] === endMagic[0] && magic[1] === endMagic[1]) {
      if (crc !== combined >>> 0) throw new Damaged('stream checksum mismatch');
      bits.align();
      return;
    }
    if (magic[0] !== blockMagic[0] || magic[1] !== blockMagic[1]) throw new Damaged('bad block header');
    const { count, origPtr } = readBlock(bits, tt);
    let blockCrc = 0xffffffff;
    for (const piece of undoBwt(tt, count, origPtr)) {
      for (let i = 0; i < piece.byteLength; i++) blockCrc = ((blockCrc << 8) ^ crcTable[((blockCrc >>> 24) ^ piece[i]!) & 0xff]!) >>> 0;
      yield piece;
    }
    if (~blockCrc >>> 0 !== crc) throw new Damaged('block checksum mismatch');
    combined = (((combined << 1) | (combined >>> 31)) ^ crc) >>> 0;
  }
}

/** Reads one block's Huffman-coded, MTF and RLE2 symbols into `tt` (low bytes); its size and origin. */
function readBlock(bits: BitReader, tt: Uint32Array): { count: number; origPtr: number } {
  if (bits.bit()) throw new Damaged('randomised blocks are not supported');
  const origPtr = bits.read(24);
  const symbols: number[] = [];
  const used = bits.read(16);
  for (let i = 0; i < 16; i++) {
    if (!(used & (0x8000 >> i))) continue;
    const row = bits.read(16);
    for (let j = 0; j < 16; j++) if (row & (0x8000 >> j)) symbols.push(i * 16 + j);
  }
  if (symbols.length === 0) throw new Damaged('a block uses no symbols');
  const alphaSize = symbols.length + 2;
  const groups = bits.read(3);
  const selectorCount = bits.read(15);
  if (groups < 2 || groups > 6 || selectorCount === 0) throw new Damaged('bad Huffman tables');
  const mtfGroups = [0, 1, 2, 3, 4, 5].slice(0, groups);
  const selectors = new Uint8Array(selectorCount);
  for (let i = 0; i < selectorCount; i++) {
    let j = 0;
    while (bits.bit()) if (++j >= groups) throw new Damaged('bad Huffman selector');
    const g = mtfGroups[j]!;
    mtfGroups.splice(j, 1);
    mtfGroups.unshift(g);
    selectors[i] = g;
  }
  const tables = Array.from({ length: groups }, () => huffmanTable(bits, alphaSize));

  const mtf = Uint8Array.from(symbols);
  const counts = new Uint32Array(256);
  const eob = alphaSize - 1;
  let count = 0;
  let run = 0;
  let runBit = 1;
  for (let selector = 0, left = 0, table = tables[0]!; ; left--) {
    if (left === 0) {
      if (selector >= selectorCount) throw new Damaged('more symbols than selectors');
      table = tables[selectors[selector++]!]!;
      left = 50;
    }
    const sym = decodeSymbol(bits, table);
    if (sym <= 1) {
      run += runBit << sym;
      runBit <<= 1;
      if (run > tt.length) throw new Damaged('a run is longer than the block');
      continue;
    }
    if (run > 0) {
      if (count + run > tt.length) throw new Damaged('a block is longer than its stream allows');
      const byte = mtf[0]!;
      tt.fill(byte, count, count + run);
      counts[byte] = counts[byte]! + run;
      count += run;
      run = 0;
    }
    runBit = 1;
    if (sym === eob) break;
    if (count >= tt.length) throw new Damaged('a block is longer than its stream allows');
    const byte = mtf[sym - 1]!;
    mtf.copyWithin(1, 0, sym - 1);
    mtf[0] = byte;
    counts[byte] = counts[byte]! + 1;
    tt[count++] = byte;
  }
  if (origPtr >= count) throw new Damaged('bad block origin');
  // Inverse BWT links: for each position, where the next byte of the output is.
  for (let i = 0, sum = 0; i < 256; i++) {
    const c = counts[i]!;
    counts[i] = sum;
    sum += c;
  }
  for (let i = 0; i < count; i++) {
    const byte = tt[i]! & 0xff;
    tt[counts[byte]!] = tt[counts[byte]!]! | (i << 8);
    counts[byte] = counts[byte]! + 1;
  }
  return { count, origPtr };
}

interface Huffman {
  /** Per code length (1–20): the first code, how many codes, and where their symbols start in `perm`. */
  first: Int32Array;
  count: Int32Array;
  start: Int32Array;
  perm: Uint16Array;
  maxLen: number;
  /** For each 10-bit prefix that starts with a code of at most 10 bits: symbol << 5 | length; else -1. */
  fast: Int32Array;
}

function huffmanTable(bits: BitReader, alphaSize: number): Huffman {
  const lengths = new Uint8Array(alphaSize);
  let len = bits.read(5);
  for (let i = 0; i < alphaSize; i++) {
    for (;;) {
      if (len < 1 || len > 20) throw new Damaged('bad Huffman code length');
      if (!bits.bit()) break;
      len += bits.bit() ? -1 : 1;
    }
    lengths[i] = len;
  }
  const count = new Int32Array(21);
  for (const l of lengths) count[l]!++;
  const first = new Int32Array(21);
  const start = new Int32Array(21);
  const perm = new Uint16Array(alphaSize);
  let maxLen = 0;
  for (let l = 1, code = 0, index = 0; l <= 20; l++) {
    first[l] = code;
    start[l] = index;
    for (let s = 0; s < alphaSize; s++) if (lengths[s] === l) perm[index++] = s;
    code = (code + count[l]!) << 1;
    if (count[l]) maxLen = l;
  }
  // Longest first, so that where damaged lengths overlap the shortest code wins, as below.
  const fast = new Int32Array(1 << 10).fill(-1);
  for (let l = 10; l >= 1; l--) {
    for (let k = 0; k < count[l]!; k++) {
      const code = first[l]! + k;
      if (code >= 1 << l) break;
      fast.fill((perm[start[l]! + k]! << 5) | l, code << (10 - l), (code + 1) << (10 - l));
    }
  }
  return { first, count, start, perm, maxLen, fast };
}

function decodeSymbol(bits: BitReader, t: Huffman): number {
  const prefix = bits.peek10();
  const hit = prefix < 0 ? -1 : t.fast[prefix]!;
  if (hit >= 0) {
    bits.skip(hit & 31);
    return hit >> 5;
  }
  let code = 0;
  for (let l = 1; l <= t.maxLen; l++) {
    code = (code << 1) | bits.bit();
    const offset = code - t.first[l]!;
    if (offset >= 0 && offset < t.count[l]!) return t.perm[t.start[l]! + offset]!;
  }
  throw new Damaged('bad Huffman code');
}

/** The block's bytes: the inverse BWT, then runs of 4 equal bytes and a count (RLE1) expanded. */
function* undoBwt(tt: Uint32Array, count: number, origPtr: number): Generator<Buffer> {
  let out = Buffer.allocUnsafe(outSize);
  let n = 0;
  let pos = tt[origPtr]! >>> 8;
  // After 4 equal bytes, the next one is a count of more copies; then a new run starts.
  let last = -1;
  let same = 0;
  for (let i = 0; i < count; i++) {
    const entry = tt[pos]!;
    const byte = entry & 0xff;
    pos = entry >>> 8;
    let copies = 1;
    let value = byte;
    if (same === 4) {
      copies = byte;
      value = last;
      last = -1;
      same = 0;
    } else if (byte === last) same++;
    else {
      last = byte;
      same = 1;
    }
    for (let left = copies; left > 0; ) {
      const k = Math.min(left, outSize - n);
      if (k === 1) out[n] = value;
      else out.fill(value, n, n + k);
      n += k;
      left -= k;
      if (n === outSize) {
        yield out;
        out = Buffer.allocUnsafe(outSize);
        n = 0;
      }
    }
  }
  if (n > 0) yield out.subarray(0, n);
}
