/**
 * CRC32 arithmetic for S3's checksums: the whole-object CRC32 combined from the parts' (one pass
 * over the data, not two), and the composite "CRC32 of the parts' CRC32s" S3 keeps for multipart
 * objects. Pure functions of numbers; no I/O.
 */
import * as zlib from 'node:zlib';
import { partLength } from '../partSchedule';

/** Whether this Node has zlib.crc32 (≥ 20.15); without it no CRC32 is sent or compared. */
export const crc32Available = typeof (zlib as { crc32?: unknown }).crc32 === 'function';

/** What was sent, for comparing with S3's CRC32: the parts' CRC32s, all but the last as long as partSchedule.ts says. */
export interface PartSums {
  size: number;
  /** The size the parts grew to (partSchedule.ts partLength). */
  partSize: number;
  parts: number[];
}

export function crcBase64(crc: number): string {
  return be32(crc).toString('base64');
}

/** The CRC32 S3 reports for a multipart object made with CRC32 parts (without its "-N" suffix). */
/**
 * The integrity header of a part or object: S3's CRC32 when the endpoint takes checksums, else
 * Content-MD5. Either lets S3 reject a damaged body, and a bucket with Object Lock refuses uploads
 * that carry neither.
 */
export function integrity(checksums: boolean, crc: number | undefined, md5Hex: string): { ChecksumCRC32: string } | { ContentMD5: string } {
  return checksums && crc !== undefined ? { ChecksumCRC32: crcBase64(crc) } : { ContentMD5: Buffer.from(md5Hex, 'hex').toString('base64') };
}

export function compositeCrc(sums: PartSums): string {
  return crcBase64(zlib.crc32(Buffer.concat(sums.parts.map(be32))));
}

/** The CRC32 of the whole object, combined from its parts'. */
export function fullObjectCrc(sums: PartSums): string {
  let crc = sums.parts[0] ?? 0;
  let before = sums.parts.length ? partLength(sums.partSize, 1) : 0;
  for (let i = 1; i < sums.parts.length; i++) {
    const length = i === sums.parts.length - 1 ? sums.size - before : partLength(sums.partSize, i + 1);
    crc = crc32Combine(crc, sums.parts[i]!, length);
    before += length;
  }
  return crcBase64(crc);
}

/** CRC32 of A‖B from CRC32(A), CRC32(B) and the length of B (zlib's crc32_combine, GF(2) matrices). */
export function crc32Combine(crcA: number, crcB: number, lengthB: number): number {
  if (lengthB <= 0) return crcA >>> 0;
  const even = new Uint32Array(32);
  const odd = new Uint32Array(32);
  odd[0] = 0xedb88320; // the reflected CRC-32 polynomial: the operator for one zero bit
  for (let n = 1, row = 1; n < 32; n++, row <<= 1) odd[n] = row;
  gf2Square(even, odd); // two zero bits
  gf2Square(odd, even); // four zero bits
  let crc = crcA >>> 0;
  let length = lengthB;
  for (;;) {
    gf2Square(even, odd);
    if (length % 2 === 1) crc = gf2Times(even, crc);
    length = Math.floor(length / 2);
    if (length === 0) break;
    gf2Square(odd, even);
    if (length % 2 === 1) crc = gf2Times(odd, crc);
    length = Math.floor(length / 2);
    if (length === 0) break;
  }
  return (crc ^ crcB) >>> 0;
}

function gf2Times(matrix: Uint32Array, vector: number): number {
  let sum = 0;
  for (let i = 0, v = vector >>> 0; v !== 0; i++, v >>>= 1) if (v & 1) sum ^= matrix[i]!;
  return sum >>> 0;
}

function gf2Square(square: Uint32Array, matrix: Uint32Array): void {
  for (let n = 0; n < 32; n++) square[n] = gf2Times(matrix, matrix[n]!);
}

function be32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}
