/** How an upload failed, as S3 or an S3-compatible store reports it, and whether the last request was answered. */
import type { CompleteMultipartUploadCommand, PutObjectCommand } from '@aws-sdk/client-s3';
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

/**
 * The write's condition failed: an object is already under the key. AWS S3 enforces
 * `If-None-Match: *` on PutObject and CompleteMultipartUpload (412 PreconditionFailed), and
 * answers 409 ConditionalRequestConflict when another write of the key completed while this one
 * was being completed; moto (5.x) enforces the 412 on both requests as well. A look before
 * completing could not replace the condition (another put may complete in between), so an
 * S3-compatible store that ignores the header lets a later put replace an object.
 */
export function isKeyTaken(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } } | undefined;
  return e?.name === 'PreconditionFailed' || e?.$metadata?.httpStatusCode === 412 || e?.name === 'ConditionalRequestConflict';
}

/**
 * Notes in `last` when an attempt of `command` ends without an answer (a timeout, a dropped
 * connection): below the deserializer, only the HTTP handler's own failures are thrown, once per
 * attempt, and not S3's error answers.
 */
export function watchAnswers<C extends PutObjectCommand | CompleteMultipartUploadCommand>(command: C, last: { answerLost: boolean }): C {
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
