/**
 * Is an object in the bucket, and is it what was sent? Read back with HEAD when the credentials
 * allow it (its size, and S3's CRC32 when the endpoint keeps checksums). With credentials that may
 * write but not read (the back-up-only policy of bucketCheck.ts: HEAD of an archive is refused),
 * from the bucket listing (size, ETag) and S3's answer to the write itself (ETag, CRC32), which
 * that policy allows.
 *
 * Guarantees: an object found different from what was sent is deleted when the credentials allow;
 * when they do not, the error says so, names what stays behind and how to remove it. No message
 * claims a deletion that did not happen.
 */
import { DeleteObjectCommand, HeadObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { GlacierError, isNotFound, s3Error } from '../../errors';
import { deleteOrSay } from '../leftovers';
import { compositeCrc, fullObjectCrc, type PartSums } from './crc32';

/** What an upload sent, to compare with what S3 holds. */
export interface Sent {
  /** Bytes sent. */
  size: number;
  /** The parts' CRC32s, when zlib has crc32. */
  sums?: PartSums;
  /** One PutObject (false) or a multipart upload (true). */
  multipart: boolean;
  /** Multipart: the ETags S3 gave the parts, in order. PutObject: the MD5 (hex) of the body. */
  etags: string[];
  /** S3's answer to the write that made the object (PutObject, CompleteMultipartUpload), when it came. */
  answer?: { etag?: string; crc32?: string; type?: string };
}

export interface Target {
  client: S3Client;
  bucket: string;
  key: string;
  endpoint?: string;
  /** What the object is, for messages ('archive', 'manifest'). */
  what: string;
  onNotice?: (message: string) => void;
}

/** S3 refused the request for want of permission (HTTP 403), as opposed to "not there" or a failure. */
export function isRefused(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } } | undefined;
  return e?.name === 'AccessDenied' || e?.$metadata?.httpStatusCode === 403;
}

/** The object's size and ETag as the bucket listing shows them (ListBucket only), or null when it is not listed. */
export async function listedObject(client: S3Client, bucket: string, key: string): Promise<{ size: number; etag?: string } | null> {
  // The key itself sorts first among the keys it prefixes.
  const res = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: key, MaxKeys: 1 }));
  const found = res.Contents?.find((o) => o.Key === key);
  return found ? { size: found.Size ?? 0, etag: found.ETag } : null;
}

/** Whether the object is there: HEAD, or the listing when HEAD is refused; 'unknown' when neither answers. */
export async function presence(client: S3Client, bucket: string, key: string): Promise<'present' | 'absent' | 'unknown'> {
  try {
    await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return 'present';
  } catch (err) {
    if (isNotFound(err)) return 'absent';
    if (!isRefused(err)) return 'unknown';
  }
  try {
    return (await listedObject(client, bucket, key)) ? 'present' : 'absent';
  } catch {
    return 'unknown';
  }
}

/** Like presence, but throws (one line) when neither HEAD nor the listing answers. */
export async function isPresent(client: S3Client, where: { bucket: string; endpoint?: string }, key: string, action = `check ${key}`): Promise<boolean> {
  try {
    await client.send(new HeadObjectCommand({ Bucket: where.bucket, Key: key }));
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    if (!isRefused(err)) throw s3Error(err, { ...where, action });
  }
  try {
    return (await listedObject(client, where.bucket, key)) !== null;
  } catch (err) {
    throw s3Error(err, { ...where, action });
  }
}

/** Deletes an object of the bucket that must not stay, or says why it stays (leftovers.ts). */
export function deleteOrSayS3(client: S3Client, where: { bucket: string; endpoint?: string }, key: string, what: string): Promise<string | undefined> {
  const remove = async (k: string, options?: { action?: string }): Promise<void> => {
    try {
      await client.send(new DeleteObjectCommand({ Bucket: where.bucket, Key: k }));
    } catch (err) {
      throw s3Error(err, { ...where, action: options?.action ?? `delete ${k}` });
    }
  };
  return deleteOrSay({ delete: remove, objectKey: (k) => k }, key, what);
}

/**
 * Compares the stored object with what was sent; on a mismatch (or when it cannot be checked at
 * all), deletes it if allowed and fails ('corrupt'). Returns what was compared, e.g. "size+crc32".
 * With `ifDifferent: 'conflict'` (the object was found under a key a conditional write saw taken,
 * so it may be another writer's), a mismatch fails with 'conflict' and nothing is deleted.
 */
export async function verifyStored(t: Target, sent: Sent, checksums: boolean, ifDifferent: 'delete' | 'conflict' = 'delete'): Promise<string> {
  const compared: string[] = [];
  let problem: string | undefined;
  try {
    const head = await t.client.send(new HeadObjectCommand({ Bucket: t.bucket, Key: t.key, ...(checksums ? { ChecksumMode: 'ENABLED' as const } : {}) }));
    // Not the object S3 answered our write with: another put replaced it, which S3's
    // If-None-Match forbids but a store that does not enforce it atomically may let happen.
    if (sent.answer?.etag && head.ETag && unquoted(head.ETag) !== unquoted(sent.answer.etag)) throw replaced(t);
    if (head.ContentLength !== sent.size) {
      problem = `S3 holds ${head.ContentLength ?? '?'} bytes, ${sent.size} were sent`;
    } else {
      compared.push('size');
      problem = compareCrc(sent, head.ChecksumCRC32, head.ChecksumType, compared);
      // Without a CRC32 (an endpoint that keeps none, checksums refused), the ETag is S3's MD5 of
      // what it stored, except under SSE-KMS or SSE-C, where it says nothing about the bytes.
      const md5Etag = !head.SSECustomerAlgorithm && !head.ServerSideEncryption?.startsWith('aws:kms');
      if (problem === undefined && !compared.includes('crc32') && md5Etag) problem = compareEtag(sent, head.ETag, compared);
    }
  } catch (err) {
    if (err instanceof GlacierError && err.code === 'conflict') throw err;
    problem = isRefused(err)
      ? await verifyUnread(t, sent, compared, err)
      : `it could not be checked (${s3Error(err, { bucket: t.bucket, endpoint: t.endpoint, action: `check the uploaded ${t.what}` }).message})`;
  }
  if (problem !== undefined && ifDifferent === 'conflict') throw keyTaken(t, problem);
  if (problem !== undefined) {
    const left = await deleteOrSayS3(t.client, t, t.key, t.what);
    const outcome = left === undefined ? 'it was deleted and nothing was recorded' : `nothing was recorded, and it ${left}`;
    throw new GlacierError('corrupt', `the uploaded ${t.what} does not match what was sent: ${problem}; ${outcome}`);
  }
  return compared.join('+') || 'none';
}

/** A put found its key taken (If-None-Match): objects are never replaced. `problem` says how the object there differs. */
export function keyTaken(t: Pick<Target, 'bucket' | 'key'>, problem?: string): GlacierError {
  const differs = problem === undefined ? '' : ` and is not what was sent (${problem})`;
  return new GlacierError('conflict', `s3://${t.bucket}/${t.key} already exists${differs}; objects are never replaced`);
}

/** Our write was answered, and then another write's object was found under the key: left alone. */
function replaced(t: Pick<Target, 'bucket' | 'key'>): GlacierError {
  return new GlacierError('conflict', `s3://${t.bucket}/${t.key} was written by another put at the same time; objects are never replaced`);
}

const unquoted = (etag: string): string => etag.replace(/"/g, '').toLowerCase();

/** The check when reading the object back is refused: the listing's size and ETag, the answer's ETag and CRC32. */
async function verifyUnread(t: Target, sent: Sent, compared: string[], refusal: unknown): Promise<string | undefined> {
  let listed: { size: number; etag?: string } | null | undefined;
  try {
    listed = await listedObject(t.client, t.bucket, t.key);
  } catch {
    listed = undefined; // listing refused too: S3's answer is all there is
  }
  if (listed === null) return 'it is not in the bucket listing';
  if (listed) {
    if (listed.size !== sent.size) return `S3 lists ${listed.size} bytes, ${sent.size} were sent`;
    compared.push('size');
  }
  const etag = listed?.etag ?? sent.answer?.etag;
  const problem = compareEtag(sent, etag, compared) ?? compareCrc(sent, sent.answer?.crc32, sent.answer?.type, compared);
  if (problem !== undefined) return problem;
  const denied = s3Error(refusal, { bucket: t.bucket, endpoint: t.endpoint, action: `read the uploaded ${t.what} back` }).message;
  t.onNotice?.(
    compared.length > 0
      ? `${denied}: checked its ${compared.join(' and ')} from the bucket listing and S3's answer to the upload instead`
      : `${denied}, and S3's answer to the upload held nothing to compare: the stored ${t.what} was not checked`,
  );
  return undefined;
}

function compareEtag(sent: Sent, stored: string | undefined, compared: string[]): string | undefined {
  const expected = expectedEtag(sent);
  const actual = stored?.replace(/"/g, '').toLowerCase();
  // An ETag that is no MD5 (SSE-KMS, some S3-compatible stores) says nothing about the bytes.
  if (expected === undefined || actual === undefined || !/^[0-9a-f]{32}(-\d+)?$/.test(actual)) return undefined;
  if (actual !== expected) return `S3's ETag of the object is ${actual}, ${expected} was expected from the parts sent`;
  compared.push('etag');
  return undefined;
}

/** The ETag S3 gives an object made of what was sent, when every part's ETag is an MD5. */
function expectedEtag(sent: Sent): string | undefined {
  const md5s = sent.etags.map((e) => e.replace(/"/g, '').toLowerCase());
  if (md5s.length === 0 || !md5s.every((e) => /^[0-9a-f]{32}$/.test(e))) return undefined;
  if (!sent.multipart) return md5s[0];
  const whole = createHash('md5').update(Buffer.concat(md5s.map((e) => Buffer.from(e, 'hex')))).digest('hex');
  return `${whole}-${md5s.length}`;
}

function compareCrc(sent: Sent, stored: string | undefined, type: string | undefined, compared: string[]): string | undefined {
  if (!stored || !sent.sums) return undefined;
  const actual = stored.replace(/-\d+$/, '');
  const expected = sent.multipart && type !== 'FULL_OBJECT' ? compositeCrc(sent.sums) : fullObjectCrc(sent.sums);
  if (actual !== expected) return `S3's CRC32 of the object is ${actual}, ${expected} was sent`;
  compared.push('crc32');
  return undefined;
}

/** Seconds between looks for an object whose last request got no answer: about two minutes in all. */
const lostAnswerWaits = [1, 2, 4, 8, 15, 30, 30, 30];

/**
 * Whether the object is in the bucket after its last request failed. When an attempt of that
 * request got no answer (`wait`), S3 may still be completing it (a large CompleteMultipartUpload
 * takes a while, and its retries meet NoSuchUpload meanwhile): it is looked for again for about
 * two minutes, while S3 answers that it is not there yet.
 */
export async function appears(t: Target, wait: boolean, signal?: AbortSignal): Promise<boolean> {
  let state = await presence(t.client, t.bucket, t.key);
  if (!wait || state !== 'absent') return state === 'present';
  t.onNotice?.(`S3's answer to the last request of the ${t.what} was lost: waiting for the ${t.what} to appear`);
  for (const seconds of lostAnswerWaits) {
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    if (signal?.aborted) return false;
    state = await presence(t.client, t.bucket, t.key);
    if (state !== 'absent') return state === 'present';
  }
  return false;
}
