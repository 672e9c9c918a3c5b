/**
 * The catalog: which archives exist in a bucket and prefix, and their manifests.
 * Listing needs only LIST on the prefix; reading a manifest needs the passphrase or a private key.
 * Manifests are small objects in STANDARD, so browsing never needs a Glacier restore.
 */
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { archiveIdPattern, keys, type StoreConfig } from '../config';
import { decryptBytes, encryptPieces, type Decryption, type Encryption } from '../crypto/openpgp';
import { GlacierError, isNotFound, s3Error } from '../errors';
import { ChecksumsRejected, minPartSize, uploadObject, type PartBuffers } from '../store/upload';
import { withoutChecksums } from '../store/s3';
import { manifestJson, parseManifest, type Manifest, type NewManifest } from './manifest';

export interface ArchiveListing {
  id: string;
  /** The archive object, when present. */
  archive?: { size: number; lastModified?: Date; storageClass: string };
  /** The manifest object, when present. */
  manifest?: { size: number };
}

/** Manifests larger than this are refused as hostile (a 200,000-file manifest is about 50 MB). */
const maxManifestBytes = 512 * 1024 * 1024;

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

export async function readManifest(client: S3Client, store: StoreConfig, id: string, dec: Decryption, signal?: AbortSignal): Promise<Manifest> {
  const key = keys.manifest(store.prefix, id);
  let bytes: Uint8Array;
  try {
    const res = await client.send(new GetObjectCommand({ Bucket: store.bucket, Key: key }), { abortSignal: signal });
    if ((res.ContentLength ?? 0) > maxManifestBytes) throw new GlacierError('corrupt', `manifest of ${id} is implausibly large`);
    bytes = await res.Body!.transformToByteArray();
  } catch (err) {
    const name = (err as { name?: string }).name;
    if (name === 'NoSuchKey' || name === 'NotFound') throw new GlacierError('not-found', `archive ${id} has no manifest in the catalog`);
    throw s3Error(err, { bucket: store.bucket, endpoint: store.endpoint, action: `read the manifest of ${id}` });
  }
  const plain = await decryptBytes(bytes, dec, `the manifest of ${id}`, signal);
  return parseManifest(plain, id);
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
  options: { buffers?: PartBuffers; partSize?: number } = {},
): Promise<void> {
  const upload = (): Promise<unknown> =>
    uploadObject({
      client,
      bucket: store.bucket,
      key: keys.manifest(store.prefix, manifest.id),
      body: encryptPieces(manifestJson(manifest), enc),
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

/** Whether an object exists (any storage class; HEAD works on archived objects). */
export async function objectExists(client: S3Client, store: StoreConfig, key: string): Promise<boolean> {
  try {
    await client.send(new HeadObjectCommand({ Bucket: store.bucket, Key: key }));
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw s3Error(err, { bucket: store.bucket, endpoint: store.endpoint, action: `check ${key}` });
  }
}
