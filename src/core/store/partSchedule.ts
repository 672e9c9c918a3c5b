/**
 * The sizes of a multipart upload's parts, and how many are sent at once. S3 bills every request
 * (in Deep Archive a PUT costs as much as storing 50 MB for a month), so a large archive is sent
 * in large parts; a small one never holds large buffers. Parts start at 8 MiB and double, each
 * size used for as many parts as make the same bytes again (8 MiB × 4, 16 MiB × 2, 32 MiB × 2),
 * up to `largest`: with the usual 64 MiB, an upload of 1 GiB takes 24 requests, at most one per
 * 32 MiB from 576 MiB on (docs/format-v2.md "Uploads").
 *
 * Memory: parts in flight and the part being filled hold at most `partMemory` (or one part, when
 * a part is larger), counted in bytes: the next part is filled while parts are sent as long as
 * they fit together (four 8 MiB parts in flight and a 16 MiB one filling; 32 MiB sent while the
 * next 32 MiB fill), and at 64 MiB one part is filled, then sent.
 *
 * The schedule is a function of `largest` and the part number alone: an interrupted upload,
 * whose journal records `largest` (its `partSize`), resumes with the same part boundaries. A
 * `largest` of 8 MiB is the uniform 8 MiB parts of earlier versions, whose journals resume as
 * they were written.
 */
const MiB = 1 << 20;
export const firstPartSize = 8 * MiB;
/** The part size a put grows to when nothing asks for larger (10,000 of them hold 625 GiB). */
export const usualLargestPart = 64 * MiB;
/** What part buffers may hold at once. */
export const partMemory = 64 * MiB;

/** The length of part `n` (1-based) of an upload whose parts grow to `largest`. */
export function partLength(largest: number, n: number): number {
  let size = Math.min(firstPartSize, largest);
  let first = 1;
  for (let count = 4; size < largest; count = 2) {
    if (n < first + count) return size;
    first += count;
    size = Math.min(largest, size * 2);
  }
  return size;
}

/** Whether a part of `size` bytes may be filled while `inFlight` bytes of parts are being sent: within `partMemory`, or alone. */
export function fitsPartMemory(inFlight: number, size: number): boolean {
  return inFlight === 0 || inFlight + size <= partMemory;
}

/** The parts an upload of `size` bytes is cut into (at least one). */
export function partCount(largest: number, size: number): number {
  let parts = 0;
  for (let done = 0; done < size || parts === 0; ) done += partLength(largest, ++parts);
  return parts;
}

/** Requests (parts, plus start and completion) an upload of `size` bytes makes; one for a single part. */
export function uploadRequests(largest: number, size: number): number {
  const parts = partCount(largest, size);
  return parts === 1 ? 1 : parts + 2;
}
