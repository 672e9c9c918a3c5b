/**
 * The file-versions job: the snapshots that hold a local path, newest first (model/fileVersions.ts
 * decides what "holds" means). What "Show Backed-up Versions" lists in VS Code.
 *
 * Costs: no request for an archive whose listed sources cannot cover the path; one manifest read
 * (through the caller's `manifest`, which may cache) for every other readable archive, four at a
 * time. Nothing is written.
 *
 * Guarantees: an archive whose manifest cannot be read is reported through `onUnreadable` and left
 * out, never a failure of the whole search; cancelling (signal) rejects with the abort.
 */
import * as path from 'node:path';
import { readManifest } from '../catalog/catalog';
import type { Manifest } from '../catalog/manifest';
import type { Decryption } from '../crypto/openpgp';
import { readableName } from '../model/rawNames';
import type { ArchiveStore } from '../store/archiveStore';
import { download, type DownloadProgress, type DownloadResult } from './download';
import { coversPath, orderVersions, versionIn, type FileVersion } from '../model/fileVersions';
import { mapLimit } from '../util/mapLimit';

export interface VersionSearch {
  /** The listed archives; `sources` are the listing summary's source paths, absent when its manifest was not read yet. */
  archives: readonly { id: string; sources?: readonly string[] }[];
  /** The absolute local path (file or folder) whose versions are wanted. */
  localPath: string;
  /** Reads (or returns a cached) manifest. */
  manifest: (id: string) => Promise<Manifest>;
  signal?: AbortSignal;
  onUnreadable?: (id: string, err: unknown) => void;
  /** After each manifest: how many of the candidates are done. */
  onProgress?: (done: number, total: number) => void;
}

/** The usual `manifest` of a search: one the caller holds already (a front end's cache), else read and decrypted from the store. */
export function manifestReader(store: ArchiveStore, dec: Decryption, cached: (id: string) => Manifest | undefined = () => undefined, signal?: AbortSignal): (id: string) => Promise<Manifest> {
  return async (id) => cached(id) ?? readManifest(store, id, dec, signal);
}

export async function findFileVersions(req: VersionSearch): Promise<FileVersion[]> {
  const candidates = req.archives.filter((a) => a.sources === undefined || coversPath(a.sources, req.localPath));
  let done = 0;
  const found = await mapLimit(candidates, 4, async (a) => {
    req.signal?.throwIfAborted();
    try {
      return versionIn(await req.manifest(a.id), req.localPath);
    } catch (err) {
      if (req.signal?.aborted) throw err;
      req.onUnreadable?.(a.id, err);
      return undefined;
    } finally {
      req.onProgress?.(++done, candidates.length);
    }
  });
  return orderVersions(found.filter((v) => v !== undefined));
}

export interface VersionFetch {
  store: ArchiveStore;
  version: FileVersion;
  decryption: Decryption;
  /** Folder in which the new folder is created (download.ts: never overwrites). */
  dest: string;
  folderName?: string;
  signal?: AbortSignal;
  onProgress?: (p: DownloadProgress) => void;
  onResume?: (offset: number) => void;
}

/**
 * Downloads one version: only its path, from the archive that holds its bytes (holderOf), into a
 * new folder, checked as every download is. The result names the folder and the file (or folder)
 * itself, under the name it was written as on this system.
 */
export async function fetchVersion(req: VersionFetch): Promise<{ folder: string; path: string; result: DownloadResult }> {
  const { archive, path: member } = req.version.holder;
  const result = await download({
    store: req.store,
    id: archive,
    decryption: req.decryption,
    dest: req.dest,
    paths: [member],
    ...(req.folderName ? { folderName: req.folderName } : {}),
    ...(req.signal ? { signal: req.signal } : {}),
    ...(req.onProgress ? { onProgress: req.onProgress } : {}),
    ...(req.onResume ? { onResume: req.onResume } : {}),
  });
  const written = result.entries.find((e) => readableName(e.path) === member);
  const rel = written?.localPath ?? written?.path ?? member;
  return { folder: result.path, path: path.join(result.path, ...rel.split('/')), result };
}
