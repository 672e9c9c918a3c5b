/**
 * The backup job: walk → tar → OpenPGP → multipart upload into the archive class, then the
 * encrypted manifest into STANDARD. Progress flows out through a callback; cancellation comes in
 * through an AbortSignal.
 *
 * Guarantees: a manifest is written only after its archive is complete and verified against what
 * was sent (see store/upload.ts), so the catalog never points at a partial or damaged archive; on
 * failure or cancel the multipart upload is aborted and nothing is recorded. An endpoint that
 * rejects S3 checksum headers, or data S3 refused as damaged in transit (BadDigest), gets one more
 * upload from the start. A backup whose walked metadata equals the newest archive of the same sources uploads
 * nothing (unless forced) and returns that archive's id.
 */
import { randomBytes } from 'node:crypto';
import * as os from 'node:os';
import { DeleteObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { keys, type StoreConfig } from '../config';
import { encryptStream, recipientFingerprints, type Decryption, type Encryption } from '../crypto/openpgp';
import { GlacierError, s3Error, throwIfAborted } from '../errors';
import { rechunk } from '../pack/rechunk';
import { packTar, tarSizeBound } from '../pack/tarWriter';
import { walk, type Skipped } from '../pack/walk';
import { choosePartSize, ChecksumsRejected, isBadDigest, uploadObject } from '../store/upload';
import { withoutChecksums } from '../store/s3';
import { listArchives, objectExists, readManifest, writeManifest } from '../catalog/catalog';
import { contentFingerprint, manifestFormat, sourcesKey, type Manifest, type NewManifest } from '../catalog/manifest';
import { lastBackup, recordBackup } from '../catalog/dedupState';

export interface BackupProgress {
  phase: 'scanning' | 'checking' | 'uploading' | 'finishing';
  filesTotal: number;
  filesDone: number;
  /** Sum of file sizes to read, and read so far. */
  bytesTotal: number;
  bytesRead: number;
  /** Ciphertext bytes acknowledged by S3. */
  bytesUploaded: number;
}

export interface BackupRequest {
  client: S3Client;
  store: StoreConfig;
  paths: readonly string[];
  encryption: Encryption;
  /** Lets the job read existing manifests to recognise unchanged content (passphrase mode). */
  decryption?: Decryption;
  label?: string;
  force?: boolean;
  exclude?: readonly string[];
  followSymlinks?: boolean;
  /** Parts uploaded in parallel (default 4). */
  concurrency?: number;
  /** Folder for the local record of last backups (dedup without reading manifests). */
  stateDir?: string;
  /** Benchmarks: pack and encrypt, then discard instead of uploading. */
  discardOutput?: boolean;
  signal?: AbortSignal;
  onProgress?: (p: BackupProgress) => void;
  /** Notes for the user (resumed, skipped, changed…); never contains secrets. */
  onNotice?: (message: string) => void;
  /** Asked once the selection is scanned and found changed, before anything is uploaded; false cancels. */
  confirm?: (scan: { files: number; bytes: number }) => Promise<boolean> | boolean;
}

export interface BackupResult {
  status: 'created' | 'unchanged';
  id: string;
  /** The new manifest (created) or undefined (unchanged). */
  manifest?: NewManifest;
  skipped: Skipped[];
  changed: string[];
}

export function newArchiveId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${randomBytes(8).toString('hex')}`;
}

export async function backup(req: BackupRequest): Promise<BackupResult> {
  const { client, store, signal } = req;
  const progress: BackupProgress = { phase: 'scanning', filesTotal: 0, filesDone: 0, bytesTotal: 0, bytesRead: 0, bytesUploaded: 0 };
  const report = (): void => req.onProgress?.({ ...progress });
  report();

  const scanned = await walk(req.paths, { exclude: req.exclude, followSymlinks: req.followSymlinks, signal });
  for (const e of scanned.entries) {
    if (e.type === 'file') {
      progress.filesTotal++;
      progress.bytesTotal += e.size;
    }
  }
  const host = os.hostname();
  const sources = sourcesKey(host, scanned.roots);
  const fingerprint = contentFingerprint(scanned.roots, scanned.entries);

  if (!req.discardOutput) {
    progress.phase = 'checking';
    report();
    const existing = await findUnchanged(req, sources, fingerprint);
    if (existing && !req.force) return { status: 'unchanged', id: existing, skipped: scanned.skipped, changed: [] };
  }
  throwIfAborted(signal, 'backup');
  if (req.confirm && !(await req.confirm({ files: progress.filesTotal, bytes: progress.bytesTotal }))) {
    throw new GlacierError('cancelled', 'backup cancelled');
  }

  const id = newArchiveId();
  const archiveKey = keys.archive(store.prefix, id);
  const bound = tarSizeBound(scanned.entries);
  const partSize = choosePartSize(bound + Math.ceil(bound / 1000) + (1 << 20));

  progress.phase = 'uploading';
  report();
  let sent: Sent;
  try {
    sent = await packAndUpload(req, scanned.entries, archiveKey, partSize, progress, report);
  } catch (err) {
    if (err instanceof ChecksumsRejected) {
      // An S3-compatible store that refuses checksum headers: the sha256 check still holds.
      withoutChecksums(client);
      req.onNotice?.(`${err.message}: uploading again without them (the archive's size and sha256 are still checked)`);
    } else if (isBadDigest(err)) {
      // S3 found data damaged in transit and refused it (nothing was stored): once more.
      req.onNotice?.('S3 refused part of the archive as damaged in transit (BadDigest): uploading it again');
    } else {
      throw err;
    }
    sent = await packAndUpload(req, scanned.entries, archiveKey, partSize, progress, report);
  }
  const { tar, plain, cipher } = sent;
  const packed = await tar.report;
  const skipped = [...scanned.skipped, ...packed.skipped];
  for (const path of packed.changed) req.onNotice?.(`changed while reading: ${path}`);

  const manifest: NewManifest = {
    format: manifestFormat,
    version: 1,
    id,
    created: new Date().toISOString(),
    label: req.label ?? scanned.roots.map((r) => r.name).join(', '),
    host,
    sources: scanned.roots,
    fingerprint,
    archive: {
      key: archiveKey,
      tarSize: plain.size,
      size: cipher.size,
      sha256: cipher.sha256,
      storageClass: store.storageClass,
    },
    encryption: { mode: req.encryption.mode, recipients: recipientFingerprints(req.encryption) },
    fileCount: packed.entries.fileCount,
    fileBytes: packed.entries.fileBytes,
    entries: packed.entries,
    skipped: skipped.map((s) => ({ path: s.path, reason: `${s.reason}: ${s.detail}` })),
    changed: packed.changed,
  };
  if (req.discardOutput) return { status: 'created', id, manifest, skipped, changed: packed.changed };

  progress.phase = 'finishing';
  report();
  try {
    await writeManifest(client, store, manifest, req.encryption);
  } catch (err) {
    // An archive without a manifest is invisible to browsing: remove it rather than leave it (and
    // the manifest, in case a lost answer hid that it was stored). What stays behind after a crash
    // here is what `check` reports.
    await client.send(new DeleteObjectCommand({ Bucket: store.bucket, Key: archiveKey })).catch(() => undefined);
    await client.send(new DeleteObjectCommand({ Bucket: store.bucket, Key: keys.manifest(store.prefix, id) })).catch(() => undefined);
    throw err;
  }
  if (req.stateDir && packed.changed.length === 0) {
    await recordBackup(req.stateDir, store, sources, { id, fingerprint }).catch(() => undefined);
  }
  return { status: 'created', id, manifest, skipped, changed: packed.changed };
}

interface Sent {
  tar: ReturnType<typeof packTar>;
  plain: { size: number };
  /** Size and sha256 of the ciphertext, as the encryptor counted them. */
  cipher: { size: number; sha256: string };
}

/** Packs, encrypts and uploads (or discards) the archive once; on failure nothing is left in the bucket. */
async function packAndUpload(
  req: BackupRequest,
  entries: Parameters<typeof packTar>[0],
  archiveKey: string,
  partSize: number,
  progress: BackupProgress,
  report: () => void,
): Promise<Sent> {
  const { client, store, signal } = req;
  const tar = packTar(entries, {
    signal,
    onProgress: (p) => {
      progress.filesDone = p.entriesDone;
      progress.bytesRead = p.bytesRead;
      report();
    },
  });
  const plain = { size: 0 };
  const encrypted = await encryptStream(count(rechunk(tar.stream), plain), req.encryption);
  try {
    if (req.discardOutput) {
      for await (const _ of encrypted) throwIfAborted(signal, 'backup');
    } else {
      await uploadObject({
        client,
        bucket: store.bucket,
        key: archiveKey,
        body: encrypted,
        storageClass: store.storageClass,
        partSize,
        queueSize: req.concurrency ?? 4,
        contentType: 'application/pgp-encrypted',
        endpoint: store.endpoint,
        signal,
        onUploaded: (bytes) => {
          progress.bytesUploaded = bytes;
          report();
        },
        onNotice: req.onNotice,
      });
    }
  } catch (err) {
    // The tar side's own failure (a read error) explains more than the stream errors it caused.
    const packFailure = await tar.report.then(
      () => undefined,
      (e: unknown) => e,
    );
    // uploadObject's own verdicts (S3 failed, the stored object differs) stand as they are.
    if (err instanceof GlacierError && err.code !== 'cancelled' && !signal?.aborted) throw err;
    const cause = signal?.aborted ? new GlacierError('cancelled', 'backup cancelled') : (packFailure ?? err);
    throw cause instanceof GlacierError ? cause : s3Error(cause, { bucket: store.bucket, endpoint: store.endpoint, action: 'upload the archive' });
  }
  const cipher = encrypted.summary;
  if (!cipher) throw new GlacierError('corrupt', 'the archive stream ended early');
  return { tar, plain, cipher };
}

async function* count(source: AsyncIterable<Uint8Array>, into: { size: number }): AsyncGenerator<Uint8Array> {
  for await (const chunk of source) {
    into.size += chunk.byteLength;
    yield chunk;
  }
}

/** The id of the newest archive of these sources if its content fingerprint matches. */
async function findUnchanged(req: BackupRequest, sources: string, fingerprint: string): Promise<string | undefined> {
  const { client, store } = req;
  if (req.stateDir) {
    const last = await lastBackup(req.stateDir, store, sources);
    if (last && last.fingerprint === fingerprint) {
      const [archive, manifest] = await Promise.all([
        objectExists(client, store, keys.archive(store.prefix, last.id)),
        objectExists(client, store, keys.manifest(store.prefix, last.id)),
      ]);
      if (archive && manifest) return last.id;
    }
  }
  // Listing also checks early that the bucket exists and the credentials work.
  const listing = await listArchives(client, store, req.signal);
  const dec = req.decryption;
  if (!dec || (!dec.passphrase && !dec.privateKeys?.length)) return undefined;
  for (const item of listing) {
    if (!item.archive || !item.manifest) continue;
    let m: Manifest;
    try {
      m = await readManifest(client, store, item.id, dec, req.signal);
    } catch {
      continue; // another key's archive, or damaged: not ours to compare
    }
    if (sourcesKey(m.host, m.sources) !== sources) continue;
    return m.fingerprint === fingerprint && m.changed.length === 0 ? m.id : undefined;
  }
  return undefined;
}
