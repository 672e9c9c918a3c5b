/** How an upload failed, as S3 or an S3-compatible store reports it. */
import { GlacierError } from '../../errors';

export function describeFailure(err: unknown): string {
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

