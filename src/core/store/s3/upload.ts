/**
 * Upload of one object of unknown final length (an archive, or a manifest): one PutObject when it
 * fits in one part, else a multipart upload with a part size chosen from an upper bound of its
 * size so that it always fits in S3's 10,000 parts. Our own uploader rather than lib-storage's:
 * it can continue a multipart upload left by a killed run, and it reuses its part buffers.
 *
 * Guarantees: the object appears under its key only complete (S3 completes multipart uploads
 * atomically) and never replaces an existing object (If-None-Match). Each request is retried by
 * the client (see s3.ts); when a part still fails, the rest of the body is no longer read, the
 * requests in flight are aborted and the upload fails at once; so it does when S3's MD5 of a part
 * (its ETag) differs from what was sent. When the upload fails or is
 * cancelled, the promise settles only after the multipart upload has been aborted, so no parts
 * are left behind to be billed (when aborting fails, onNotice says so and what stays); only a
 * `Suspend` abort (errors.ts) or a killed process leaves one, for `resume` to continue: a
 * stored part is kept only when its size and MD5 (its ETag) or CRC32 match the part the body
 * yields now, and is sent again otherwise. A failure reported after the last byte was sent (a
 * CompleteMultipartUpload or PutObject whose answer was lost, then retried) is resolved by
 * looking: if the object is there, it is verified like any other. When an attempt got no answer at
 * all, S3 may still be completing it, so the object is looked for during about two minutes.
 * After the upload the stored object is verified against what was sent (storedCheck.ts: read back
 * when allowed, else from the listing and S3's answer); on a mismatch the upload fails ('corrupt')
 * and the object is deleted when the credentials allow it.
 * Parts: 8 MiB, then growing to `partSize` (partSchedule.ts), so that a large object takes few
 * requests. Memory: at most 64 MiB of part buffers (or one part, when larger), counted in bytes,
 * with at most queueSize parts in flight; allocated as needed and reused (from one upload to the
 * next when the caller passes the same PartBuffers): the next part is filled while others are
 * sent as long as it fits beside them.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  UploadPartCommand,
  type CompletedPart,
  type S3Client,
  type StorageClass,
} from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import * as zlib from 'node:zlib';
import { GlacierError, isSuspended, s3Error, suspendedMessage } from '../../errors';
import { formatBytes } from '../../model/format';
import type { PutRequest } from '../archiveStore';
import { PartBuffers } from '../partBuffers';
import { fitsPartMemory, partLength, usualLargestPart } from '../partSchedule';
import { crc32Available, crcBase64, integrity } from './crc32';
import { abortLeftovers, partMatches } from './multipart';
import { sendsChecksums } from './client';
import { appears, keyTaken, verifyStored, type Sent } from './storedCheck';
import { ChecksumsRejected, describeFailure, isChecksumRejection, isKeyTaken, watchAnswers } from './uploadErrors';

export { crc32Combine } from './crc32';
export { ChecksumsRejected, isBadDigest, isChecksumRejection } from './uploadErrors';

const MiB = 1 << 20;
export { firstPartSize as minPartSize } from '../partSchedule';
const maxParts = 10_000;
const maxPartSize = 5 * 1024 * MiB;
export const maxObjectSize = 5 * 1024 * 1024 * MiB;

/**
 * The size an upload's parts grow to (partSchedule.ts) for an object of at most `sizeBound` bytes:
 * 64 MiB, or more when 9,500 parts (headroom below S3's 10,000) of it would not hold the object.
 */
export function choosePartSize(sizeBound: number): number {
  if (sizeBound > maxObjectSize) {
    throw new GlacierError('usage', `the archive would be ${formatBytes(sizeBound)}, more than S3's 5 TiB object limit: back up less at once`);
  }
  const needed = Math.ceil(sizeBound / (maxParts - 500) / MiB) * MiB;
  return Math.min(maxPartSize, Math.max(usualLargestPart, needed));
}

/** A put (archiveStore.ts PutRequest) as S3 takes it: the whole key, the class, the part size. */
export interface UploadRequest
  extends Pick<PutRequest, 'body' | 'contentType' | 'what' | 'action' | 'buffers' | 'signal' | 'resume' | 'onStarted' | 'onUploaded' | 'onNotice'> {
  client: S3Client;
  bucket: string;
  key: string;
  storageClass: StorageClass;
  /** The size parts grow to (partSchedule.ts); what a resumed upload was started with. */
  partSize: number;
  /** Parts in flight at most (connections), within the part memory (partSchedule.ts fitsPartMemory). */
  queueSize: number;
  /** For messages: the endpoint, if not AWS. */
  endpoint?: string;
}

export interface UploadResult {
  size: number;
  /**
   * What of the stored object was compared with what was sent, e.g. "size+crc32" (read back), or
   * "size+etag" (listing and S3's answer, when reading back is refused); "none" when nothing could be.
   */
  verified: string;
}

interface Failure {
  kind: 'cancel' | 'suspend' | 'body' | 's3';
  error: unknown;
}

export async function uploadObject(req: UploadRequest): Promise<UploadResult> {
  const { client, bucket, key, partSize } = req;
  const what = req.what ?? 'archive';
  const where = { bucket, endpoint: req.endpoint, action: req.action ?? `upload the ${what}` };
  const checksums = await sendsChecksums(client);
  const crcs = crc32Available;
  const inFlightAbort = new AbortController();
  let failure: Failure | undefined;
  // Waiters for "this settled, or the upload failed". Not a race with a never-settling promise:
  // each such race stays attached to it and keeps what it resolved with (every chunk) alive.
  const wakers = new Set<() => void>();
  const orFailure = <T>(p: Promise<T>): Promise<T | undefined> =>
    new Promise<T | undefined>((resolve, reject) => {
      if (failure) return resolve(undefined);
      const wakeUp = (): void => resolve(undefined);
      wakers.add(wakeUp);
      p.then(
        (v) => {
          wakers.delete(wakeUp);
          resolve(v);
        },
        (e: unknown) => {
          wakers.delete(wakeUp);
          reject(e);
        },
      );
    });
  const fail = (kind: Failure['kind'], error: unknown): void => {
    if (failure) return;
    failure = { kind, error };
    inFlightAbort.abort();
    for (const w of wakers) w();
    wakers.clear();
  };
  const onAbort = (): void =>
    isSuspended(req.signal) ? fail('suspend', new GlacierError('cancelled', suspendedMessage)) : fail('cancel', new GlacierError('cancelled', 'backup cancelled'));
  req.signal?.addEventListener('abort', onAbort, { once: true });
  if (req.signal?.aborted) onAbort();
  const inFlightOptions = { abortSignal: inFlightAbort.signal };

  let uploadId = req.resume?.uploadId;
  const completed: CompletedPart[] = [];
  const partCrcs: number[] = [];
  const inFlight = new Set<Promise<void>>();
  /** Bytes of the part buffers of the parts in flight. */
  let inFlightBytes = 0;
  const buffers = req.buffers ?? new PartBuffers(req.queueSize + 1);
  const stats = { size: 0, uploaded: 0, differed: 0 };
  let partNumber = 0;
  let lastByteSent = false;
  /** Whether an attempt of the last request (the PUT or Complete) ended without an answer. */
  const last = { answerLost: false };
  /** What S3 answered to the last request, and the MD5 of a single PUT's body. */
  let answer: Sent['answer'];
  let putMd5: string | undefined;

  const startUpload = async (): Promise<string> => {
    if (uploadId !== undefined) return uploadId;
    const created = await client.send(
      new CreateMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        StorageClass: req.storageClass,
        ContentType: req.contentType ?? 'application/octet-stream',
        ...(checksums && crcs ? { ChecksumAlgorithm: 'CRC32' as const } : {}),
      }),
      inFlightOptions,
    );
    if (!created.UploadId) throw new GlacierError('s3', 'S3 did not return an upload id');
    uploadId = created.UploadId;
    await req.onStarted?.(uploadId);
    return uploadId;
  };

  /** Sends (or keeps) one part; waits while as many parts are in flight as its size allows. Owns `buffer` from here on. */
  const dispatch = async (buffer: Buffer, length: number): Promise<void> => {
    const n = ++partNumber;
    if (n > maxParts) throw new GlacierError('usage', `the ${what} needs more than ${maxParts} parts of up to ${formatBytes(partSize)}`);
    const body = buffer.subarray(0, length);
    const crc = crcs ? zlib.crc32(body) : undefined;
    if (crc !== undefined) partCrcs.push(crc);
    const release = (): void => buffers.give(buffer);
    const stored = req.resume?.parts.get(n);
    if (stored && partMatches(stored, body, crc)) {
      completed[n - 1] = { PartNumber: n, ETag: stored.etag, ...(stored.crc32 ? { ChecksumCRC32: stored.crc32 } : {}) };
      stats.uploaded += length;
      req.onUploaded?.(stats.uploaded);
      release();
      return;
    }
    if (stored && !stats.differed++) req.onNotice?.(`part ${n} stored by the interrupted run differs from what was read now: sending it (and any other that differs) again`);
    while (inFlight.size >= req.queueSize && !failure) await orFailure(Promise.race(inFlight));
    if (failure) return release();
    // With a CRC32 header S3 checks the part itself and answers with it; the MD5 (Content-MD5,
    // or the ETag compared after) is computed only where that is not so.
    const sendsCrc = checksums && crc !== undefined;
    let md5 = sendsCrc ? undefined : md5Hex(body);
    const command = new UploadPartCommand({
      Bucket: bucket,
      Key: key,
      UploadId: await startUpload(),
      PartNumber: n,
      Body: body,
      ContentLength: length,
      ...integrity(checksums, crc, md5 ?? ''),
    });
    const sending = client
      .send(command, inFlightOptions)
      .then((res) => {
        if (!res.ETag) throw new GlacierError('s3', `S3 returned no ETag for part ${n}`);
        // S3's MD5 of the part (its ETag, unless SSE-KMS) is the only check of the stored bytes
        // that needs no read permission where the endpoint ignores checksums (it does not answer
        // with the CRC32 sent: moto, some S3-compatible stores); AWS S3 rejects a part whose
        // CRC32 differs (BadDigest) and answers with it.
        const etag = res.ETag.replace(/"/g, '').toLowerCase();
        const checkedByS3 = sendsCrc && res.ChecksumCRC32 === crcBase64(crc);
        if (!checkedByS3 && /^[0-9a-f]{32}$/.test(etag) && (md5 ??= md5Hex(body)) !== etag) {
          throw new GlacierError('corrupt', `S3 received part ${n} of the ${what} damaged in transit (its MD5 differs from what was sent)`);
        }
        completed[n - 1] = { PartNumber: n, ETag: res.ETag, ...(res.ChecksumCRC32 ? { ChecksumCRC32: res.ChecksumCRC32 } : {}) };
        stats.uploaded += length;
        req.onUploaded?.(stats.uploaded);
      })
      .catch((err: unknown) => fail('s3', err))
      .finally(() => {
        inFlight.delete(sending);
        inFlightBytes -= buffer.byteLength;
        release();
      });
    inFlight.add(sending);
    inFlightBytes += buffer.byteLength;
  };

  const iterator = req.body[Symbol.asyncIterator]();
  let bodyDone = false;
  try {
    let size = partLength(partSize, 1);
    let buffer = buffers.take(size);
    let fill = 0;
    while (!failure) {
      let next: IteratorResult<Uint8Array> | undefined;
      try {
        next = await orFailure(iterator.next());
      } catch (err) {
        bodyDone = true;
        fail('body', err);
        break;
      }
      if (next === undefined || failure) break;
      if (next.done) {
        bodyDone = true;
        break;
      }
      const chunk = next.value;
      stats.size += chunk.byteLength;
      for (let off = 0; off < chunk.byteLength && !failure; ) {
        const take = Math.min(chunk.byteLength - off, size - fill);
        buffer.set(chunk.subarray(off, off + take), fill);
        fill += take;
        off += take;
        if (fill === size) {
          await dispatch(buffer, fill);
          // The next buffer only once it fits beside the parts in flight (partMemory), not one more.
          size = partLength(partSize, partNumber + 1);
          while (!fitsPartMemory(inFlightBytes, size) && !failure) await orFailure(Promise.race(inFlight));
          buffer = buffers.take(size);
          fill = 0;
        }
      }
    }
    if (!failure && bodyDone) {
      if (partNumber === 0 && uploadId === undefined) {
        const body = buffer.subarray(0, fill);
        const crc = crcs ? zlib.crc32(body) : undefined;
        if (crc !== undefined) partCrcs.push(crc);
        putMd5 = md5Hex(body);
        lastByteSent = true;
        const put = await client.send(
          watchAnswers(
            new PutObjectCommand({
              Bucket: bucket,
              Key: key,
              Body: body,
              ContentLength: fill,
              StorageClass: req.storageClass,
              ContentType: req.contentType ?? 'application/octet-stream',
              IfNoneMatch: '*',
              ...integrity(checksums, crc, putMd5),
            }),
            last,
          ),
          inFlightOptions,
        );
        answer = { etag: put.ETag, crc32: put.ChecksumCRC32, type: put.ChecksumType };
        stats.uploaded = fill;
        req.onUploaded?.(fill);
        buffers.give(buffer);
      } else {
        if (fill > 0 || partNumber === 0) await dispatch(buffer, fill);
        while (inFlight.size > 0 && !failure) await orFailure(Promise.race(inFlight));
        if (!failure) {
          lastByteSent = true;
          const done = await client.send(
            watchAnswers(
              new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId, IfNoneMatch: '*', MultipartUpload: { Parts: completed } }),
              last,
            ),
            inFlightOptions,
          );
          answer = { etag: done.ETag, crc32: done.ChecksumCRC32, type: done.ChecksumType };
        }
      }
    }
  } catch (err) {
    fail(err instanceof GlacierError && err.code === 'usage' ? 'body' : 's3', err);
  } finally {
    req.signal?.removeEventListener('abort', onAbort);
    // Stop the packing side: its pending read settles first, then its generator closes.
    if (!bodyDone) void Promise.resolve(iterator.return?.()).catch(() => undefined);
    await Promise.allSettled([...inFlight]);
  }

  const target = { client, bucket, key, endpoint: req.endpoint, what, onNotice: req.onNotice };
  /** The last request met an object already under the key (If-None-Match: *). */
  const taken = failure?.kind === 's3' && lastByteSent && isKeyTaken(failure.error);
  if (failure) {
    const f: Failure = failure;
    if (taken && !last.answerLost) {
      // Every attempt was answered, so none of ours stored it: another put did, before ours
      // ended. Only this put's own upload is aborted: another open upload of the key may be the
      // winner's, still completing.
      if (uploadId !== undefined) {
        await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId })).catch((err: unknown) => {
          if ((err as { name?: string }).name === 'NoSuchUpload') return;
          const why = s3Error(err, { bucket, endpoint: req.endpoint, action: `abort the upload of the ${what}` }).message;
          req.onNotice?.(`the unfinished upload of ${key} could not be aborted (${why}): its parts stay in the bucket, billed, until "glacier-backup check --repair" or the bucket's lifecycle rule for incomplete uploads removes them`);
        });
      }
      throw keyTaken(target);
    }
    // Every byte was sent and only the answer is missing: the object may well be complete, or
    // (when an attempt got no answer at all) still being completed by S3.
    if (f.kind === 's3' && lastByteSent && (await appears(target, last.answerLost, req.signal))) {
      req.onNotice?.(`S3 reported a failure after the whole ${what} was sent (${describeFailure(f.error)}), but the ${what} is stored: checking it`);
    } else if (f.kind === 'suspend') {
      // Left as it is for the next run to resume (see the journal in catalog/uploadJournal.ts).
      throw f.error;
    } else {
      await abortLeftovers(client, bucket, key, uploadId).catch((err: unknown) => {
        const why = s3Error(err, { bucket, endpoint: req.endpoint, action: `abort the upload of the ${what}` }).message;
        req.onNotice?.(
          `the unfinished upload of ${key} could not be aborted (${why}): its parts stay in the bucket, billed, until "glacier-backup check --repair" or the bucket's lifecycle rule for incomplete uploads removes them`,
        );
      });
      if (f.kind === 'cancel') throw new GlacierError('cancelled', 'backup cancelled');
      // The body's own failure (a read error while packing) is the caller's to explain.
      if (f.kind === 'body') throw f.error;
      if (isChecksumRejection(f.error) && checksums) throw new ChecksumsRejected(f.error);
      throw s3Error(f.error, where);
    }
  }
  const multipart = uploadId !== undefined;
  const sent: Sent = {
    size: stats.size,
    ...(crcs ? { sums: { size: stats.size, partSize, parts: partCrcs } } : {}),
    multipart,
    etags: multipart ? completed.map((p) => p.ETag ?? '') : putMd5 ? [putMd5] : [],
    answer,
  };
  // A lost answer whose retry found the key taken: the object there is ours only if it is what
  // was sent; if not, it is another put's, which is left alone.
  return { size: stats.size, verified: await verifyStored(target, sent, checksums, taken ? 'conflict' : 'delete') };
}

function md5Hex(body: Uint8Array): string {
  return createHash('md5').update(body).digest('hex');
}
