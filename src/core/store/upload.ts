/**
 * Upload of one object of unknown final length (an archive, or a manifest): one PutObject when it
 * fits in one part, else a multipart upload with a part size chosen from an upper bound of its
 * size so that it always fits in S3's 10,000 parts. Our own uploader rather than lib-storage's:
 * it can continue a multipart upload left by a killed run, and it reuses its part buffers.
 *
 * Guarantees: the object appears under its key only complete (S3 completes multipart uploads
 * atomically) and never replaces an existing object (If-None-Match). Each request is retried by
 * the client (see s3.ts); when a part still fails, the rest of the body is no longer read, the
 * requests in flight are aborted and the upload fails at once. When the upload fails or is
 * cancelled, the promise settles only after the multipart upload has been aborted, so no parts
 * are left behind to be billed; only a `Suspend` abort (errors.ts) or a killed process leaves
 * one, for `resume` to continue: a
 * stored part is kept only when its size and MD5 (its ETag) or CRC32 match the part the body
 * yields now, and is sent again otherwise. A failure reported after the last byte was sent (a
 * CompleteMultipartUpload or PutObject whose answer was lost, then retried) is resolved by
 * looking: if the object is there, it is verified like any other. When an attempt got no answer at
 * all, S3 may still be completing it, so the object is looked for during about two minutes.
 * After the upload the stored object is verified (HEAD: its size, and the CRC32 S3 computed, when
 * the endpoint keeps checksums); on a mismatch it is deleted and the upload fails ('corrupt').
 * Memory: at most partSize × queueSize bytes of part buffers, allocated as needed and reused (from
 * one upload to the next when the caller passes the same PartBuffers): the next part is filled
 * once fewer than queueSize parts are in flight.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
  type CompletedPart,
  type S3Client,
  type StorageClass,
} from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import * as zlib from 'node:zlib';
import { GlacierError, isNotFound, isSuspended, s3Error, suspendedMessage } from '../errors';
import { sendsChecksums } from './s3';

const MiB = 1 << 20;
export const minPartSize = 8 * MiB;
const maxParts = 10_000;
const maxPartSize = 5 * 1024 * MiB;
export const maxObjectSize = 5 * 1024 * 1024 * MiB;

/** Part size for an object of at most `sizeBound` bytes: ≥ 8 MiB, whole MiB, ≤ 9,500 parts (headroom). */
export function choosePartSize(sizeBound: number): number {
  if (sizeBound > maxObjectSize) {
    throw new GlacierError('usage', `the archive would be ${formatBytes(sizeBound)}, more than S3's 5 TiB object limit: back up less at once`);
  }
  const needed = Math.ceil(sizeBound / (maxParts - 500) / MiB) * MiB;
  return Math.min(maxPartSize, Math.max(minPartSize, needed));
}

/**
 * Part buffers kept for reuse: by the parts of one upload, and by the next upload given the same
 * pool (a backup's manifest reuses its archive's buffers, so it costs no new memory). Holds at
 * most `keep` free buffers.
 */
export class PartBuffers {
  private readonly free: Buffer[] = [];
  /** How many buffers were allocated so far. */
  made = 0;

  constructor(private readonly keep = 8) {}

  /** A buffer of at least `size` bytes (its contents are garbage). */
  take(size: number): Buffer {
    const i = this.free.findIndex((b) => b.byteLength >= size);
    if (i >= 0) return this.free.splice(i, 1)[0]!;
    this.made++;
    return Buffer.allocUnsafeSlow(size);
  }

  give(buffer: Buffer): void {
    if (this.free.length < this.keep) this.free.push(buffer);
  }
}

/** A part already stored in an unfinished multipart upload (ListParts). */
export interface StoredPart {
  size: number;
  etag: string;
  /** Base64 CRC32, when the upload was made with checksums. */
  crc32?: string;
}

export interface UploadRequest {
  client: S3Client;
  bucket: string;
  key: string;
  body: AsyncIterable<Uint8Array>;
  storageClass: StorageClass;
  partSize: number;
  queueSize: number;
  contentType?: string;
  /** What the object is, for messages: 'archive' (default) or 'manifest'. */
  what?: string;
  /** What failed, for the message when S3 keeps refusing (default `upload the ${what}`). */
  action?: string;
  /** Where part buffers come from and go back to (default: a pool of this upload's own). */
  buffers?: PartBuffers;
  signal?: AbortSignal;
  /** For messages: the endpoint, if not AWS. */
  endpoint?: string;
  /** Continue this unfinished multipart upload: parts stored that match the body are not sent again. */
  resume?: { uploadId: string; parts: ReadonlyMap<number, StoredPart> };
  /** Called once the multipart upload exists, before its first part is sent (to journal it). */
  onStarted?: (uploadId: string) => Promise<void> | void;
  /** Bytes stored in S3 so far (sent and acknowledged, or found already stored). */
  onUploaded?: (bytes: number) => void;
  /** Notes for the user (a lost answer resolved, a part sent again); never contains secrets. */
  onNotice?: (message: string) => void;
}

export interface UploadResult {
  size: number;
  /** How the stored object was checked: its size, and S3's CRC32 when the endpoint keeps it. */
  verified: 'size' | 'size+crc32';
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
  const crcs = typeof (zlib as { crc32?: unknown }).crc32 === 'function';
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
  const buffers = req.buffers ?? new PartBuffers(req.queueSize);
  const stats = { size: 0, uploaded: 0, differed: 0 };
  let partNumber = 0;
  let lastByteSent = false;
  /** Whether an attempt of the last request (the PUT or Complete) ended without an answer. */
  const last = { answerLost: false };

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

  /** Sends (or keeps) one part; waits while `queueSize` parts are in flight. Owns `buffer` from here on. */
  const dispatch = async (buffer: Buffer, length: number): Promise<void> => {
    const n = ++partNumber;
    if (n > maxParts) throw new GlacierError('usage', `the ${what} needs more than ${maxParts} parts of ${formatBytes(partSize)}`);
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
    const id = await startUpload();
    const command = new UploadPartCommand({
      Bucket: bucket,
      Key: key,
      UploadId: id,
      PartNumber: n,
      Body: body,
      ContentLength: length,
      ...(checksums && crc !== undefined ? { ChecksumCRC32: crcBase64(crc) } : {}),
    });
    const sending = client
      .send(command, inFlightOptions)
      .then((res) => {
        if (!res.ETag) throw new GlacierError('s3', `S3 returned no ETag for part ${n}`);
        completed[n - 1] = { PartNumber: n, ETag: res.ETag, ...(res.ChecksumCRC32 ? { ChecksumCRC32: res.ChecksumCRC32 } : {}) };
        stats.uploaded += length;
        req.onUploaded?.(stats.uploaded);
      })
      .catch((err: unknown) => fail('s3', err))
      .finally(() => {
        inFlight.delete(sending);
        release();
      });
    inFlight.add(sending);
  };

  const iterator = req.body[Symbol.asyncIterator]();
  let bodyDone = false;
  try {
    let buffer = buffers.take(partSize);
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
        const take = Math.min(chunk.byteLength - off, partSize - fill);
        buffer.set(chunk.subarray(off, off + take), fill);
        fill += take;
        off += take;
        if (fill === partSize) {
          await dispatch(buffer, fill);
          // A buffer to fill only once a part is done: queueSize buffers in all, not one more.
          while (inFlight.size >= req.queueSize && !failure) await orFailure(Promise.race(inFlight));
          buffer = buffers.take(partSize);
          fill = 0;
        }
      }
    }
    if (!failure && bodyDone) {
      if (partNumber === 0 && uploadId === undefined) {
        const body = buffer.subarray(0, fill);
        const crc = crcs ? zlib.crc32(body) : undefined;
        if (crc !== undefined) partCrcs.push(crc);
        lastByteSent = true;
        await client.send(
          watchAnswers(
            new PutObjectCommand({
              Bucket: bucket,
              Key: key,
              Body: body,
              ContentLength: fill,
              StorageClass: req.storageClass,
              ContentType: req.contentType ?? 'application/octet-stream',
              IfNoneMatch: '*',
              ...(checksums && crc !== undefined ? { ChecksumCRC32: crcBase64(crc) } : {}),
            }),
            last,
          ),
          inFlightOptions,
        );
        stats.uploaded = fill;
        req.onUploaded?.(fill);
        buffers.give(buffer);
      } else {
        if (fill > 0 || partNumber === 0) await dispatch(buffer, fill);
        while (inFlight.size > 0 && !failure) await orFailure(Promise.race(inFlight));
        if (!failure) {
          lastByteSent = true;
          await client.send(
            watchAnswers(
              new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId, IfNoneMatch: '*', MultipartUpload: { Parts: completed } }),
              last,
            ),
            inFlightOptions,
          );
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

  if (failure) {
    const f: Failure = failure;
    // Every byte was sent and only the answer is missing: the object may well be complete, or
    // (when an attempt got no answer at all) still being completed by S3.
    if (f.kind === 's3' && lastByteSent && (await appears(req, what, last.answerLost))) {
      req.onNotice?.(`S3 reported a failure after the whole ${what} was sent (${describeFailure(f.error)}), but the ${what} is stored: checking it`);
    } else if (f.kind === 'suspend') {
      // Left as it is for the next run to resume (see the journal in catalog/uploadJournal.ts).
      throw f.error;
    } else {
      await abortLeftovers(client, bucket, key, uploadId).catch(() => undefined);
      if (f.kind === 'cancel') throw new GlacierError('cancelled', 'backup cancelled');
      // The body's own failure (a read error while packing) is the caller's to explain.
      if (f.kind === 'body') throw f.error;
      if (isChecksumRejection(f.error) && checksums) throw new ChecksumsRejected(f.error);
      throw s3Error(f.error, where);
    }
  }
  const sums = { size: stats.size, partSize, parts: partCrcs, available: crcs };
  return { size: stats.size, verified: await verifyStored(req, sums, checksums) };
}

/** Whether a stored part holds exactly `body`: same size, and same MD5 (ETag) or CRC32, none differing. */
function partMatches(stored: StoredPart, body: Buffer, crc: number | undefined): boolean {
  if (stored.size !== body.byteLength) return false;
  let compared = false;
  const etag = stored.etag.replace(/"/g, '');
  if (/^[0-9a-f]{32}$/i.test(etag)) {
    if (createHash('md5').update(body).digest('hex') !== etag.toLowerCase()) return false;
    compared = true;
  }
  if (stored.crc32 && crc !== undefined) {
    if (crcBase64(crc) !== stored.crc32) return false;
    compared = true;
  }
  return compared;
}

/** The parts stored so far in an unfinished multipart upload, or undefined when it is gone. */
export async function storedParts(client: S3Client, bucket: string, key: string, uploadId: string): Promise<Map<number, StoredPart> | undefined> {
  const parts = new Map<number, StoredPart>();
  let marker: string | undefined;
  try {
    do {
      const page = await client.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumberMarker: marker }));
      for (const p of page.Parts ?? []) {
        if (p.PartNumber !== undefined && p.ETag !== undefined && p.Size !== undefined) {
          parts.set(p.PartNumber, { size: p.Size, etag: p.ETag, ...(p.ChecksumCRC32 ? { crc32: p.ChecksumCRC32 } : {}) });
        }
      }
      marker = page.IsTruncated ? page.NextPartNumberMarker : undefined;
    } while (marker !== undefined);
  } catch (err) {
    if ((err as { name?: string }).name === 'NoSuchUpload' || (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return undefined;
    throw err;
  }
  return parts;
}

/** The unfinished multipart uploads of exactly this key, oldest first. */
export async function openUploads(client: S3Client, bucket: string, key: string): Promise<{ uploadId: string; initiated?: Date }[]> {
  const list = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: key }));
  return (list.Uploads ?? [])
    .filter((u) => u.Key === key && u.UploadId)
    .map((u) => ({ uploadId: u.UploadId!, initiated: u.Initiated }))
    .sort((a, b) => (a.initiated?.getTime() ?? 0) - (b.initiated?.getTime() ?? 0));
}

function crcBase64(crc: number): string {
  return be32(crc).toString('base64');
}

interface Sums {
  size: number;
  /** CRC32 of each part, when zlib has crc32 (Node ≥ 20.15); all parts but the last are partSize long. */
  available: boolean;
  partSize: number;
  parts: number[];
}

/** Compares the stored object with what was sent; deletes it on a mismatch (or when it cannot be checked). */
async function verifyStored(req: UploadRequest, sums: Sums, checksums: boolean): Promise<UploadResult['verified']> {
  const { client, bucket, key } = req;
  const what = req.what ?? 'archive';
  let problem: string | undefined;
  let verified: UploadResult['verified'] = 'size';
  try {
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ...(checksums ? { ChecksumMode: 'ENABLED' as const } : {}) }));
    const multipart = /-\d+"?$/.test(head.ETag ?? '');
    if (head.ContentLength !== sums.size) {
      problem = `S3 holds ${head.ContentLength ?? '?'} bytes, ${sums.size} were sent`;
    } else if (head.ChecksumCRC32 && sums.available) {
      const stored = head.ChecksumCRC32.replace(/-\d+$/, '');
      const expected =
        multipart && head.ChecksumType !== 'FULL_OBJECT' ? crcBase64(zlib.crc32(Buffer.concat(sums.parts.map(be32)))) : crcBase64(wholeCrc(sums));
      if (stored !== expected) problem = `S3's CRC32 of the object is ${stored}, ${expected} was sent`;
      else verified = 'size+crc32';
    }
  } catch (err) {
    problem = `it could not be checked (${s3Error(err, { bucket, endpoint: req.endpoint, action: `check the uploaded ${what}` }).message})`;
  }
  if (problem !== undefined) {
    await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })).catch(() => undefined);
    throw new GlacierError('corrupt', `the uploaded ${what} does not match what was sent: ${problem}; it was deleted and nothing was recorded`);
  }
  return verified;
}

async function lookUp(client: S3Client, bucket: string, key: string): Promise<'present' | 'absent' | 'unknown'> {
  try {
    await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return 'present';
  } catch (err) {
    return isNotFound(err) ? 'absent' : 'unknown';
  }
}

/** Seconds between looks for an object whose last request got no answer: about two minutes in all. */
const lostAnswerWaits = [1, 2, 4, 8, 15, 30, 30, 30];

/**
 * Whether the object is in the bucket after its last request failed. When an attempt of that
 * request got no answer (`wait`), S3 may still be completing it (a large CompleteMultipartUpload
 * takes a while, and its retries meet NoSuchUpload meanwhile): it is looked for again for about
 * two minutes, while S3 answers that it is not there yet.
 */
async function appears(req: UploadRequest, what: string, wait: boolean): Promise<boolean> {
  const { client, bucket, key } = req;
  let state = await lookUp(client, bucket, key);
  if (!wait || state !== 'absent') return state === 'present';
  req.onNotice?.(`S3's answer to the last request of the ${what} was lost: waiting for the ${what} to appear`);
  for (const seconds of lostAnswerWaits) {
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    if (req.signal?.aborted) return false;
    state = await lookUp(client, bucket, key);
    if (state !== 'absent') return state === 'present';
  }
  return false;
}

/**
 * Notes in `last` when an attempt of `command` ends without an answer (a timeout, a dropped
 * connection): below the deserializer, only the HTTP handler's own failures are thrown, once per
 * attempt, and not S3's error answers.
 */
function watchAnswers<C extends PutObjectCommand | CompleteMultipartUploadCommand>(command: C, last: { answerLost: boolean }): C {
  // The middleware passes any input and output through, whichever the command's types are.
  (command as CompleteMultipartUploadCommand).middlewareStack.add(
    (next) => async (args) => {
      try {
        return await next(args);
      } catch (err) {
        last.answerLost = true;
        throw err;
      }
    },
    { step: 'deserialize', priority: 'low', name: 'glacierWatchAnswers' },
  );
  return command;
}

function describeFailure(err: unknown): string {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return [e.name, e.$metadata?.httpStatusCode].filter((x) => x !== undefined).join(' ') || 'no answer';
}

/** The endpoint refused the upload because of the S3 checksum headers (x-amz-checksum-*, x-amz-sdk-checksum-algorithm). */
export class ChecksumsRejected extends GlacierError {
  constructor(cause: unknown) {
    super('s3', `the endpoint does not accept S3 checksums (${describeFailure(cause)})`, { cause });
  }
}

export function isChecksumRejection(err: unknown): boolean {
  const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } } | undefined;
  const status = e?.$metadata?.httpStatusCode;
  if (isBadDigest(err)) return false; // the checksum was understood, and the data failed it
  if (status === 501 || e?.name === 'NotImplemented') return true;
  return (status === 400 || status === 403) && /checksum|x-amz-sdk|aws-chunked|trailer/i.test(`${e?.name ?? ''} ${e?.message ?? ''}`);
}

/** S3 received data that does not match the checksum sent with it: damaged in transit. */
export function isBadDigest(err: unknown): boolean {
  const e = err as { name?: string; message?: string; cause?: unknown } | undefined;
  if (e?.name === 'BadDigest' || e?.name === 'InvalidDigest' || /did not match the calculated checksum/i.test(e?.message ?? '')) return true;
  return e?.cause !== undefined && e.cause !== err && isBadDigest(e.cause);
}

/** The CRC32 of the whole body, combined from its parts' (one pass over the data, not two). */
function wholeCrc(sums: Sums): number {
  let crc = sums.parts[0] ?? 0;
  for (let i = 1; i < sums.parts.length; i++) {
    const length = i === sums.parts.length - 1 ? sums.size - i * sums.partSize : sums.partSize;
    crc = crc32Combine(crc, sums.parts[i]!, length);
  }
  return crc;
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

/**
 * Aborts the multipart upload `uploadId` when it is known, and any other still open for exactly
 * this key (best effort; the key is ours alone). A failure to abort `uploadId` other than "no such
 * upload" is thrown, after the others were tried.
 */
export async function abortLeftovers(client: S3Client, bucket: string, key: string, uploadId?: string): Promise<number> {
  let aborted = 0;
  let failure: { error: unknown } | undefined;
  if (uploadId !== undefined) {
    try {
      await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }));
      aborted++;
    } catch (err) {
      if ((err as { name?: string }).name !== 'NoSuchUpload') failure = { error: err };
    }
  }
  try {
    for (const open of await openUploads(client, bucket, key)) {
      await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: open.uploadId }));
      aborted++;
    }
  } catch {
    // The bucket's lifecycle rule for incomplete uploads is the last line of defence.
  }
  if (failure) throw failure.error;
  return aborted;
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}
