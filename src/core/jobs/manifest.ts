/**
 * One archive's manifest (its file list and checksums), fetched, decrypted and checked
 * (catalog/catalog.ts): for `files`, Show Manifest and the pickers that look inside archives.
 */
import { readManifest } from '../catalog/catalog';
import type { Manifest } from '../catalog/manifest';
import type { Decryption } from '../crypto/openpgp';
import type { ArchiveStore } from '../store/archiveStore';

export type { Manifest } from '../catalog/manifest';

/** 'not-found' when the archive has no manifest; 'bad-key' when `dec` does not open it. */
export function openManifest(store: ArchiveStore, id: string, dec: Decryption, signal?: AbortSignal): Promise<Manifest> {
  return readManifest(store, id, dec, signal);
}

/** The key of a source set (host and source paths): backups of the same set form its history. */
export { sourcesKey } from '../catalog/manifest';
