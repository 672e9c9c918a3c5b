/**
 * Rebuilding the manifest of an archive whose manifest is gone (deleted by hand, by someone with
 * write access to the bucket, or never written by a backup killed at its very end), from the
 * archive itself: it is read end to end as `verify` reads it (nothing written to disk), and every
 * entry with its size, time, mode and sha256 goes into a new manifest marked `rebuilt`.
 *
 * Guarantees: the archive must be readable now (not in Glacier, or restored) and must pass the
 * OpenPGP integrity check before anything is written; the manifest is written only if none exists
 * (If-None-Match), so a manifest that appeared meanwhile is never replaced. What the archive
 * cannot tell is marked as unknown: the label is "(rebuilt)", the host "(unknown)", each source
 * is named by its top-level folder only, and `archive.tarSize` is 0.
 *
 * Only a standalone archive (format version 1, which a chain's full is too) can be rebuilt: an
 * increment of a chain (format version 2, docs/format.md "Chains") holds only what changed, so a
 * manifest made from it alone would claim a partial tree whole. It is told by the later
 * snapshots' headers (their `chain` names it, and not as its full; read before the archive, so
 * an increment they name costs no download) or, failing those, by its content (the
 * `.glacier-backup/` records every increment ends with), and then nothing is written: the error
 * says so, and what the user can still do.
 */
import { createHash } from 'node:crypto';
import { isStorageClass } from '../config';
import type { ArchiveStore } from '../store/archiveStore';
import { keys } from '../model/keys';
import { recipientFingerprints, type Decryption, type Encryption } from '../crypto/openpgp';
import { writeManifest } from '../catalog/catalog';
import { writeSummary } from '../catalog/summary';
import { archivesNeeded, manifestFormat, manifestVersion, type Manifest } from '../catalog/manifest';
import { recipesPath, recordsDir, sumsPath } from '../pack/incremental/records';
import { agree, laterSnapshots, namedSnapshots } from './dependents';
import { GlacierError } from '../errors';
import type { ManifestEntry } from '../model/entry';
import type { SourceRoot } from '../pack/walk';
import { archiveStatus } from './restoreRequest';
import { readWholeArchive } from './verify';
import { archiveIdTime } from './uploadPlan';

export const rebuiltLabel = '(rebuilt)';

export interface RebuildRequest {
  store: ArchiveStore;
  id: string;
  /** What opens the archive. */
  decryption: Decryption;
  /** What the new manifest is encrypted with (as a backup's would be). */
  encryption: Encryption;
  signal?: AbortSignal;
}

export async function rebuildManifest(req: RebuildRequest): Promise<Manifest> {
  const { store, id, signal } = req;
  const status = await archiveStatus(store, id, signal);
  if (status.glacier.state === 'archived' || status.glacier.state === 'restoring') {
    throw new GlacierError('not-found', `archive ${id} is in ${status.storageClass} and not restored: restore it first (glacier-backup restore ${id})`);
  }
  const chain = await chainOf(req);
  if (chain.increment) throw notRebuilt(id, 'the later snapshots of its chain name it as one', chain.needers);
  const got = await readWholeArchive(req);
  if (!chain.full && isIncrement(got.entries)) throw notRebuilt(id, `it holds the ${recordsDir}/ records increments end with`, chain.needers);
  const entries: ManifestEntry[] = got.entries.map((e) => ({
    path: e.path,
    type: e.type,
    size: e.size,
    mtime: e.mtime,
    mode: e.mode,
    ...(e.sha256 !== undefined ? { sha256: e.sha256 } : {}),
    ...(e.linkTarget !== undefined ? { linkTarget: e.linkTarget } : {}),
  }));
  const files = entries.filter((e) => e.type === 'file');
  const manifest: Manifest = {
    format: manifestFormat,
    version: manifestVersion,
    id,
    created: archiveIdTime(id)!.toISOString(),
    label: rebuiltLabel,
    host: '(unknown)',
    sources: rootsOf(entries),
    // Never equal to a real walk's fingerprint: a later backup does not take this archive for its own.
    fingerprint: createHash('sha256').update(`glacier-backup rebuilt manifest\0${id}`).digest('hex'),
    archive: {
      key: store.objectKey(keys.archive(id)),
      tarSize: 0,
      size: got.size,
      sha256: got.sha256,
      storageClass: isStorageClass(status.storageClass) ? status.storageClass : 'STANDARD',
    },
    encryption: { mode: req.encryption.mode, recipients: recipientFingerprints(req.encryption) },
    fileCount: files.length,
    fileBytes: files.reduce((n, e) => n + e.size, 0),
    entries,
    skipped: [],
    changed: [],
    rebuilt: true,
  };
  // A summary left by the backup whose manifest is gone describes that manifest, not this one.
  await store.delete(keys.summary(id));
  await writeSummary(store, manifest, req.encryption);
  await writeManifest(store, manifest, req.encryption);
  return manifest;
}

/** What the later snapshots' headers say of archive `id`: the full of their chain, an increment of it, or nothing; and which need it. */
async function chainOf(req: RebuildRequest): Promise<{ full: boolean; increment: boolean; needers: string[] }> {
  const out = { full: false, increment: false, needers: [] as string[] };
  for (const { item, header } of await laterSnapshots(req.store, req.id, () => Promise.resolve(req.decryption), req.signal)) {
    if (!header) continue; // another key's, or damaged: it says nothing
    if (header.chain?.archives.includes(req.id)) out[header.chain.full === req.id ? 'full' : 'increment'] = true;
    if (archivesNeeded(header).includes(req.id)) out.needers.push(item.id);
  }
  return { ...out, needers: out.needers.sort() };
}

/** An increment's tar ends with its records: `.glacier-backup/SHA256SUMS` and `recipes` (pack/incremental/records.ts). */
function isIncrement(entries: readonly { path: string; type: string }[]): boolean {
  const files = new Set(entries.filter((e) => e.type === 'file').map((e) => e.path));
  return files.has(sumsPath) && files.has(recipesPath);
}

function notRebuilt(id: string, how: string, needers: readonly string[]): GlacierError {
  const still = needers.length ? `it is kept, and ${namedSnapshots(needers)} still ${agree(needers, 'restores', 'restore')} through it; ` : 'it is kept; ';
  return new GlacierError(
    'corrupt',
    `the manifest of ${id} is not rebuilt: ${id} is an increment of a chain (${how}), which holds only what changed since the snapshot before it, so a manifest made from it alone would be wrong; ${still}its own files can still be restored by hand over the snapshot before it (docs/format.md, "Restoring a snapshot without glacier-backup")`,
  );
}

/** One source per top-level name in the archive; its original absolute path is not known. */
function rootsOf(entries: readonly ManifestEntry[]): SourceRoot[] {
  const roots = new Map<string, SourceRoot>();
  for (const e of entries) {
    const name = e.path.split('/')[0]!;
    if (!roots.has(name)) roots.set(name, { path: name, name, type: e.path === name ? e.type : 'directory' });
  }
  return [...roots.values()];
}
