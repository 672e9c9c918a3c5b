/**
 * The S3 client for a StoreConfig. Credentials come from the caller (kept in memory only) or
 * the standard AWS chain (environment, shared config/credentials files, SSO, instance roles).
 *
 * Guarantees: every request is retried by the SDK's standard strategy (exponential backoff with
 * jitter) on throttling (SlowDown, 503), 5xx, dropped connections and timeouts, up to
 * `maxAttempts`; a connection that stays silent for `requestTimeout` ms (no bytes either way) is
 * dropped and counts as a failed attempt, so a stalled request never hangs a job. A job that
 * cannot get through therefore fails within about maxAttempts × requestTimeout plus backoff.
 */
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import type { StoreConfig } from '../../config';

export const defaultMaxAttempts = 5;
export const defaultRequestTimeout = 60_000;

export function createS3Client(config: StoreConfig): S3Client {
  // The SDK warns on Node 20 at first use; it is noise for our users (VS Code ships its own Node).
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const silence = config.requestTimeout ?? defaultRequestTimeout;
  const options: S3ClientConfig = {
    region: config.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
    forcePathStyle: config.forcePathStyle ?? Boolean(config.endpoint),
    maxAttempts: config.maxAttempts ?? defaultMaxAttempts,
    // Options for the SDK's own Node handler; socketTimeout is the silence after which a request fails.
    requestHandler: { connectionTimeout: Math.min(silence, 10_000), socketTimeout: silence },
  };
  if (config.endpoint) options.endpoint = config.endpoint;
  if (config.credentials) options.credentials = { ...config.credentials };
  if (config.profile) options.profile = config.profile;
  const client = new S3Client(options);
  // Over HTTPS, uploads carry `x-amz-content-sha256: UNSIGNED-PAYLOAD` instead of a SHA-256 of
  // the body in the signature, as the AWS CLI does: TLS protects the body in transit, and the
  // signed x-amz-checksum-crc32 header lets S3 reject a damaged part. It saves a SHA-256 pass over
  // every byte uploaded. Over plain HTTP the body stays signed.
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const request = args.request as { protocol?: string; headers?: Record<string, string> };
      const upload = context.commandName === 'UploadPartCommand' || context.commandName === 'PutObjectCommand';
      if (upload && request.protocol === 'https:' && request.headers) request.headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
      return next(args);
    },
    { step: 'build', name: 'glacierUnsignedPayloadOverTls' },
  );
  return client;
}

/** Whether the client sends S3 checksums (x-amz-checksum-*) with uploads. */
export async function sendsChecksums(client: S3Client): Promise<boolean> {
  return (await client.config.requestChecksumCalculation()) === 'WHEN_SUPPORTED';
}

/**
 * Stops the client from sending S3 checksum headers on uploads, for an endpoint that rejects
 * them (some S3-compatible stores). It lasts for the client's life: the endpoint will not change.
 */
export function withoutChecksums(client: S3Client): void {
  client.config.requestChecksumCalculation = () => Promise.resolve('WHEN_REQUIRED');
  client.config.responseChecksumValidation = () => Promise.resolve('WHEN_REQUIRED');
}
