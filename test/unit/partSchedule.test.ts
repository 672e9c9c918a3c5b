/**
 * The part schedule of uploads (core/store/partSchedule.ts): 8 MiB parts while an object is small,
 * then growing to 32 MiB (about one request per 32 MiB for large uploads), part buffers within 64 MiB, the
 * uniform 8 MiB parts of older journals unchanged, and S3's whole-object CRC32 combined across parts
 * of different lengths.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as zlib from 'node:zlib';
import { firstPartSize, fitsPartMemory, partCount, partLength, partMemory, uploadRequests, usualLargestPart } from '../../src/core/store/partSchedule';
import { choosePartSize } from '../../src/core/store/s3/upload';
import { fullObjectCrc, crcBase64 } from '../../src/core/store/s3/crc32';

const MiB = 1 << 20;

describe('part schedule', () => {
  it('starts at 8 MiB and doubles to the largest part', () => {
    const sizes = Array.from({ length: 11 }, (_, i) => partLength(usualLargestPart, i + 1) / MiB);
    assert.deepEqual(sizes, [8, 8, 8, 8, 16, 16, 32, 32, 32, 32, 32]);
    assert.deepEqual(Array.from({ length: 12 }, (_, i) => partLength(100 * MiB, i + 1) / MiB).slice(8), [64, 64, 100, 100]);
  });

  it('keeps the uniform 8 MiB parts of earlier versions when that is the largest (their journals resume)', () => {
    for (let n = 1; n < 50; n++) assert.equal(partLength(firstPartSize, n), firstPartSize);
  });

  it('a large upload makes about one request per 32 MiB, a small one no more than before', () => {
    const largest = choosePartSize(4096 * MiB);
    assert.equal(largest, usualLargestPart);
    // (size + 192 MiB) / 32 MiB requests: 64 MiB in six parts, then 32 MiB parts, start and completion.
    assert.equal(uploadRequests(largest, 1024 * MiB), 38);
    assert.equal(uploadRequests(largest, 4096 * MiB), 134);
    for (const size of [1024, 1500, 4096, 100_000].map((m) => m * MiB)) {
      assert.ok(size / uploadRequests(largest, size) >= 26.9 * MiB, `${size / MiB} MiB: ${uploadRequests(largest, size)} requests`);
    }
    assert.ok((100_000 * MiB) / uploadRequests(largest, 100_000 * MiB) > 31.9 * MiB);
    assert.equal(partCount(usualLargestPart, 40 * MiB + 1), 5, '8 × 4 and a fifth of up to 16 MiB');
    assert.equal(partCount(usualLargestPart, 0), 1);
    // The simulated day of issue 15: 410 MB took 49 parts of 8 MiB and 2 more requests.
    assert.equal(uploadRequests(firstPartSize, 410e6), 51);
    assert.equal(uploadRequests(largest, 410e6), 19);
    for (const size of [1, 8 * MiB - 1, 8 * MiB, 8 * MiB + 1, 31 * MiB]) assert.equal(uploadRequests(largest, size), uploadRequests(firstPartSize, size), `${size} bytes`);
  });

  it('holds part buffers within 64 MiB, counted in bytes: the next part fills while smaller ones are sent', () => {
    // Parts of one upload in order: the next is filled once it fits beside those in flight.
    const fill = (inFlight: number[], next: number) => fitsPartMemory(inFlight.reduce((a, b) => a + b, 0) * MiB, next * MiB);
    assert.ok(fill([8, 8, 8, 8], 16), 'four 8 MiB parts sent while the first 16 MiB one fills');
    assert.ok(fill([8, 8, 16], 32));
    assert.ok(fill([32], 32), 'a 32 MiB part fills while the one before is sent');
    assert.ok(!fill([32], 64) && !fill([64], 64), 'at 64 MiB one part fills, then is sent');
    assert.ok(fill([], 64) && fill([], 128), 'a part larger than the budget fills alone');
    assert.ok(!fill([8], 64) && !fill([16, 16, 16, 16], 8));
    assert.equal(partMemory, 64 * MiB);
  });
});

describe('whole-object CRC32 across growing parts', () => {
  it('equals the CRC32 of the bytes', () => {
    // 8 × 4 + 16 MiB, then a short last part: the first part sizes change, and the last is cut.
    const data = randomBytes(50 * MiB + 1234);
    const parts: number[] = [];
    for (let off = 0, n = 1; off < data.byteLength; n++) {
      const length = Math.min(partLength(usualLargestPart, n), data.byteLength - off);
      parts.push(zlib.crc32(data.subarray(off, off + length)));
      off += length;
    }
    assert.equal(parts.length, 6);
    assert.equal(fullObjectCrc({ size: data.byteLength, partSize: usualLargestPart, parts }), crcBase64(zlib.crc32(data)));
  });
});
