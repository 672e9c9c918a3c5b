/**
 * Errors the engine raises on purpose. Every message is one line a user can act on and never
 * contains a secret (no passphrase, key material, credential or presigned URL).
 */
export type ErrorCode =
  | 'usage'
  | 'not-found'
  /** A cold object (Glacier) that must be restored before it can be read. */
  | 'not-restored'
  | 'unreadable'
  | 'config'
  | 'no-bucket'
  | 'access-denied'
  | 'unreachable'
  | 'crypto'
  | 'bad-key'
  | 'corrupt'
  | 'cancelled'
  | 'conflict'
  | 's3'
  /** A local file system error (a local-folder store, a destination). */
  | 'io';

export class GlacierError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'GlacierError';
  }
}

interface AwsLikeError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number; attempts?: number };
  Code?: string;
}

const networkCodes = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH']);

/** Turns an error from the AWS SDK (or the network below it) into a one-line GlacierError. */
export function s3Error(err: unknown, what: { bucket: string; endpoint?: string; action: string }): GlacierError {
  if (err instanceof GlacierError) return err;
  const e = (err ?? {}) as AwsLikeError;
  const name = e.name ?? e.Code ?? e.code ?? '';
  const status = e.$metadata?.httpStatusCode;
  const where = what.endpoint ? ` at ${what.endpoint}` : '';
  if (name === 'AbortError' || name === 'RequestAbortedError') {
    return new GlacierError('cancelled', `${what.action} cancelled`, { cause: err });
  }
  if (name === 'NoSuchBucket' || (name === 'NotFound' && what.action.startsWith('check bucket'))) {
    return new GlacierError('no-bucket', `bucket "${what.bucket}" does not exist${where}`, { cause: err });
  }
  if (
    name === 'InvalidAccessKeyId' ||
    name === 'SignatureDoesNotMatch' ||
    name === 'InvalidClientTokenId' ||
    name === 'ExpiredToken' ||
    name === 'InvalidToken'
  ) {
    return new GlacierError('access-denied', `S3 rejected the credentials (${name}) while trying to ${what.action}`, { cause: err });
  }
  if (name === 'AccessDenied' || status === 403) {
    return new GlacierError('access-denied', `access denied to bucket "${what.bucket}" while trying to ${what.action}`, { cause: err });
  }
  if (name === 'CredentialsProviderError' || /Could not load credentials/i.test(e.message ?? '')) {
    return new GlacierError(
      'config',
      'no AWS credentials found: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run "aws configure"',
      { cause: err },
    );
  }
  const attempts = e.$metadata?.attempts;
  const gaveUp = attempts && attempts > 1 ? `; gave up after ${attempts} attempts` : '';
  if ((name === 'TimeoutError' && (e.code === undefined || e.code === 'ETIMEDOUT')) || e.code === 'ETIMEDOUT') {
    return new GlacierError('unreachable', `S3${where} stopped answering while trying to ${what.action}${gaveUp}`, { cause: err });
  }
  if (e.code === 'ECONNRESET' || e.code === 'EPIPE' || /socket hang up/.test(e.message ?? '')) {
    return new GlacierError('unreachable', `the connection to S3${where} kept dropping (${e.code ?? 'socket hang up'}) while trying to ${what.action}${gaveUp}`, { cause: err });
  }
  if (networkCodes.has(e.code ?? '') || networkCodes.has(name) || /ECONNREFUSED|ENOTFOUND/.test(e.message ?? '')) {
    return new GlacierError('unreachable', `cannot reach S3${where || ' endpoint'} (${e.code ?? name})${gaveUp ? ` while trying to ${what.action}${gaveUp}` : ''}`, { cause: err });
  }
  if (status !== undefined && (status === 503 || status >= 500 || name === 'SlowDown')) {
    return new GlacierError('unreachable', `S3${where} kept failing while trying to ${what.action} (${name || 'error'}, HTTP ${status})${gaveUp}`, { cause: err });
  }
  const detail = oneLine(e.message ?? String(err)) || name || 'unknown error';
  return new GlacierError('s3', `S3 error while trying to ${what.action}: ${name && !detail.includes(name) ? `${name}: ` : ''}${detail}`, {
    cause: err,
  });
}

/** S3 answered a HEAD that nothing is there: NotFound, NoSuchKey or HTTP 404 (a HEAD cannot tell a missing bucket apart). */
export function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } } | undefined;
  return e?.name === 'NotFound' || e?.name === 'NoSuchKey' || e?.$metadata?.httpStatusCode === 404;
}

export function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim().slice(0, 400);
}

/** A message for any error, for front ends: GlacierError as is, anything else on one line. */
export function describeError(err: unknown): string {
  if (err instanceof GlacierError) return err.message;
  if (err instanceof Error) return oneLine(err.message);
  return oneLine(String(err));
}

export function throwIfAborted(signal: AbortSignal | undefined, action: string): void {
  if (signal?.aborted) throw new GlacierError('cancelled', `${action} cancelled`);
}

/**
 * An abort reason (`controller.abort(new Suspend())`): stop now like a cancel, but keep what the
 * next run can continue (a backup's unfinished upload) instead of cleaning it up. For a window
 * closing or the system shutting down, not for a user's Cancel.
 */
export class Suspend extends Error {
  constructor() {
    super('suspended');
    this.name = 'Suspend';
  }
}

export function isSuspended(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true && signal.reason instanceof Suspend;
}

/** What a backup stopped by `Suspend` fails with. */
export const suspendedMessage = 'backup interrupted; its upload is kept, and the next backup of the same files resumes it';
