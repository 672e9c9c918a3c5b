/**
 * The multipart uploads of one key as S3 keeps them between runs: which are open, which parts
 * they hold, whether a stored part holds given bytes, and aborting them. Needs only
 * ListBucketMultipartUploads, ListMultipartUploadParts and AbortMultipartUpload (the back-up-only
 * policy of bucketCheck.ts allows all three).
 */
import { AbortMultipartUploadCommand, ListMultipartUploadsCommand, ListPartsCommand, type S3Client } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import type { StoredPart } from '../archiveStore';
import { crcBase64 } from './crc32';

export type { StoredPart };

/** Whether a stored part holds exactly `body`: same size, and same MD5 (ETag) or CRC32, none differing. */
export function partMatches(stored: StoredPart, body: Buffer, crc: number | undefined): boolean {
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

/** Every multipart upload open under the prefix, in S3's order (by key, then by when it started). */
export async function openUploadsUnder(client: S3Client, bucket: string, prefix: string, signal?: AbortSignal): Promise<{ key: string; uploadId: string; initiated?: Date }[]> {
  const out: { key: string; uploadId: string; initiated?: Date }[] = [];
  let keyMarker: string | undefined;
  let uploadIdMarker: string | undefined;
  for (;;) {
    const page = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker }), { abortSignal: signal });
    for (const u of page.Uploads ?? []) if (u.Key && u.UploadId) out.push({ key: u.Key, uploadId: u.UploadId, ...(u.Initiated ? { initiated: u.Initiated } : {}) });
    if (!page.IsTruncated) return out;
    keyMarker = page.NextKeyMarker;
    uploadIdMarker = page.NextUploadIdMarker;
    if (!keyMarker && !uploadIdMarker) return out;
  }
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

