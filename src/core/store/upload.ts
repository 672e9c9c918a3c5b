/**
 * Multipart upload of one archive object of unknown final length, with a part size chosen from
 * an upper bound of its size so that it always fits in S3's 10,000 parts.
 *
 * Guarantees: the object appears under its key only complete (S3 completes multipart uploads
 * atomically) and never replaces an existing object (If-None-Match). Each request is retried by
 * the client (see s3.ts); when a part still fails, the rest of the body is no longer read and the
 * upload fails at once. When the upload fails or is cancelled, the promise settles only after the
 * multipart upload has been aborted, so no parts are left behind to be billed. A failure reported
 * after the last byte was sent (a CompleteMultipartUpload or PutObject whose answer was lost, then
 * retried) is resolved by looking: if the object is there, it is verified like any other.
 * After the upload the stored object is verified (HEAD: its size, and the CRC32 S3 computed, when
 * the endpoint keeps checksums); on a mismatch it is deleted and the upload fails ('corrupt').
 * Memory: at most partSize × (queueSize + 1) bytes of buffered parts.
 */
import {
  AbortMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  UploadPartCommand,
  type S3Client,
  type StorageClass,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import { GlacierError, s3Error } from '../errors';
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

export interface UploadRequest {
  client: S3Client;
  bucket: string;
  key: string;
  body: AsyncIterable<Uint8Array>;
  storageClass: StorageClass;
  partSize: number;
  queueSize: number;
  contentType?: string;
  signal?: AbortSignal;
  /** For messages: the endpoint, if not AWS. */
  endpoint?: string;
  /** Bytes acknowledged by S3 so far. */
  onUploaded?: (bytes: number) => void;
  /** Notes for the user (a lost answer resolved, a check skipped); never contains secrets. */
  onNotice?: (message: string) => void;
}

export interface UploadResult {
  size: number;
  /** How the stored object was checked: its size, and S3's CRC32 when the endpoint keeps it. */
  verified: 'size' | 'size+crc32';
}

export async function uploadObject(req: UploadRequest): Promise<UploadResult> {
  const { client, bucket, key } = req;
  const where = { bucket, endpoint: req.endpoint, action: 'upload the archive' };
  const checksums = await sendsChecksums(client);
  let cancelled = false;
  const sums = new Checksums(req.partSize);
  const source = Readable.from(guard(req.body, () => cancelled, sums));
  // A part (or the upload's creation) that failed after all its retries stops the others from
  // reading more of the body.
  let partFailure: unknown;
  const failFast = new Proxy(client, {
    get(target, prop, receiver) {
      if (prop !== 'send') return Reflect.get(target, prop, receiver) as unknown;
      return (command: Parameters<S3Client['send']>[0], options?: Parameters<S3Client['send']>[1]) =>
        target.send(command, options).catch((err: unknown) => {
          if (partFailure === undefined && (command instanceof UploadPartCommand || command instanceof CreateMultipartUploadCommand)) {
            partFailure = err;
            source.destroy(new GlacierError('cancelled', 'stopped after a failed part'));
          }
          throw err;
        });
    },
  });
  const upload = new Upload({
    client: failFast,
    params: {
      Bucket: bucket,
      Key: key,
      Body: source,
      StorageClass: req.storageClass,
      ContentType: req.contentType ?? 'application/octet-stream',
      IfNoneMatch: '*',
    },
    partSize: req.partSize,
    queueSize: req.queueSize,
    leavePartsOnError: false,
  });
  upload.on('httpUploadProgress', (p) => {
    if (p.loaded !== undefined) req.onUploaded?.(p.loaded);
  });
  // Cancel by failing the body and aborting the requests in flight: on a stalled network, parts
  // would otherwise be waited for until they time out. lib-storage's abort() returns before it
  // has cleaned up, so the catch below sweeps the multipart upload itself (abortLeftovers).
  const onAbort = (): void => {
    cancelled = true;
    source.destroy(new GlacierError('cancelled', 'backup cancelled'));
    void upload.abort().catch(() => undefined);
  };
  req.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    if (req.signal?.aborted) onAbort();
    await upload.done();
  } catch (err) {
    await abortLeftovers(client, bucket, key);
    if (cancelled) throw new GlacierError('cancelled', 'backup cancelled');
    // The body's own failure (a read error while packing) is the caller's to explain.
    if (sums.bodyFailure && partFailure === undefined) throw sums.bodyFailure.error;
    const failure = partFailure ?? err;
    // Every byte was sent and only the answer is missing: the object may well be complete.
    if (!sums.ended || partFailure !== undefined || !(await exists(client, bucket, key))) {
      if (isChecksumRejection(failure) && checksums) throw new ChecksumsRejected(failure);
      throw s3Error(failure, where);
    }
    req.onNotice?.(`S3 reported a failure after the whole archive was sent (${describeFailure(failure)}), but the archive is stored: checking it`);
  } finally {
    req.signal?.removeEventListener('abort', onAbort);
  }
  return verifyStored(req, sums, checksums);
}

/** Compares the stored object with what was sent; deletes it on a mismatch (or when it cannot be checked). */
async function verifyStored(req: UploadRequest, sums: Checksums, checksums: boolean): Promise<UploadResult> {
  const { client, bucket, key } = req;
  let problem: string | undefined;
  let verified: UploadResult['verified'] = 'size';
  try {
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ...(checksums ? { ChecksumMode: 'ENABLED' as const } : {}) }));
    const multipart = /-\d+"?$/.test(head.ETag ?? '');
    if (head.ContentLength !== sums.size) {
      problem = `S3 holds ${head.ContentLength ?? '?'} bytes, ${sums.size} were sent`;
    } else if (head.ChecksumCRC32 && sums.available) {
      const stored = head.ChecksumCRC32.replace(/-\d+$/, '');
      const expected = multipart && head.ChecksumType !== 'FULL_OBJECT' ? sums.composite() : sums.full();
      if (stored !== expected) problem = `S3's CRC32 of the object is ${stored}, ${expected} was sent`;
      else verified = 'size+crc32';
    }
  } catch (err) {
    problem = `it could not be checked (${s3Error(err, { bucket, endpoint: req.endpoint, action: 'check the uploaded archive' }).message})`;
  }
  if (problem !== undefined) {
    await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })).catch(() => undefined);
    throw new GlacierError('corrupt', `the uploaded archive does not match what was sent: ${problem}; it was deleted and nothing was recorded`);
  }
  return { size: sums.size, verified };
}

async function exists(client: S3Client, bucket: string, key: string): Promise<boolean> {
  try {
    await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch {
    return false;
  }
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

/** CRC32 of the whole body and of each part (for S3's composite checksum of a multipart object). */
class Checksums {
  readonly available = typeof (zlib as { crc32?: unknown }).crc32 === 'function';
  size = 0;
  ended = false;
  /** The body itself failed (the packing side): not S3's doing. */
  bodyFailure?: { error: unknown };
  private whole = 0;
  private part = 0;
  private inPart = 0;
  private readonly parts: number[] = [];
  constructor(private readonly partSize: number) {}

  update(chunk: Uint8Array): void {
    this.size += chunk.byteLength;
    if (!this.available) return;
    this.whole = zlib.crc32(chunk, this.whole);
    for (let off = 0; off < chunk.byteLength; ) {
      const take = Math.min(chunk.byteLength - off, this.partSize - this.inPart);
      this.part = zlib.crc32(chunk.subarray(off, off + take), this.part);
      this.inPart += take;
      off += take;
      if (this.inPart === this.partSize) this.closePart();
    }
  }

  full(): string {
    return be32(this.whole).toString('base64');
  }

  composite(): string {
    const parts = [...this.parts, ...(this.inPart > 0 ? [this.part] : [])];
    return be32(zlib.crc32(Buffer.concat(parts.map(be32)))).toString('base64');
  }

  private closePart(): void {
    this.parts.push(this.part);
    this.part = 0;
    this.inPart = 0;
  }
}

function be32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

async function* guard(body: AsyncIterable<Uint8Array>, isCancelled: () => boolean, sums: Checksums): AsyncGenerator<Uint8Array> {
  try {
    for await (const chunk of body) {
      if (isCancelled()) throw new GlacierError('cancelled', 'backup cancelled');
      sums.update(chunk);
      yield chunk;
    }
  } catch (err) {
    sums.bodyFailure = { error: err };
    throw err;
  }
  sums.ended = true;
}

/** Aborts any multipart upload still open for exactly this key (best effort; the key is ours alone). */
export async function abortLeftovers(client: S3Client, bucket: string, key: string): Promise<number> {
  let aborted = 0;
  try {
    const list = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: key }));
    for (const u of list.Uploads ?? []) {
      if (u.Key !== key || !u.UploadId) continue;
      await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: u.UploadId }));
      aborted++;
    }
  } catch {
    // The bucket's lifecycle rule for incomplete uploads is the last line of defence.
  }
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
