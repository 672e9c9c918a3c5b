/**
 * The catalog: which archives exist in a store, and their manifests.
 * Listing needs only LIST on the prefix; reading a manifest needs the passphrase or a private key.
 * Manifests are small objects in STANDARD, so browsing never needs a Glacier restore.
 */
import { createHash } from 'node:crypto';
import { archiveIdPattern } from '../config';
import type { Compression } from '../crypto/compress';
import { decryptStream, encryptPieces, streamDecryptError, type Decryption, type Encryption } from '../crypto/openpgp';
import { describeError, GlacierError } from '../errors';
import { PutRetry, type ArchiveStore } from '../store/archiveStore';
import { archiveSuffix, archivesDir, catalogDir, keys, manifestSuffix, summarySuffix } from '../model/keys';
import type { PartBuffers } from '../store/partBuffers';
import type { GlacierState } from '../model/glacierState';
import { manifestJson, parseManifestStream, type Manifest, type NewManifest } from './manifest';
import { maxManifestCiphertext } from './manifestCheck';

export interface ArchiveListing {
  id: string;
  /** The archive object, when present; `glacier` when the store's listing reports it (archiveStore.ts StoredObject). */
  archive?: { size: number; lastModified?: Date; storageClass: string; glacier?: GlacierState };
  /** The manifest object, when present. */
  manifest?: CatalogObject;
  /** The catalog summary (summary.ts), when present: snapshots written before summaries have none. */
  summary?: CatalogObject;
}

export interface CatalogObject {
  size: number;
  /** Same tag, same bytes: what a local cache of what was read from it is keyed by. */
  etag?: string;
  lastModified?: Date;
}

/**
 * Every id with an archive, a manifest or a summary, newest first. An id with only a summary is a
 * leftover (its backup stopped before the manifest): callers that list snapshots skip it.
 */
export async function listArchives(store: ArchiveStore, signal?: AbortSignal): Promise<ArchiveListing[]> {
  const byId = new Map<string, ArchiveListing>();
  const get = (id: string): ArchiveListing => {
    let item = byId.get(id);
    if (!item) byId.set(id, (item = { id }));
    return item;
  };
  // Both folders at once (each is paged in turn): a listing costs the longer of the two, not both.
  const pages = await Promise.all([archivesDir, catalogDir].map(async (dir) => {
    const objects = [];
    for await (const o of store.list(dir, { signal, action: 'list archives' })) objects.push(o);
    return { dir, objects };
  }));
  for (const { dir, objects } of pages) {
    const suffix = dir === archivesDir ? [archiveSuffix] : [manifestSuffix, summarySuffix];
    for (const o of objects) {
      const name = o.key.slice(dir.length);
      const kind = suffix.find((s) => name.endsWith(s));
      const id = kind && name.slice(0, -kind.length);
      if (!id || !archiveIdPattern.test(id)) continue;
      if (kind === archiveSuffix) {
        get(id).archive = { size: o.size, lastModified: o.lastModified, storageClass: o.storageClass, ...(o.glacier ? { glacier: o.glacier } : {}) };
      } else {
        get(id)[kind === manifestSuffix ? 'manifest' : 'summary'] = { size: o.size, ...(o.etag ? { etag: o.etag } : {}), ...(o.lastModified ? { lastModified: o.lastModified } : {}) };
      }
    }
  }
  return [...byId.values()].sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
}

/**
 * Reads, decrypts and validates a manifest as it streams in (manifest.ts: parseManifestStream):
 * its ciphertext and plaintext are bounded (manifestCheck.ts), and once a limit is passed the
 * download is abandoned at once rather than read to its end.
 */
export async function readManifest(store: ArchiveStore, id: string, dec: Decryption, signal?: AbortSignal): Promise<Manifest> {
  const key = keys.manifest(id);
  const action = `read the manifest of ${id}`;
  const what = `the manifest of ${id}`;
  const stop = new AbortController();
  const onAbort = (): void => stop.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    let body: AsyncIterable<Uint8Array>;
    try {
      const opened = await store.open(key, { signal: stop.signal, what, action });
      if (opened.size > maxManifestCiphertext) throw tooLarge(id);
      body = opened.body;
    } catch (err) {
      if (err instanceof GlacierError && err.code === 'not-found') throw new GlacierError('not-found', `archive ${id} has no manifest in the catalog`);
      throw err;
    }
    const bounded = (async function* () {
      let seen = 0;
      try {
        for await (const piece of body) {
          seen += piece.byteLength;
          if (seen > maxManifestCiphertext) throw tooLarge(id);
          yield piece;
        }
      } catch (err) {
        throw err instanceof GlacierError ? err : new GlacierError('s3', `${action}: ${describeError(err)}`, { cause: err });
      }
    })();
    try {
      return await parseManifestStream(await decryptStream(bounded, dec, what, signal, { whole: true }), id);
    } catch (err) {
      throw streamDecryptError(err, what);
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    // Whatever is left of the download is dropped, not read.
    stop.abort();
  }
}

function tooLarge(id: string): GlacierError {
  return new GlacierError('corrupt', `manifest of ${id} is refused: it is larger than ${maxManifestCiphertext} bytes (the limit of this version)`);
}

/**
 * The S2K salt of a store's catalog objects (manifests and summaries) in passphrase mode: one per
 * store, from its identity and never from the passphrase, so that a reader derives the key once
 * for all of them (docs/format.md, "Encryption"). Archives keep a random salt each.
 */
export function catalogSalt(store: Pick<ArchiveStore, 'stateId'>): Buffer {
  return createHash('sha256').update('glacier-backup catalog salt\0').update(store.stateId).digest().subarray(0, 8);
}

/**
 * Writes a manifest, serialized and encrypted as it is uploaded: neither its JSON nor its
 * ciphertext is ever held whole. Through the store's put, so it never replaces an existing
 * manifest, is checked once stored, and a lost answer is resolved by looking. A backup lends its
 * archive's part buffers (`buffers`): the manifest then uses as many as the archive did, and no
 * new memory.
 */
export async function writeManifest(
  store: ArchiveStore,
  manifest: NewManifest | Manifest,
  enc: Encryption,
  options: { buffers?: PartBuffers; partSize?: number; compression?: Compression } = {},
): Promise<void> {
  const put = (): Promise<unknown> =>
    store.put({
      key: keys.manifest(manifest.id),
      body: encryptPieces(manifestJson(manifest), enc, options.compression, catalogSalt(store)),
      tier: 'catalog',
      sizeBound: maxManifestCiphertext,
      ...(options.partSize !== undefined ? { partSize: options.partSize } : {}),
      // No more buffers than the archive's upload needed.
      concurrency: options.buffers ? Math.max(1, options.buffers.made) : 4,
      contentType: 'application/pgp-encrypted',
      what: 'manifest',
      action: `write the manifest of ${manifest.id}`,
      buffers: options.buffers,
    });
  try {
    await put();
  } catch (err) {
    // An S3-compatible store that refuses checksum headers no longer gets them: once more.
    if (!(err instanceof PutRetry && err.reason === 'store-adjusted')) throw err;
    await put();
  }
}
