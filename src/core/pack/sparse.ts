/**
 * GNU sparse files in PAX archives (`tar --sparse --format=pax`), read as hostile input.
 *
 * Formats 1.0 (GNU tar's default: the map of data segments at the start of the entry's data)
 * and 0.1 (the map in the `GNU.sparse.map` header) are restored with their holes: each segment
 * is written at its offset and the file is cut to its real size. Format 0.0 (repeated
 * `GNU.sparse.offset`/`numbytes` headers, which the tar parser does not keep) is refused.
 * The map is checked before any data is written: segments in order, not overlapping, inside the
 * real size, adding up to the stored data exactly. The sha256 is that of the whole file, holes
 * read as zeros, as a reader of the restored file sees it.
 */
import type { Hash } from 'node:crypto';

/** Largest real size of a sparse file: its holes are hashed as zeros (about ten minutes for 1 TiB). */
export const maxSparseSize = 2 ** 40;
/** Most data segments in one sparse file's map (the map is held in memory, 16 bytes a segment). */
export const maxSparseSegments = 1_000_000;

export interface SparseInfo {
  /** The file's real name (GNU.sparse.name), to be checked like any entry name. */
  name: string;
  realSize: number;
  /** Offset and length pairs; null for format 1.0, whose map starts the data. */
  map: number[] | null;
}

/**
 * What the PAX header says of a sparse file; null when the entry is not one. Throws (with
 * `refuse`) for a format that is not read or for a header that does not add up.
 */
export function sparseInfo(pax: Record<string, string> | undefined | null, refuse: (why: string) => never): SparseInfo | null {
  if (!pax || !Object.keys(pax).some((k) => k.startsWith('GNU.sparse.'))) return null;
  const name = pax['GNU.sparse.name'];
  const major = pax['GNU.sparse.major'];
  const minor = pax['GNU.sparse.minor'];
  let realSize: number;
  let map: number[] | null = null;
  if (major === '1' && minor === '0') {
    realSize = number(pax['GNU.sparse.realsize'], refuse);
  } else if (major === undefined && pax['GNU.sparse.map'] !== undefined) {
    realSize = number(pax['GNU.sparse.size'], refuse);
    const text = pax['GNU.sparse.map'];
    map = text === '' ? [] : text.split(',').map((n) => number(n, refuse));
    if (map.length % 2 !== 0) refuse('a sparse file whose map has an odd count of numbers');
  } else {
    refuse(`a sparse file in GNU format ${major ?? 0}.${minor ?? 0}, which is not restored (formats 0.1 and 1.0 are)`);
  }
  if (name === undefined || name === '') refuse('a sparse file without its real name');
  if (realSize > maxSparseSize) refuse(`a sparse file of ${realSize} bytes, more than the ${maxSparseSize} restored`);
  if (map) checkMap(map, realSize, refuse);
  return { name, realSize, map };
}

/**
 * Takes the stored data of a sparse entry piece by piece; writes each segment at its offset
 * (`write(buf, position)`) and hashes the whole file, holes as zeros. `finish()` checks that the
 * data ran out exactly at the end of the last segment and returns the real size.
 */
export class SparseSink {
  private map: number[] | null;
  /** Format 1.0: the map text read so far, and the bytes of it consumed. */
  private digits = '';
  private numbers: number[] = [];
  private mapBytes = 0;
  /** Bytes of padding after the map still to skip. */
  private padding = 0;
  private segment = 0;
  /** Bytes of the current segment written; bytes of the file hashed. */
  private inSegment = 0;
  private hashed = 0;

  constructor(
    private readonly info: SparseInfo,
    private readonly storedSize: number,
    private readonly hash: Hash,
    private readonly write: (data: Buffer, position: number) => void,
    private readonly refuse: (why: string) => never,
  ) {
    this.map = info.map;
    if (this.map && sum(this.map) !== storedSize) refuse('the sparse map does not add up to the data stored');
  }

  push(chunk: Buffer): void {
    let data = chunk;
    if (this.map === null) data = this.readMap(data);
    const skip = Math.min(this.padding, data.byteLength);
    this.padding -= skip;
    data = data.subarray(skip);
    const map = this.map;
    if (map === null) return;
    while (data.byteLength > 0) {
      if (this.segment * 2 >= map.length) this.refuse('the sparse file holds more data than its map');
      const offset = map[this.segment * 2] as number;
      const length = map[this.segment * 2 + 1] as number;
      const n = Math.min(length - this.inSegment, data.byteLength);
      if (n > 0) {
        if (this.inSegment === 0) this.zeros(offset - this.hashed);
        const piece = data.subarray(0, n);
        this.write(piece, offset + this.inSegment);
        this.hash.update(piece);
        this.hashed += n;
        this.inSegment += n;
        data = data.subarray(n);
      }
      if (this.inSegment === length) {
        this.segment++;
        this.inSegment = 0;
      }
    }
  }

  finish(): number {
    if (this.map === null || this.padding > 0) this.refuse('the sparse file ends inside its map');
    this.zeros(this.info.realSize - this.hashed);
    return this.info.realSize;
  }

  /** Format 1.0: lines of decimal numbers (count, then offset and length pairs), padded to 512 bytes. */
  private readMap(chunk: Buffer): Buffer {
    let i = 0;
    while (i < chunk.byteLength && this.map === null) {
      const c = chunk[i++] as number;
      this.mapBytes++;
      if (c >= 0x30 && c <= 0x39 && this.digits.length < 16) {
        this.digits += String.fromCharCode(c);
        continue;
      }
      if (c !== 0x0a || this.digits === '') this.refuse('the sparse map is not a list of numbers');
      this.numbers.push(Number(this.digits));
      this.digits = '';
      const count = this.numbers[0] as number;
      if (count > maxSparseSegments) this.refuse(`a sparse map of more than ${maxSparseSegments} segments`);
      if (this.numbers.length === 1 + count * 2) {
        const map = this.numbers.slice(1);
        checkMap(map, this.info.realSize, this.refuse);
        const padded = Math.ceil(this.mapBytes / 512) * 512;
        if (padded + sum(map) !== this.storedSize) this.refuse('the sparse map does not add up to the data stored');
        this.padding = padded - this.mapBytes;
        this.map = map;
      }
    }
    return chunk.subarray(i);
  }

  private zeros(n: number): void {
    if (n <= 0) return;
    for (let left = n; left > 0; left -= zeroBlock.byteLength) this.hash.update(left >= zeroBlock.byteLength ? zeroBlock : zeroBlock.subarray(0, left));
    this.hashed += n;
  }
}

const zeroBlock = Buffer.alloc(1 << 20);

function number(text: string | undefined, refuse: (why: string) => never): number {
  if (text === undefined || !/^\d{1,16}$/.test(text)) refuse(`a sparse file header with a bad number ("${String(text).slice(0, 20)}")`);
  return Number(text);
}

function checkMap(map: readonly number[], realSize: number, refuse: (why: string) => never): void {
  if (map.length / 2 > maxSparseSegments) refuse(`a sparse map of more than ${maxSparseSegments} segments`);
  let end = 0;
  for (let i = 0; i < map.length; i += 2) {
    const offset = map[i] as number;
    const length = map[i + 1] as number;
    if (offset < end || offset + length > realSize) refuse('a sparse map whose segments overlap or pass the end of the file');
    end = offset + length;
  }
}

function sum(map: readonly number[]): number {
  let total = 0;
  for (let i = 1; i < map.length; i += 2) total += map[i] as number;
  return total;
}
