import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { uploadRequests } from '../../src/core/store/partSchedule';
import { choosePartSize, crc32Combine, isBadDigest, isChecksumRejection, maxObjectSize } from '../../src/core/store/s3/upload';
import { randomBytes } from 'node:crypto';
import * as zlib from 'node:zlib';
import { parseManifest } from '../../src/core/catalog/manifest';
import { newArchiveId } from '../../src/core/jobs/backup';
import { normalisePrefix, archiveIdPattern } from '../../src/core/config';
import { s3Error } from '../../src/core/errors';

const MiB = 1024 * 1024;

describe('part size', () => {
  it('grows parts to 32 MiB, or more so that any archive fits in 10,000 parts', () => {
    assert.equal(choosePartSize(1000), 32 * MiB);
    assert.equal(choosePartSize(296 * 1024 * MiB), 32 * MiB);
    assert.equal(choosePartSize(297 * 1024 * MiB), 33 * MiB);
    for (const size of [80 * 1024 * MiB, 1024 * 1024 * MiB, maxObjectSize]) {
      const part = choosePartSize(size);
      assert.ok(uploadRequests(part, size) - 2 <= 10_000, `size ${size}`);
      assert.equal(part % MiB, 0);
      assert.ok(part <= 5 * 1024 * MiB);
    }
    assert.throws(() => choosePartSize(maxObjectSize + 1), /5 TiB object limit/);
  });
});

describe('ids and prefixes', () => {
  it('archive ids sort by time, carry their millisecond and 54 random bits', () => {
    const a = newArchiveId(new Date('2026-01-02T03:04:05.678Z'));
    assert.match(a, /^20260102T030405Z-[0-9a-f]{16}$/);
    assert.ok(archiveIdPattern.test(a));
    assert.equal(BigInt(`0x${a.slice(17)}`) >> 54n, 678n);
    assert.notEqual(newArchiveId(), newArchiveId());
  });

  it('prefixes are normalised to end with one slash', () => {
    assert.equal(normalisePrefix(undefined), 'glacier-backup/');
    assert.equal(normalisePrefix('/a/b//'), 'a/b/');
    assert.equal(normalisePrefix(''), '');
  });
});

describe('manifest parsing (untrusted input)', () => {
  const id = '20260102T030405Z-0123456789abcdef';
  const valid = {
    format: 'glacier-backup/manifest',
    version: 1,
    id,
    created: '2026-01-02T03:04:05.000Z',
    label: 'x',
    host: 'h',
    sources: [],
    fingerprint: 'f'.repeat(64),
    archive: { key: 'k', tarSize: 1024, size: 1100, sha256: 'ab'.repeat(32), storageClass: 'DEEP_ARCHIVE' },
    encryption: { mode: 'passphrase', recipients: [] },
    fileCount: 1,
    fileBytes: 3,
    entries: [{ path: 'a', type: 'file', size: 3, mtime: 0, mode: 420, sha256: 'cd'.repeat(32) }],
    skipped: [],
    changed: [],
  };
  const enc = (v: unknown): Uint8Array => Buffer.from(JSON.stringify(v));

  it('accepts a well-formed manifest', () => {
    assert.equal(parseManifest(enc(valid), id).entries.length, 1);
  });

  it('rejects garbage, other versions, a mismatched id and malformed entries', () => {
    assert.throws(() => parseManifest(Buffer.from('{nope'), id), /not valid JSON/);
    assert.throws(() => parseManifest(enc({ ...valid, version: 3 }), id), /format version 3 is not supported/);
    assert.throws(() => parseManifest(enc(valid), '20260102T030405Z-ffffffffffffffff'), /id does not match/);
    assert.throws(() => parseManifest(enc({ ...valid, entries: [{ path: 'a', type: 'fifo', size: 0, mtime: 0, mode: 0 }] }), id), /entry is malformed/);
    assert.throws(() => parseManifest(enc({ ...valid, archive: { ...valid.archive, size: -1 } }), id), /"archive" is incomplete/);
  });
});

describe('S3 errors', () => {
  it('become one clear line', () => {
    const ctx = { bucket: 'b', endpoint: 'http://x', action: 'list archives' };
    assert.equal(s3Error({ name: 'NoSuchBucket' }, ctx).message, 'bucket "b" does not exist at http://x');
    assert.match(s3Error({ name: 'InvalidAccessKeyId' }, ctx).message, /rejected the credentials/);
    assert.match(s3Error({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }, ctx).message, /access denied to bucket "b"/);
    assert.match(s3Error({ code: 'ECONNREFUSED', name: 'Error', message: 'connect ECONNREFUSED' }, ctx).message, /cannot reach S3 at http:\/\/x/);
    assert.doesNotMatch(s3Error({ name: 'X', message: 'line1\n  line2' }, ctx).message, /\n/);
  });

  it('say when retries ran out, and what kind of fault it was', () => {
    const ctx = { bucket: 'b', endpoint: 'http://x', action: 'upload the archive' };
    const attempts = { attempts: 5 };
    assert.equal(
      s3Error({ name: 'SlowDown', $metadata: { httpStatusCode: 503, ...attempts } }, ctx).message,
      'S3 at http://x kept failing while trying to upload the archive (SlowDown, HTTP 503); gave up after 5 attempts',
    );
    assert.equal(s3Error({ name: 'TimeoutError', message: 'socket timed out', $metadata: attempts }, ctx).message, 'S3 at http://x stopped answering while trying to upload the archive; gave up after 5 attempts');
    // The SDK names a reset connection TimeoutError too; the code tells them apart.
    assert.equal(
      s3Error({ name: 'TimeoutError', code: 'ECONNRESET', message: 'read ECONNRESET', $metadata: attempts }, ctx).message,
      'the connection to S3 at http://x kept dropping (ECONNRESET) while trying to upload the archive; gave up after 5 attempts',
    );
    assert.equal(s3Error({ name: 'InternalError', $metadata: { httpStatusCode: 500, attempts: 1 } }, ctx).code, 'unreachable');
  });
});

describe('upload failure classes', () => {
  it('tell an endpoint without checksum support from data damaged in transit', () => {
    assert.equal(isChecksumRejection({ name: 'NotImplemented', $metadata: { httpStatusCode: 501 } }), true);
    assert.equal(isChecksumRejection({ name: 'InvalidArgument', message: 'x-amz-checksum-crc32 header is not supported', $metadata: { httpStatusCode: 400 } }), true);
    const damaged = { name: 'BadDigest', message: 'The CRC32 you specified did not match the calculated checksum.', $metadata: { httpStatusCode: 400 } };
    assert.equal(isChecksumRejection(damaged), false);
    assert.equal(isBadDigest(damaged), true);
    assert.equal(isBadDigest(new Error('wrapped', { cause: damaged })), true);
    assert.equal(isChecksumRejection({ name: 'AccessDenied', message: 'denied', $metadata: { httpStatusCode: 403 } }), false);
  });
});

describe('crc32Combine', () => {
  it('gives the CRC32 of the concatenation, for any split (the whole-object check of a multipart upload)', () => {
    const data = randomBytes(300_000);
    for (const at of [0, 1, 7, 4096, 65_537, 299_999, 300_000]) {
      const a = data.subarray(0, at);
      const b = data.subarray(at);
      assert.equal(crc32Combine(zlib.crc32(a), zlib.crc32(b), b.length), zlib.crc32(data), `split at ${at}`);
    }
    // Combining with a run of zeros equals extending the CRC over those zeros.
    const zeros = Buffer.alloc(1 << 20);
    let extended = zlib.crc32(data);
    for (let i = 0; i < 3; i++) extended = zlib.crc32(zeros, extended);
    assert.equal(crc32Combine(zlib.crc32(data), zlib.crc32(Buffer.alloc(3 << 20)), 3 << 20), extended);
  });
});
