/**
 * Multipart upload of one archive object of unknown final length, with a part size chosen from
 * an upper bound of its size so that it always fits in S3's 10,000 parts.
 *
 * Guarantees: the object appears under its key only complete (S3 completes multipart uploads
 * atomically) and never replaces an existing object (If-None-Match). When the upload fails or is
 * cancelled, the promise settles only after the multipart upload has been aborted, so no parts are
 * left behind to be billed. Memory: at most partSize × (queueSize + 1) bytes of buffered parts.
 */
import { AbortMultipartUploadCommand, ListMultipartUploadsCommand, type S3Client, type StorageClass } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { Readable } from 'node:stream';
import { GlacierError } from '../errors';

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
  /** Bytes acknowledged by S3 so far. */
  onUploaded?: (bytes: number) => void;
}

export async function uploadObject(req: UploadRequest): Promise<void> {
  let cancelled = false;
  const source = Readable.from(guard(req.body, () => cancelled));
  const upload = new Upload({
    client: req.client,
    params: {
      Bucket: req.bucket,
      Key: req.key,
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
  // Cancel by failing the body: lib-storage then waits for parts in flight and aborts the
  // multipart upload before done() settles (its own abort() returns before cleaning up).
  const onAbort = (): void => {
    cancelled = true;
    source.destroy(new GlacierError('cancelled', 'backup cancelled'));
  };
  req.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    if (req.signal?.aborted) onAbort();
    await upload.done();
  } catch (err) {
    await abortLeftovers(req.client, req.bucket, req.key);
    if (cancelled) throw new GlacierError('cancelled', 'backup cancelled');
    throw err;
  } finally {
    req.signal?.removeEventListener('abort', onAbort);
  }
}

async function* guard(body: AsyncIterable<Uint8Array>, isCancelled: () => boolean): AsyncGenerator<Uint8Array> {
  for await (const chunk of body) {
    if (isCancelled()) throw new GlacierError('cancelled', 'backup cancelled');
    yield chunk;
  }
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
