/**
 * The sizes of a multipart upload's parts, and how many are sent at once. S3 bills every request
 * (in Deep Archive a PUT costs as much as storing 50 MB for a month), so a large archive is sent
 * in large parts; a small one never holds large buffers. Parts start at 8 MiB and double, each
 * size used for as many parts as make the same bytes again (8 MiB × 4, 16 MiB × 2), up to
 * `largest`: with the usual 32 MiB, an upload of 1 GiB takes 38 requests (one per 27 MiB), of
 * 4 GiB 134 (one per 30.6 MiB), tending to one per 32 MiB (docs/format.md "Memory bound").
 *
 * Memory: parts in flight and the part being filled hold at most `partMemory` (or one part, when
 * a part is larger), counted in bytes: the next part is filled while parts are sent as long as
 * they fit together (four 8 MiB parts in flight and a 16 MiB one filling; 32 MiB sent while the
 * next 32 MiB fill). Parts of 64 MiB would halve the requests of a large upload but could not
 * overlap within that memory: each would be filled while the uplink idles, then sent while
 * packing waits (measured: 400 MB over a 200 Mbit/s uplink took 1.17× as long as with 32 MiB,
 * and the dataset of the bench to moto 1.41×).
 *
 * The schedule is a function of `largest` and the part number alone: an interrupted upload,
 * whose journal records `largest` (its `partSize`), resumes with the same part boundaries. A
 * `largest` of 8 MiB is the uniform 8 MiB parts of earlier versions, and of 64 MiB the parts of
 * the versions before this one; their journals resume as they were written.
 */
const MiB = 1 << 20;
export const firstPartSize = 8 * MiB;
/** The part size a put grows to when nothing asks for larger (9,500 of them hold almost 297 GiB). */
export const usualLargestPart = 32 * MiB;
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
