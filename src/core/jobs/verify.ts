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
  matchManifest(manifest, got.size, got.sha256, manifest.entries, got.entries);
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
