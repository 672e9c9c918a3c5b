/**
 * The catalog: which archives exist in a bucket and prefix, and their manifests.
 * Listing needs only LIST on the prefix; reading a manifest needs the passphrase or a private key.
 * Manifests are small objects in STANDARD, so browsing never needs a Glacier restore.
 */
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { archiveIdPattern, keys, type StoreConfig } from '../config';
import type { Compression } from '../crypto/compress';
import { decryptStream, encryptPieces, streamDecryptError, type Decryption, type Encryption } from '../crypto/openpgp';
import { GlacierError, s3Error } from '../errors';
import { ChecksumsRejected, minPartSize, uploadObject, type PartBuffers } from '../store/upload';
import { withoutChecksums } from '../store/s3';
import { manifestJson, parseManifestStream, type Manifest, type NewManifest } from './manifest';
import { maxManifestCiphertext } from './manifestCheck';

export interface ArchiveListing {
  id: string;
  /** The archive object, when present. */
  archive?: { size: number; lastModified?: Date; storageClass: string };
  /** The manifest object, when present. */
  manifest?: { size: number };
}

export async function listArchives(client: S3Client, store: StoreConfig, signal?: AbortSignal): Promise<ArchiveListing[]> {
  const byId = new Map<string, ArchiveListing>();
  const get = (id: string): ArchiveListing => {
    let item = byId.get(id);
    if (!item) byId.set(id, (item = { id }));
    return item;
  };
  for (const [dir, suffix] of [
    [keys.archivesDir(store.prefix), '.tar.gpg'],
    [keys.catalogDir(store.prefix), '.json.gpg'],
  ] as const) {
    let token: string | undefined;
    do {
      let page;
      try {
        page = await client.send(new ListObjectsV2Command({ Bucket: store.bucket, Prefix: dir, ContinuationToken: token }), { abortSignal: signal });
      } catch (err) {
        throw s3Error(err, { bucket: store.bucket, endpoint: store.endpoint, action: 'list archives' });
      }
      for (const o of page.Contents ?? []) {
        const name = o.Key?.slice(dir.length) ?? '';
        if (!name.endsWith(suffix)) continue;
        const id = name.slice(0, -suffix.length);
        if (!archiveIdPattern.test(id)) continue;
        if (suffix === '.tar.gpg') {
          get(id).archive = { size: o.Size ?? 0, lastModified: o.LastModified, storageClass: o.StorageClass ?? 'STANDARD' };
        } else {
          get(id).manifest = { size: o.Size ?? 0 };
        }
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }
  return [...byId.values()].sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
}

/**
 * Reads, decrypts and validates a manifest as it streams in (manifest.ts: parseManifestStream):
 * its ciphertext and plaintext are bounded (manifestCheck.ts), and once a limit is passed the
 * download is abandoned at once rather than read to its end.
 */
export async function readManifest(client: S3Client, store: StoreConfig, id: string, dec: Decryption, signal?: AbortSignal): Promise<Manifest> {
  const key = keys.manifest(store.prefix, id);
  const action = `read the manifest of ${id}`;
  const what = `the manifest of ${id}`;
  const stop = new AbortController();
  const onAbort = (): void => stop.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    let body: AsyncIterable<Uint8Array>;
    try {
      const res = await client.send(new GetObjectCommand({ Bucket: store.bucket, Key: key }), { abortSignal: stop.signal });
      if ((res.ContentLength ?? 0) > maxManifestCiphertext) throw tooLarge(id);
      body = res.Body as unknown as AsyncIterable<Uint8Array>;
    } catch (err) {
      const name = (err as { name?: string }).name;
      if (name === 'NoSuchKey' || name === 'NotFound') throw new GlacierError('not-found', `archive ${id} has no manifest in the catalog`);
      throw s3Error(err, { bucket: store.bucket, endpoint: store.endpoint, action });
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
        throw err instanceof GlacierError ? err : s3Error(err, { bucket: store.bucket, endpoint: store.endpoint, action });
      }
    })();
    try {
      return await parseManifestStream(await decryptStream(bounded, dec, what, signal), id);
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
 * Writes a manifest, serialized and encrypted as it is uploaded: neither its JSON nor its
 * ciphertext is ever held whole. Through uploadObject, so it never replaces an existing manifest
 * (If-None-Match), is checked once stored, and a lost answer is resolved by looking. A backup
 * lends its archive's part buffers (`buffers`): the manifest then uses as many as the archive
 * did, and no new memory.
 */
export async function writeManifest(
  client: S3Client,
  store: StoreConfig,
  manifest: NewManifest | Manifest,
  enc: Encryption,
  options: { buffers?: PartBuffers; partSize?: number; compression?: Compression } = {},
): Promise<void> {
  const upload = (): Promise<unknown> =>
    uploadObject({
      client,
      bucket: store.bucket,
      key: keys.manifest(store.prefix, manifest.id),
      body: encryptPieces(manifestJson(manifest), enc, options.compression),
      storageClass: 'STANDARD',
      partSize: options.partSize ?? minPartSize,
      // No more buffers than the archive's upload needed.
      queueSize: options.buffers ? Math.max(1, options.buffers.made) : 4,
      contentType: 'application/pgp-encrypted',
      what: 'manifest',
      action: `write the manifest of ${manifest.id}`,
      endpoint: store.endpoint,
      buffers: options.buffers,
    });
  try {
    await upload();
  } catch (err) {
    if (!(err instanceof ChecksumsRejected)) throw err;
    withoutChecksums(client); // an S3-compatible store that refuses checksum headers
    await upload();
  }
}
