/** Where archives go and how the engine reaches the store. No secret is ever kept here. */
export const storageClasses = ['DEEP_ARCHIVE', 'GLACIER', 'GLACIER_IR', 'STANDARD_IA', 'STANDARD'] as const;
export type StorageClass = (typeof storageClasses)[number];

export interface StaticCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface StoreConfig {
  bucket: string;
  /** Key prefix, always ending in "/" once normalised (or empty). Default "glacier-backup/". */
  prefix: string;
  region?: string;
  /** A custom endpoint for S3-compatible stores, e.g. http://127.0.0.1:9000. */
  endpoint?: string;
  forcePathStyle?: boolean;
  storageClass: StorageClass;
  /** Keys handed in by the caller; otherwise the standard AWS credential chain is used. */
  credentials?: StaticCredentials;
  /** Profile name for the standard chain (AWS_PROFILE otherwise). */
  profile?: string;
  /** Attempts per request before a job gives up (default 5). */
  maxAttempts?: number;
  /** Milliseconds a connection may stay silent before the request is dropped and retried (default 60 000). */
  requestTimeout?: number;
}

export const defaultPrefix = 'glacier-backup/';

export function normalisePrefix(prefix: string | undefined): string {
  if (prefix === undefined) return defaultPrefix;
  const p = prefix.replace(/^\/+/, '').replace(/\/+$/, '');
  return p === '' ? '' : `${p}/`;
}

export function isStorageClass(value: string): value is StorageClass {
  return (storageClasses as readonly string[]).includes(value);
}

/** Names a store (endpoint, bucket and prefix) in local state files. */
export function storeId(store: Pick<StoreConfig, 'endpoint' | 'bucket' | 'prefix'>): string {
  return `${store.endpoint ?? 'aws'}|${store.bucket}|${store.prefix}`;
}

/** Archive ids: UTC creation time (sortable) and 64 random bits; they say nothing about content. */
export const archiveIdPattern = /^\d{8}T\d{6}Z-[0-9a-f]{16}$/;
