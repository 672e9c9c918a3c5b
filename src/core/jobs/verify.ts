/**
 * The verify job: reads a restored (or never archived) archive end to end and checks it without
 * writing anything: the OpenPGP integrity check (MDC), the ciphertext's size and sha256 against
 * the manifest, the tar's structure and safety rules, and every file's sha256 against the
 * manifest. It is the download pipeline (unpack.ts) with a sink that writes nothing.
 *
 * Guarantees: nothing is written to disk; the result is returned only when every check passed,
 * otherwise a one-line GlacierError ('corrupt' for a damaged archive) says what failed.
 */
import type { ArchiveStore } from '../store/archiveStore';
import { keys } from '../model/keys';
import { GlacierError } from '../errors';
import type { ExtractedEntry } from '../pack/safeExtract';
import { entryName, readableName } from '../model/rawNames';
import { chunkMember, recordsDir } from '../pack/incremental/records';
import type { Decryption } from '../crypto/openpgp';
import type { Manifest } from '../catalog/manifest';
import { fetchDecryptUnpack } from './unpack';
import { matchManifest, openRestored } from './download';

export interface VerifyRequest {
  store: ArchiveStore;
  id: string;
  decryption: Decryption;
  signal?: AbortSignal;
  onProgress?: (p: { bytesDownloaded: number; bytesTotal: number; entries: number }) => void;
  onResume?: (offset: number) => void;
}

export interface VerifyResult {
  manifest: Manifest;
  /** Entries checked against the manifest, and the files among them. */
  entries: number;
  files: number;
  bytes: number;
}

export async function verifyArchive(req: VerifyRequest): Promise<VerifyResult> {
  const { store, id, signal } = req;
  const { manifest, status } = await openRestored(store, id, req.decryption, signal);
  const got = await readWholeArchive(req, (p) => req.onProgress?.({ ...p, bytesTotal: status.size }));
  if (manifest.version === 2) matchIncrement(manifest, got.size, got.sha256, got.entries);
  else matchManifest(manifest, got.size, got.sha256, manifest.entries, got.entries);
  const files = got.entries.filter((e) => e.type === 'file');
  return { manifest, entries: got.entries.length, files: files.length, bytes: files.reduce((n, e) => n + e.size, 0) };
}

/**
 * Reads an archive that can be read now end to end through the download pipeline, writing
 * nothing: the OpenPGP integrity check, the tar's structure and safety rules, and each file's
 * sha256 (checked by the caller). Used by verify and by rebuilding a lost manifest.
 */
export function readWholeArchive(
  req: Pick<VerifyRequest, 'store' | 'id' | 'decryption' | 'signal' | 'onResume'>,
  onProgress?: (p: { bytesDownloaded: number; entries: number }) => void,
): ReturnType<typeof fetchDecryptUnpack> {
  const { store, id } = req;
  return fetchDecryptUnpack({
    store,
    key: keys.archive(id),
    decryption: req.decryption,
    staging: null,
    filter: () => true,
    // Links are checked as a restore with --allow-outside-links would create them: this says
    // whether the archive is intact, not whether a default restore would accept every link.
    allowOutsideLinks: true,
    signal: req.signal,
    what: `archive ${id}`,
    notRestored: `archive ${id} is not restored: request a restore first (glacier-backup restore ${id})`,
    onProgress,
    onResume: req.onResume,
  });
}

/**
 * Format version 2: an archive holds only what changed (docs/format.md, "Chains"), so it is checked
 * against the entries its manifest places in it: every file without `in` (a chunked one's own
 * chunks), and no other file but the chunked files' recipes and the `.glacier-backup/` records.
 */
function matchIncrement(m: Manifest, size: number, sha256: string, got: readonly ExtractedEntry[]): void {
  matchManifest(m, size, sha256, [], []);
  const byPath = new Map(got.filter((e) => e.type === 'file').map((e) => [e.path, e]));
  const lacks = (what: string): GlacierError => new GlacierError('corrupt', `archive ${m.id} lacks ${what}, which its manifest places there`);
  for (const e of m.entries) {
    if (e.type !== 'file') continue;
    const name = entryName(e);
    if (e.chunks) {
      for (const [hash, , archive] of e.chunks) {
        if (archive !== m.id) continue;
        const c = byPath.get(chunkMember(hash));
        if (!c || c.sha256 !== hash) throw lacks(`chunk ${hash} of "${e.path}"`);
      }
      byPath.delete(name); // its recipe
      continue;
    }
    if (e.in !== undefined) continue;
    const f = byPath.get(name);
    if (!f) throw lacks(`"${e.path}"`);
    if (f.sha256 !== e.sha256) throw new GlacierError('corrupt', `"${e.path}" does not match the sha256 in the manifest`);
    byPath.delete(name);
  }
  const extra = [...byPath.keys()].find((p) => !p.startsWith(`${recordsDir}/`));
  if (extra !== undefined) throw new GlacierError('corrupt', `archive ${m.id} holds "${readableName(extra)}", which its manifest does not list`);
}
