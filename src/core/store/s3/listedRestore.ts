/**
 * The S3 store's listing, with each cold object's restore state when the server reports it.
 *
 * ListObjectsV2 with `OptionalObjectAttributes: ['RestoreStatus']` (the header
 * x-amz-optional-object-attributes) makes AWS S3 return, per object being restored or restored,
 * `RestoreStatus { IsRestoreInProgress, RestoreExpiryDate }`; an object never restored, or whose
 * copy expired, carries none. One LIST then gives the states of 1,000 archives, where a HEAD gives
 * one. But an S3-compatible server that ignores the attribute (MinIO, Ceph, moto 5.2.1) also
 * returns no RestoreStatus, and there that absence says nothing: a restored archive would show as
 * archived. Hence the one rule of trust, `trustsListedRestore`:
 *
 * - the server is AWS (no custom endpoint, or an `*.amazonaws.com` one; `.com.cn` in China), or
 * - a listing by this store showed a RestoreStatus on at least one object: the server
 *   demonstrably supports the attribute.
 *
 * Only then does a listed object carry `glacier`; otherwise it is absent and callers HEAD as before.
 * Objects of pages listed before the server proved itself stay without it (conservative: HEADs).
 * Every field is untrusted: a RestoreStatus that does not say enough (a finished restore without
 * a valid expiry) leaves that object's state to a HEAD. A page the SDK cannot parse with the
 * attribute (a malformed RestoreExpiryDate fails the whole page), or that the server refuses
 * (400, 501), is listed again without it, and this store stops asking.
 */
import { ListObjectsV2Command, type ListObjectsV2CommandOutput, type S3Client } from '@aws-sdk/client-s3';
import type { StoreConfig } from '../../config';
import { listedGlacierState, type ListedRestore } from '../../model/glacierState';
import type { StoredObject } from '../archiveStore';

/** Whether requests go to AWS S3 itself: no custom endpoint, or a host under amazonaws.com (amazonaws.com.cn in China). */
export function isAwsEndpoint(endpoint: string | undefined): boolean {
  if (!endpoint) return true;
  try {
    const host = new URL(endpoint).hostname.toLowerCase().replace(/\.$/, '');
    return /(^|\.)amazonaws\.com(\.cn)?$/.test(host);
  } catch {
    return false;
  }
}

/** The rule of trust (see the top of this file), in one place. */
export function trustsListedRestore(endpoint: string | undefined, sawRestoreStatus: boolean): boolean {
  return isAwsEndpoint(endpoint) || sawRestoreStatus;
}

/** What one store learnt of its server's listings; lives as long as the store. */
export interface ListingKnowledge {
  /** A listing showed a RestoreStatus: the server supports the attribute. */
  sawRestoreStatus: boolean;
  /** A listing with the attribute failed and went through without it: stop asking. */
  attributeRefused: boolean;
}

/** Every object under `prefix` (full keys), page by page; `fail` turns an SDK error into the store's error. */
export async function* listWithRestore(
  client: S3Client,
  config: StoreConfig,
  prefix: string,
  known: ListingKnowledge,
  signal: AbortSignal | undefined,
  fail: (err: unknown) => Error,
): AsyncGenerator<StoredObject> {
  let token: string | undefined;
  do {
    const page = await listPage(client, config.bucket, prefix, token, known, signal, fail);
    const contents = page.Contents ?? [];
    if (contents.some((o) => o.RestoreStatus)) known.sawRestoreStatus = true;
    const trusted = !known.attributeRefused && trustsListedRestore(config.endpoint, known.sawRestoreStatus);
    const now = new Date();
    for (const o of contents) {
      if (!o.Key?.startsWith(prefix)) continue;
      const storageClass = o.StorageClass ?? 'STANDARD';
      const glacier = trusted ? listedGlacierState(storageClass, restoreOf(o.RestoreStatus), now) : undefined;
      yield {
        key: o.Key.slice(config.prefix.length),
        size: o.Size ?? 0,
        storageClass,
        ...(o.LastModified ? { lastModified: o.LastModified } : {}),
        ...(o.ETag ? { etag: o.ETag } : {}),
        ...(glacier ? { glacier } : {}),
      };
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
}

async function listPage(
  client: S3Client,
  bucket: string,
  prefix: string,
  token: string | undefined,
  known: ListingKnowledge,
  signal: AbortSignal | undefined,
  fail: (err: unknown) => Error,
): Promise<ListObjectsV2CommandOutput> {
  const send = (withAttribute: boolean): Promise<ListObjectsV2CommandOutput> =>
    client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token, ...(withAttribute ? { OptionalObjectAttributes: ['RestoreStatus'] } : {}) }), { abortSignal: signal });
  let refused = known.attributeRefused;
  if (!refused) {
    try {
      return await send(true);
    } catch (err) {
      if (signal?.aborted || !attributeFailure(err)) throw fail(err);
      refused = true;
    }
  }
  try {
    const page = await send(false);
    known.attributeRefused = refused;
    return page;
  } catch (err) {
    throw fail(err);
  }
}

/** A failure the attribute may have caused: an answer the SDK could not parse, or a server refusing it. */
function attributeFailure(err: unknown): boolean {
  const e = err as { $metadata?: { httpStatusCode?: number }; $response?: unknown; message?: unknown };
  if (e.$response !== undefined && typeof e.message === 'string' && e.message.includes('Deserialization error')) return true;
  const status = e.$metadata?.httpStatusCode;
  return status === 400 || status === 501;
}

/** The SDK's RestoreStatus as the model reads it; a field of the wrong type is dropped. */
function restoreOf(status: { IsRestoreInProgress?: unknown; RestoreExpiryDate?: unknown } | undefined): ListedRestore | undefined {
  if (!status) return undefined;
  return {
    ...(typeof status.IsRestoreInProgress === 'boolean' ? { inProgress: status.IsRestoreInProgress } : {}),
    ...(status.RestoreExpiryDate instanceof Date ? { expiry: status.RestoreExpiryDate } : {}),
  };
}
