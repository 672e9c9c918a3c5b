/**
 * The download job: GET the restored archive → sha256 → OpenPGP decrypt → safe untar into a
 * staging folder next to the destination → verify → move into place.
 *
 * Guarantees: nothing appears at the destination unless the OpenPGP integrity check passed, the
 * ciphertext's sha256 and size match the manifest and every file's sha256 matches it; on any
 * failure or cancel the staging folder is removed and the destination is untouched. Never
 * overwrites: the result goes to a new folder `<dest>/<label>-<date>` (suffixed -2, -3… if taken).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import picomatch from 'picomatch';
import type { Decryption } from '../crypto/openpgp';
import { GlacierError } from '../errors';
import { readManifest } from '../catalog/catalog';
import type { Manifest } from '../catalog/manifest';
import type { ManifestEntry } from '../model/entry';
import type { ExtractedEntry } from '../pack/safeExtract';
import { entryName, readableName } from '../model/rawNames';
import type { ArchiveStore } from '../store/archiveStore';
import { describeState } from '../model/glacierState';
import { keys } from '../model/keys';
import { archiveStatus } from './restoreRequest';
import { downloadChain } from './downloadChain';
import { checkFolderName, fetchDecryptUnpack, folderNamePart, freeName, publish } from './unpack';
import { removeStaleStaging, withStaging } from './staging';

export interface DownloadProgress {
  bytesDownloaded: number;
  bytesTotal: number;
  entries: number;
}

export interface DownloadRequest {
  store: ArchiveStore;
  id: string;
  decryption: Decryption;
  /** Folder in which the new folder is created. */
  dest: string;
  /** Name of the new folder; default `<label or id>-<YYYY-MM-DD>`. */
  folderName?: string;
  /** Subset: archive paths (a folder includes what is inside it) or globs. */
  only?: readonly string[];
  /**
   * Subset by exact archive paths (readable form; a folder includes what is inside it), never
   * taken as globs: what a front end passes for a file the user picked, whose name may hold `*` or `[`.
   */
  paths?: readonly string[];
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
  store: ArchiveStore,
  id: string,
  dec: Decryption,
  signal?: AbortSignal,
  known?: Manifest,
): Promise<{ manifest: Manifest; status: Awaited<ReturnType<typeof archiveStatus>> }> {
  const manifest = known ?? (await readManifest(store, id, dec, signal));
  const status = await archiveStatus(store, id, signal);
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
  const { store, id, signal } = req;
  const manifest = await readManifest(store, id, req.decryption, signal);
  const filter = subsetOf(req);
  const expected = manifest.entries.filter((e) => filter(e.path));
  const asked = req.paths ?? req.only ?? [];
  if (asked.length && expected.length === 0) throw new GlacierError('usage', `nothing in archive ${id} matches ${asked.join(', ')}`);
  const folder = checkFolderName(req.folderName ?? defaultFolderName(manifest));
  const dest = path.resolve(req.dest);
  if (manifest.version === 2) {
    // A snapshot of a chain: the archives holding its bytes are checked, then read (downloadChain.ts).
    await fs.mkdir(dest, { recursive: true });
    await removeStaleStaging(dest, req.onNotice);
    return { manifest, ...(await downloadChain(req, manifest, dest, folder, expected)) };
  }
  const { status } = await openRestored(store, id, req.decryption, signal, manifest);

  await fs.mkdir(dest, { recursive: true });
  await removeStaleStaging(dest, req.onNotice);
  return withStaging(dest, id, async (staging) => {
    const got = await fetchDecryptUnpack({
      store,
      key: keys.archive(id),
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
    const final = await freeName(dest, folder);
    await publish(staging, final);
    return { path: final, manifest, entries };
  });
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

/** Which files of an archive: exact paths (what a front end passes for picked files) or `--only` patterns. */
export interface Subset {
  only?: readonly string[];
  paths?: readonly string[];
}

/** The filter of a subset: exact paths when given, else the patterns; everything when neither. */
export function subsetOf(subset: Subset): (archivePath: string) => boolean {
  return subset.paths?.length ? exactFilter(subset.paths) : subsetFilter(subset.only);
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

/** Exact archive paths (readable form): a path and what is inside it, with no pattern characters. */
export function exactFilter(paths: readonly string[]): (archivePath: string) => boolean {
  const wanted = paths.map((p) => p.replace(/\/+$/, ''));
  return (archivePath) => {
    const name = readableName(archivePath);
    return wanted.some((w) => name === w || name.startsWith(`${w}/`));
  };
}

/**
 * `<label or id>-<YYYY-MM-DD>`, built from validated parts only: the manifest is untrusted input
 * (anyone with write access to the bucket can plant one). The date is the archive id's (checked
 * against its pattern when the manifest was read), the label has every separator, control
 * character and leading dot replaced or dropped (folderNamePart).
 */
export function defaultFolderName(m: Manifest): string {
  const label = folderNamePart(m.label);
  const date = /^(\d{4})(\d{2})(\d{2})T/.exec(m.id);
  return `${label || m.id}-${date ? `${date[1]}-${date[2]}-${date[3]}` : 'restore'}`;
}
