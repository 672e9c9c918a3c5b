/**
 * The S3 client for a StoreConfig. Credentials come from the caller (kept in memory only) or
 * the standard AWS chain (environment, shared config/credentials files, SSO, instance roles).
 */
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import type { StoreConfig } from '../config';

export function createS3Client(config: StoreConfig): S3Client {
  // The SDK warns on Node 20 at first use; it is noise for our users (VS Code ships its own Node).
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const options: S3ClientConfig = {
    region: config.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
    forcePathStyle: config.forcePathStyle ?? Boolean(config.endpoint),
    maxAttempts: 5,
  };
  if (config.endpoint) options.endpoint = config.endpoint;
  if (config.credentials) options.credentials = { ...config.credentials };
  if (config.profile) options.profile = config.profile;
  return new S3Client(options);
}
