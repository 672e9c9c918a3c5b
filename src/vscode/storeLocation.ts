/**
 * Where the archives are, from the settings: `glacierBackup.store` (`s3://BUCKET/PREFIX` or
 * `file:///path`) when set, else the bucket, prefix, region and endpoint settings as before. No
 * `vscode` here, so a unit test reads the same resolution the extension uses.
 *
 * Every one of these settings has machine scope (package.json): a workspace cannot redirect
 * backups to a bucket or folder of its choosing.
 */
import { normalisePrefix, parseStoreUrl, type StorageClass, type StoreConfig, type StoreLocation } from '../core/config';
import { GlacierError } from '../core/errors';

/** The settings the store is made of (settings.ts reads them). */
export interface StoreSettings {
  /** `glacierBackup.store`, trimmed; empty = the fields below. */
  store: string;
  bucket: string;
  prefix: string;
  region: string;
  endpoint: string;
  forcePathStyle: boolean;
  storageClass: StorageClass;
  credentials: 'awsChain' | 'secretStorage';
  awsProfile: string;
}

const notSetUpMessage = 'no store configured: run "Glacier Backup: Set Up…" or set glacierBackup.store';

/** The location without credentials (Connection adds those from SecretStorage); 'config' when nothing is set up. */
export function storeLocation(s: StoreSettings): StoreLocation {
  if (s.store !== '') {
    const url = parseStoreUrl(s.store, 'setting glacierBackup.store');
    if (url.kind === 'file') return url;
    // The URL's prefix is taken as written, whatever glacierBackup.prefix says (as the CLI's --store does).
    return { kind: 's3', ...s3Fields(s, url.bucket), prefix: url.prefix };
  }
  if (s.bucket === '') throw new GlacierError('config', notSetUpMessage);
  return { kind: 's3', ...s3Fields(s, s.bucket), prefix: normalisePrefix(s.prefix) };
}

/** Whether the error is storeLocation's "nothing is set up" (which starts Set Up rather than showing an error). */
export function isNotSetUp(err: unknown): boolean {
  return err instanceof GlacierError && err.code === 'config' && err.message === notSetUpMessage;
}

/** Whether a store is configured at all (it may still be unreachable or misspelt). */
export function isConfigured(s: Pick<StoreSettings, 'store' | 'bucket'>): boolean {
  return s.store !== '' || s.bucket !== '';
}

function s3Fields(s: StoreSettings, bucket: string): Omit<StoreConfig, 'credentials' | 'prefix'> {
  return {
    bucket,
    storageClass: s.storageClass,
    ...(s.region ? { region: s.region } : {}),
    ...(s.endpoint ? { endpoint: s.endpoint, forcePathStyle: true } : s.forcePathStyle ? { forcePathStyle: true } : {}),
    ...(s.credentials === 'awsChain' && s.awsProfile ? { profile: s.awsProfile } : {}),
  };
}
