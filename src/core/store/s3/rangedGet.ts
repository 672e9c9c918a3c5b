/**
 * Reads a whole object as a stream that survives dropped connections: when the body fails midway
 * it asks again for the remaining bytes (Range + If-Match on the first ETag, so a replaced object
 * is never spliced in), with a short backoff, a bounded number of times.
 */
import { GetObjectCommand, type GetObjectCommandOutput, type S3Client } from '@aws-sdk/client-s3';
import { GlacierError, oneLine, s3Error } from '../../errors';

export interface RangedGetOptions {
  client: S3Client;
  bucket: string;
  key: string;
  /** Read exactly this version (If-Match from the first byte); else the first response's ETag. */
  etag?: string;
  signal?: AbortSignal;
  /** Attempts to resume after a failure (default 5). */
  maxResumes?: number;
  /** Called when a resume starts, with the offset it resumes from. */
  onResume?: (offset: number) => void;
}

/** What the first request found; `body` holds its bytes and asks again for the rest when it drops. */
export interface RangedRead {
  size: number;
  etag?: string;
  body: AsyncGenerator<Uint8Array>;
}

/** Sends the first request; its errors (not restored, no such key…) propagate unchanged to the caller. */
export async function rangedGet(options: RangedGetOptions): Promise<RangedRead> {
  const { client, bucket, key, signal } = options;
  const get = (etag: string | undefined, offset: number): Promise<GetObjectCommandOutput> =>
    client.send(
      new GetObjectCommand({ Bucket: bucket, Key: key, ...(etag ? { IfMatch: etag } : {}), ...(offset > 0 ? { Range: `bytes=${offset}-` } : {}) }),
      { abortSignal: signal },
    );
  const first = await get(options.etag, 0);
  const etag = options.etag ?? first.ETag;
  const size = first.ContentLength ?? 0;

  async function* body(): AsyncGenerator<Uint8Array> {
    let offset = 0;
    let resumes = 0;
    let res: GetObjectCommandOutput | undefined = first;
    for (;;) {
      try {
        // A resume request fails like the body it resumes: retried, then one line naming the network.
        res ??= await get(etag, offset);
        for await (const chunk of res.Body as AsyncIterable<Uint8Array>) {
          offset += chunk.byteLength;
          yield chunk;
        }
        if (first.ContentLength !== undefined && offset < size) throw new Error(`body ended early at ${offset} of ${size} bytes`);
        return;
      } catch (err) {
        res = undefined;
        await failed(err, offset, ++resumes);
      }
    }
  }

  /** After a failed request or body: throws a GlacierError, or waits and returns to resume. */
  async function failed(err: unknown, offset: number, resumes: number): Promise<void> {
    if (signal?.aborted) throw new GlacierError('cancelled', 'download cancelled', { cause: err });
    const name = (err as { name?: string }).name;
    if (name === 'PreconditionFailed') throw new GlacierError('conflict', `${key} was replaced while it was being read; try again`, { cause: err });
    // S3 refusing the request (access denied, object gone) is not a dropped connection: no retry.
    const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 429) throw s3Error(err, { bucket, action: `resume the download of ${key}` });
    if (err instanceof GlacierError || resumes > (options.maxResumes ?? 5)) {
      throw err instanceof GlacierError ? err : new GlacierError('unreachable', `the download of ${key} kept failing at byte ${offset} (${oneLine((err as Error).message ?? String(err)) || name})`);
    }
    options.onResume?.(offset);
    await new Promise((r) => setTimeout(r, Math.min(200 * 2 ** resumes, 5000)));
  }

  return { size, ...(etag ? { etag } : {}), body: body() };
}
