/**
 * Command-line options and environment → engine configuration. Secrets never come from argv:
 * only from the environment, a file, or a terminal prompt.
 */
import { parseArgs } from 'node:util';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { compressions, isStorageClass, normalisePrefix, parseStoreUrl, storageClasses, type Compression, type StoreConfig, type StoreLocation } from '../core/config';
import { GlacierError } from '../core/errors';
import { defaultChainPolicy, type ChainPolicy } from '../core/model/chain';
import { lifecycleOptions } from './lifecycleOptions';

export const optionSpec = {
  store: { type: 'string' },
  bucket: { type: 'string' },
  prefix: { type: 'string' },
  region: { type: 'string' },
  endpoint: { type: 'string' },
  'path-style': { type: 'boolean' },
  'storage-class': { type: 'string' },
  'passphrase-file': { type: 'string', multiple: true },
  recipient: { type: 'string', multiple: true },
  identity: { type: 'string' },
  label: { type: 'string' },
  force: { type: 'boolean' },
  full: { type: 'boolean' },
  'full-every': { type: 'string' },
  'full-after-days': { type: 'string' },
  exclude: { type: 'string', multiple: true },
  'no-default-excludes': { type: 'boolean' },
  'follow-symlinks': { type: 'boolean' },
  'no-freshness-marker': { type: 'boolean' },
  concurrency: { type: 'string' },
  compression: { type: 'string' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
  passphrase: { type: 'string' },
  tier: { type: 'string' },
  days: { type: 'string' },
  interval: { type: 'string' },
  timeout: { type: 'string' },
  only: { type: 'string', multiple: true },
  'allow-outside-links': { type: 'boolean' },
  repair: { type: 'boolean' },
  'delete-orphan-archives': { type: 'boolean' },
  'older-than': { type: 'string' },
  ...lifecycleOptions,
} as const;

export type Options = ReturnType<typeof parse>['values'];

export function parse(argv: string[]): { values: ReturnType<typeof parseArgs<{ options: typeof optionSpec; allowPositionals: true }>>['values']; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args: argv, options: optionSpec, allowPositionals: true, strict: true });
    if (values.passphrase !== undefined) {
      throw new GlacierError(
        'usage',
        '--passphrase is not accepted: a passphrase on the command line is visible to other users; use GLACIER_BACKUP_PASSPHRASE or --passphrase-file',
      );
    }
    return { values, positionals };
  } catch (err) {
    if (err instanceof GlacierError) throw err;
    throw new GlacierError('usage', (err as Error).message);
  }
}

/**
 * Where the archives are: `--store URL` or GLACIER_BACKUP_STORE (`s3://BUCKET/PREFIX`,
 * `file:///path`), else the bucket options and variables as before. A URL and --bucket or
 * --prefix together are refused: which one was meant cannot be guessed.
 */
export function storeLocation(o: Options, env: NodeJS.ProcessEnv): StoreLocation {
  const text = o.store ?? env.GLACIER_BACKUP_STORE;
  if (text === undefined || text === '') return { kind: 's3', ...storeConfig(o, env) };
  const source = o.store !== undefined ? '--store' : 'GLACIER_BACKUP_STORE';
  if (o.bucket !== undefined || o.prefix !== undefined) throw new GlacierError('usage', `${source} names the bucket and prefix itself: give it without --bucket and --prefix`);
  const url = parseStoreUrl(text, source);
  if (url.kind === 'file') return url;
  // The URL's prefix is taken as written (already normalised), whatever GLACIER_BACKUP_PREFIX says.
  return { kind: 's3', ...storeConfig({ ...o, bucket: url.bucket }, env), prefix: url.prefix };
}

export function storeConfig(o: Options, env: NodeJS.ProcessEnv): StoreConfig {
  const bucket = o.bucket ?? env.GLACIER_BACKUP_BUCKET;
  if (!bucket) throw new GlacierError('usage', 'no bucket: use --bucket or set GLACIER_BACKUP_BUCKET');
  const storageClass = (o['storage-class'] ?? env.GLACIER_BACKUP_STORAGE_CLASS ?? 'DEEP_ARCHIVE').toUpperCase();
  if (!isStorageClass(storageClass)) {
    throw new GlacierError('usage', `unknown storage class "${storageClass}": use one of ${storageClasses.join(', ')}`);
  }
  const endpoint = o.endpoint ?? env.GLACIER_BACKUP_ENDPOINT;
  const region = o.region ?? env.GLACIER_BACKUP_REGION;
  const maxAttempts = positiveEnv(env, 'GLACIER_BACKUP_MAX_ATTEMPTS', true);
  const requestTimeout = positiveEnv(env, 'GLACIER_BACKUP_REQUEST_TIMEOUT', false);
  return {
    bucket,
    ...(maxAttempts !== undefined ? { maxAttempts } : {}),
    ...(requestTimeout !== undefined ? { requestTimeout: requestTimeout * 1000 } : {}),
    prefix: normalisePrefix(o.prefix ?? env.GLACIER_BACKUP_PREFIX),
    storageClass,
    ...(region ? { region } : {}),
    ...(endpoint ? { endpoint, forcePathStyle: o['path-style'] ?? true } : o['path-style'] ? { forcePathStyle: true } : {}),
  };
}

/** A positive number (whole, if asked) from the environment, or undefined when unset. */
function positiveEnv(env: NodeJS.ProcessEnv, name: string, whole: boolean): number | undefined {
  const text = env[name];
  if (text === undefined || text === '') return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0 || (whole && !Number.isInteger(n))) {
    throw new GlacierError('usage', `${name} must be a positive ${whole ? 'whole number' : 'number of seconds'}`);
  }
  return n;
}

export function concurrency(o: Options): number {
  if (o.concurrency === undefined) return 4;
  const n = Number(o.concurrency);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new GlacierError('usage', '--concurrency must be a whole number from 1 to 64');
  return n;
}

/** When a backup starts a new chain on its own: --full-every N increments, --full-after-days N. */
export function chainPolicy(o: Options): ChainPolicy {
  const whole = (v: string | undefined, name: string, fallback: number, max: number): number => {
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0 || n > max) throw new GlacierError('usage', `--${name} must be a whole number from 0 to ${max}`);
    return n;
  };
  return { fullEvery: whole(o['full-every'], 'full-every', defaultChainPolicy.fullEvery, 999), fullAfterDays: whole(o['full-after-days'], 'full-after-days', defaultChainPolicy.fullAfterDays, 3650) };
}

export function compression(o: Options): Compression {
  const c = o.compression ?? 'auto';
  if (!(compressions as readonly string[]).includes(c)) throw new GlacierError('usage', `--compression must be one of ${compressions.join(', ')}`);
  return c as Compression;
}

/**
 * Local state (last backups, upload journals, their lock files): GLACIER_BACKUP_STATE_DIR, else on
 * Windows %LOCALAPPDATA%\glacier-backup (kept on this machine, never roamed), else
 * $XDG_STATE_HOME/glacier-backup or ~/.local/state/glacier-backup.
 */
export function stateDir(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): string {
  if (env.GLACIER_BACKUP_STATE_DIR) return env.GLACIER_BACKUP_STATE_DIR;
  if (platform === 'win32') return path.win32.join(env.LOCALAPPDATA || path.win32.join(windowsHome(env), 'AppData', 'Local'), 'glacier-backup');
  const base = env.XDG_STATE_HOME || path.join(os.homedir(), '.local', 'state');
  return path.join(base, 'glacier-backup');
}

function windowsHome(env: NodeJS.ProcessEnv): string {
  return env.USERPROFILE || os.homedir();
}

export async function readFileArg(file: string, what: string): Promise<string> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new GlacierError(code === 'ENOENT' ? 'not-found' : 'unreadable', `cannot read ${what} ${file}: ${code ?? String(err)}`);
  }
}

/** Settings and pending restores: GLACIER_BACKUP_CONFIG_DIR, else on Windows %APPDATA%\glacier-backup, else $XDG_CONFIG_HOME or ~/.config. */
export function configDir(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): string {
  if (env.GLACIER_BACKUP_CONFIG_DIR) return env.GLACIER_BACKUP_CONFIG_DIR;
  if (platform === 'win32') return path.win32.join(env.APPDATA || path.win32.join(windowsHome(env), 'AppData', 'Roaming'), 'glacier-backup');
  return path.join(env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config'), 'glacier-backup');
}

/** A duration option in seconds (fractions allowed), or the default. */
export function seconds(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new GlacierError('usage', `--${name} must be a positive number of seconds`);
  return n;
}
