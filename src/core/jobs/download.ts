/**
 * The download job: GET the restored archive → sha256 → OpenPGP decrypt → safe untar into a
 * staging folder next to the destination → verify → move into place.
 *
 * Guarantees: nothing appears at the destination unless the OpenPGP integrity check passed, the
 * ciphertext's sha256 and size match the manifest and every file's sha256 matches it; on any
 * failure or cancel the staging folder is removed and the destination is untouched. Never
 * overwrites: the result goes to a new folder `<dest>/<label>-<date>` (suffixed -2, -3… if taken).
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import picomatch from 'picomatch';
import { keys, type StoreConfig } from '../config';
import type { Decryption } from '../crypto/openpgp';
import { GlacierError } from '../errors';
import { readManifest } from '../catalog/catalog';
import type { Manifest } from '../catalog/manifest';
import type { ManifestEntry } from '../pack/tarWriter';
import type { ExtractedEntry } from '../pack/safeExtract';
import { entryName, readableName } from '../pack/rawNames';
import { archiveStatus } from '../store/restore';
import { describeState } from '../store/glacierState';
import { fetchDecryptUnpack, freeName } from './unpack';

export interface DownloadProgress {
  bytesDownloaded: number;
  bytesTotal: number;
  entries: number;
}

export interface DownloadRequest {
  client: S3Client;
  store: StoreConfig;
  id: string;
  decryption: Decryption;
  /** Folder in which the new folder is created. */
  dest: string;
  /** Name of the new folder; default `<label or id>-<YYYY-MM-DD>`. */
  folderName?: string;
  /** Subset: archive paths (a folder includes what is inside it) or globs. */
  only?: readonly string[];
  /** Recreate symlinks that point outside the restored folder (absolute links in the user's own data). They are never followed while restoring. */
  allowOutsideLinks?: boolean;
  signal?: AbortSignal;
  onProgress?: (p: DownloadProgress) => void;
  /** A dropped connection is being resumed from this byte offset. */
  onResume?: (offset: number) => void;
  /** Notes for the user (a stale staging folder removed); never contains secrets. */
  onNotice?: (message: string) => void;
}

export interface DownloadResult {
  path: string;
  manifest: Manifest;
  entries: ExtractedEntry[];
}

/** The manifest and status of an archive that can be read now; a clear error if it is not restored. */
export async function openRestored(
  client: S3Client,
  store: StoreConfig,
  id: string,
  dec: Decryption,
  signal?: AbortSignal,
): Promise<{ manifest: Manifest; status: Awaited<ReturnType<typeof archiveStatus>> }> {
  const manifest = await readManifest(client, store, id, dec, signal);
  const status = await archiveStatus(client, store, id, signal);
  if (status.glacier.state === 'archived' || status.glacier.state === 'restoring') {
    throw new GlacierError(
      'not-found',
      status.glacier.state === 'archived'
        ? `archive ${id} is in ${status.storageClass} and not restored: request a restore first (glacier-backup restore ${id})`
        : `archive ${id} is still being restored from ${status.storageClass}; try again when it is ${describeState({ state: 'restored' })}`,
    );
  }
  return { manifest, status };
}

export async function download(req: DownloadRequest): Promise<DownloadResult> {
  const { client, store, id, signal } = req;
  const { manifest, status } = await openRestored(client, store, id, req.decryption, signal);
  const filter = subsetFilter(req.only);
  const expected = manifest.entries.filter((e) => filter(e.path));
  if (req.only?.length && expected.length === 0) throw new GlacierError('usage', `nothing in archive ${id} matches ${req.only.join(', ')}`);

  const dest = path.resolve(req.dest);
  await fs.mkdir(dest, { recursive: true });
  await removeStaleStaging(dest, req.onNotice);
  const staging = path.join(dest, `${stagingPrefix}${id}-${process.pid}-${randomBytes(4).toString('hex')}`);
  await fs.mkdir(staging, { mode: 0o700 });
  try {
    const got = await fetchDecryptUnpack({
      client,
      bucket: store.bucket,
      key: keys.archive(store.prefix, id),
      decryption: req.decryption,
      staging,
      filter,
      allowOutsideLinks: req.allowOutsideLinks,
      signal,
      what: `archive ${id}`,
      notRestored: `archive ${id} is not restored: request a restore first (glacier-backup restore ${id})`,
      onProgress: (p) => req.onProgress?.({ ...p, bytesTotal: status.size }),
      onResume: req.onResume,
    });
    const entries = got.entries;
    matchManifest(manifest, got.size, got.sha256, expected, entries);
    const final = await freeName(dest, req.folderName ?? defaultFolderName(manifest));
    await fs.rename(staging, final);
    return { path: final, manifest, entries };
  } catch (err) {
    await fs.rm(staging, { recursive: true, force: true });
    throw err;
  }
}

/** Throws 'corrupt' unless what was read matches the manifest: ciphertext size and sha256, and every expected entry. */
export function matchManifest(m: Manifest, size: number, sha256: string, expected: readonly ManifestEntry[], got: readonly ExtractedEntry[]): void {
  if (size !== m.archive.size || sha256 !== m.archive.sha256) {
    throw new GlacierError('corrupt', `archive ${m.id} does not match its manifest (size or sha256 of the stored object differs)`);
  }
  // Compared by the names' bytes (entryName): two names never match by their readable form alone.
  const byPath = new Map(got.map((e) => [e.path, e]));
  const names = expected.map(entryName);
  for (const [i, want] of expected.entries()) {
    const e = byPath.get(names[i]!);
    if (!e) throw new GlacierError('corrupt', `archive ${m.id} lacks "${want.path}", which its manifest lists`);
    if (e.type !== want.type) throw new GlacierError('corrupt', `"${want.path}" is a ${e.type} in the archive but a ${want.type} in the manifest`);
    if (want.type === 'file' && e.sha256 !== want.sha256) throw new GlacierError('corrupt', `"${want.path}" does not match the sha256 in the manifest`);
    byPath.delete(names[i]!);
  }
  const extra = [...byPath.keys()].find((p) => !names.some((n) => p.startsWith(`${n}/`)));
  if (extra !== undefined) throw new GlacierError('corrupt', `archive ${m.id} holds "${readableName(extra)}", which its manifest does not list`);
}

/** Patterns match a path's readable form (readableName), the one `files` shows and a user can type. */
export function subsetFilter(only: readonly string[] | undefined): (archivePath: string) => boolean {
  if (!only?.length) return () => true;
  const matchers = only.map((p) => {
    const clean = p.replace(/^\.?\/+/, '').replace(/\/+$/, '');
    const glob = /[*?[\]{}]/.test(clean) ? picomatch(clean, { dot: true }) : undefined;
    return (candidate: string): boolean => (glob ? glob(candidate) : candidate === clean || candidate.startsWith(`${clean}/`));
  });
  return (archivePath) => matchers.some((m) => m(readableName(archivePath)));
}

export function defaultFolderName(m: Manifest): string {
  const label = m.label.replace(/[\u0000-\u001f\u007f/\\:*?"<>|]+/g, '_').replace(/^[.\s]+|[.\s]+$/g, '').slice(0, 80);
  return `${label || m.id}-${m.created.slice(0, 10)}`;
}

const stagingPrefix = '.glacier-backup-staging-';

/**
 * Removes staging folders that a killed download (kill -9, power loss) left in `dest`: those whose
 * process is gone on this machine. A staging folder of a download still running is left alone;
 * one without a process id (written by an older version) is removed once a day old.
 */
export async function removeStaleStaging(dest: string, onNotice?: (message: string) => void): Promise<void> {
  let names: string[];
  try {
    names = await fs.readdir(dest);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(stagingPrefix)) continue;
    const pid = /-(\d+)-[0-9a-f]{8}$/.exec(name)?.[1];
    let stale: boolean;
    if (pid !== undefined) stale = !processAlive(Number(pid));
    else stale = Date.now() - ((await fs.lstat(path.join(dest, name)).catch(() => undefined))?.mtimeMs ?? Date.now()) > 24 * 60 * 60_000;
    if (!stale) continue;
    await fs.rm(path.join(dest, name), { recursive: true, force: true });
    onNotice?.(`removed ${name}, left by an interrupted download`);
  }
}

function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
