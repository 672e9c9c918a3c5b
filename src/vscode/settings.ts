/** `glacierBackup.*` settings → engine configuration. Settings never hold a secret. */
import { defaultChainPolicy } from '../core/model/chain';
import * as vscode from 'vscode';
import { compressions, isStorageClass, normalisePrefix, type Compression } from '../core/config';
import type { RestoreTier } from '../core/jobs/restoreRequest';
import type { StoreSettings } from './storeLocation';

export const section = 'glacierBackup';

/** Every setting; where the store is comes from the StoreSettings part (storeLocation.ts). */
export interface Settings extends StoreSettings {
  encryption: 'passphrase' | 'publicKey';
  recipients: string[];
  exclude: string[];
  followSymlinks: boolean;
  restoreTier: RestoreTier;
  restoreDays: number;
  pollIntervalSeconds: number;
  confirmLargeUploads: boolean;
  largeUploadThresholdMB: number;
  uploadConcurrency: number;
  /** When a backup starts a new chain (core/model/chain.ts ChainPolicy). */
  fullEvery: number;
  fullAfterDays: number;
  compression: Compression;
}

export function readSettings(scope?: vscode.Uri): Settings {
  const c = vscode.workspace.getConfiguration(section, scope);
  const storageClass = c.get<string>('storageClass', 'DEEP_ARCHIVE');
  return {
    store: c.get<string>('store', '').trim(),
    bucket: c.get<string>('bucket', '').trim(),
    prefix: normalisePrefix(c.get<string>('prefix', 'glacier-backup/')),
    region: c.get<string>('region', '').trim(),
    endpoint: c.get<string>('endpoint', '').trim(),
    forcePathStyle: c.get<boolean>('forcePathStyle', false),
    storageClass: isStorageClass(storageClass) ? storageClass : 'DEEP_ARCHIVE',
    credentials: c.get<'awsChain' | 'secretStorage'>('credentials', 'awsChain'),
    awsProfile: c.get<string>('awsProfile', '').trim(),
    encryption: c.get<'passphrase' | 'publicKey'>('encryption', 'passphrase'),
    recipients: c.get<string[]>('recipients', []),
    exclude: c.get<string[]>('exclude', ['**/node_modules/**']),
    followSymlinks: c.get<boolean>('followSymlinks', false),
    restoreTier: c.get<RestoreTier>('restoreTier', 'Standard'),
    restoreDays: c.get<number>('restoreDays', 7),
    pollIntervalSeconds: Math.max(5, c.get<number>('pollIntervalSeconds', 900)),
    confirmLargeUploads: c.get<boolean>('confirmLargeUploads', true),
    largeUploadThresholdMB: c.get<number>('largeUploadThresholdMB', 1024),
    uploadConcurrency: Math.min(16, Math.max(1, c.get<number>('uploadConcurrency', 4))),
    fullEvery: Math.min(999, Math.max(0, Math.floor(c.get<number>('fullEvery', defaultChainPolicy.fullEvery)))),
    fullAfterDays: Math.min(3650, Math.max(0, Math.floor(c.get<number>('fullAfterDays', defaultChainPolicy.fullAfterDays)))),
    compression: oneOf(c.get<string>('compression', 'auto'), compressions, 'auto'),
  };
}

function oneOf<T extends string>(value: string, allowed: readonly T[], fallback: T): T {
  return (allowed as readonly string[]).includes(value) ? (value as T) : fallback;
}
