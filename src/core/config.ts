/** Where archives go and how the engine reaches the store. No secret is ever kept here. */
import { sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { GlacierError } from './errors';

export const storageClasses = ['DEEP_ARCHIVE', 'GLACIER', 'GLACIER_IR', 'STANDARD_IA', 'STANDARD'] as const;
export type StorageClass = (typeof storageClasses)[number];

/** What a backup asks for: adaptive deflate at level 1 (auto) or 6 (max), or no compressed packet (crypto/compress.ts). */
export type Compression = 'auto' | 'max' | 'off';
export const compressions: readonly Compression[] = ['auto', 'max', 'off'];

/** Left out of every backup unless asked otherwise (CLI --no-default-excludes; VS Code's glacierBackup.exclude default). */
export const defaultExcludes: readonly string[] = ['**/node_modules/**'];

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

/** Where archives are kept: an S3 bucket and prefix (StoreConfig), or a folder (an external drive, a NAS mount). */
export type StoreLocation = ({ kind: 's3' } & StoreConfig) | { kind: 'file'; root: string };

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

/** Archive ids: UTC creation time (sortable) and 64 bits (millisecond, random); they say nothing about content. */
export const archiveIdPattern = /^\d{8}T\d{6}Z-[0-9a-f]{16}$/;

/**
 * Where a `--store URL` / `GLACIER_BACKUP_STORE` points: a bucket and prefix, or a folder.
 * Two forms only, written the way the store names itself (ArchiveStore.name):
 * - `s3://BUCKET/PREFIX`: the prefix exactly as written ("/" added at its end; `s3://BUCKET` is
 *   the bucket's root, so today's default is `s3://BUCKET/glacier-backup/`); the key is taken as
 *   is, no %-decoding (S3 keys are literal).
 * - `file:///absolute/path`: the store folder (it must exist; see LocalStore), %-escapes decoded.
 * Anything else (a bare path or bucket name, `s3:bucket` as restic writes it, a relative file URL,
 * another scheme) fails with a message that shows the form to use.
 */
export type StoreUrl = { kind: 's3'; bucket: string; prefix: string } | { kind: 'file'; root: string };

const bucketPattern = /^[A-Za-z0-9][A-Za-z0-9._-]{1,61}[A-Za-z0-9]$/;

export function parseStoreUrl(text: string, source = 'store URL'): StoreUrl {
  const url = text.trim();
  const bad = (why: string): GlacierError => new GlacierError('usage', `${source} ${JSON.stringify(url.slice(0, 200))}: ${why}`);
  if (/[\u0000-\u001f\u007f]/.test(url)) throw bad('it contains control characters');
  const drive = /^[A-Za-z]:[\\/]/.test(url);
  const scheme = drive ? undefined : /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined) {
    if (url.startsWith('/')) throw bad(`not a URL; for this folder write file://${url}`);
    if (drive) throw bad(`not a URL; for this folder write file:///${url.replaceAll('\\', '/')}`);
    if (/^[.~]/.test(url) || url.includes('\\')) throw bad('not a URL; for a folder write file:///absolute/path');
    throw bad(`not a URL; for a bucket write s3://${url.includes('/') ? url : `${url}/PREFIX`}`);
  }
  if (scheme === 's3') return parseS3(url, bad);
  if (scheme === 'file') return parseFile(url, bad);
  throw bad(`unknown scheme "${scheme}:"; use s3://BUCKET/PREFIX or file:///path`);
}

function parseS3(url: string, bad: (why: string) => GlacierError): StoreUrl {
  const rest = /^s3:\/\/(.*)$/i.exec(url)?.[1];
  if (rest === undefined) throw bad(`write s3://${url.replace(/^s3:\/*/i, '')}`);
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  const prefix = slash < 0 ? '' : rest.slice(slash + 1);
  if (!bucket) throw bad('no bucket; write s3://BUCKET/PREFIX');
  if (!bucketPattern.test(bucket)) throw bad(`"${bucket}" is not a bucket name (3 to 63 letters, digits, dots and hyphens)`);
  if (/[?#\\]/.test(prefix)) throw bad('the prefix may not contain "?", "#" or "\\"');
  const segments = prefix.replace(/\/$/, '').split('/');
  if (prefix !== '' && segments.some((s) => s === '' || s === '.' || s === '..')) throw bad('the prefix has an empty, "." or ".." segment');
  return { kind: 's3', bucket, prefix: normalisePrefix(prefix) };
}

function parseFile(url: string, bad: (why: string) => GlacierError): StoreUrl {
  if (!/^file:\/\//i.test(url)) throw bad('write file:///absolute/path (three slashes)');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw bad('not a valid file URL; write file:///absolute/path');
  }
  if (parsed.host !== '' && parsed.host !== 'localhost') throw bad(`a file URL names a folder on this machine, not on "${parsed.host}"; write file:///absolute/path (three slashes)`);
  if (parsed.search || parsed.hash) throw bad('a file URL may not contain "?" or "#" (write them as %3F and %23)');
  let root: string;
  try {
    root = fileURLToPath(parsed);
  } catch (err) {
    throw bad(`not a usable path (${(err as Error).message})`);
  }
  const trimmed = root.length > 1 ? root.replace(/[\\/]+$/, '') : root;
  return { kind: 'file', root: trimmed === '' || /^[A-Za-z]:$/.test(trimmed) ? root : trimmed };
}

/** The URL of a location, as parseStoreUrl reads it back (and as the store names itself). */
export function formatStoreUrl(location: StoreUrl): string {
  if (location.kind === 's3') return `s3://${location.bucket}/${location.prefix}`;
  return pathToFileURL(location.root.endsWith(sep) ? location.root : `${location.root}${sep}`).href;
}
