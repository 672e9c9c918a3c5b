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
import type { S3Client } from '@aws-sdk/client-s3';
import { keys, type StoreConfig } from '../config';
import { manifestCompression, type Compression } from '../crypto/compress';
import { encryptStream, newSeipdParams, openSessionKey, recipientFingerprints, type Decryption, type Encryption } from '../crypto/openpgp';
import type { SeipdParams } from '../crypto/seipd';
import { GlacierError, isSuspended, s3Error, suspendedMessage, throwIfAborted } from '../errors';
import { packTar, tarSizeBound } from '../pack/tarWriter';
import { walk, type Skipped } from '../pack/walk';
import {
  abortLeftovers,
  choosePartSize,
  ChecksumsRejected,
  formatBytes,
  isBadDigest,
  openUploads,
  storedParts,
  uploadObject,
  PartBuffers,
  type StoredPart,
} from '../store/upload';
import { withoutChecksums } from '../store/s3';
import { deleteOrSay, isPresent } from '../store/storedCheck';
import { listArchives, readManifest, writeManifest } from '../catalog/catalog';
import { contentFingerprint, manifestFormat, sourcesKey, type Manifest, type NewManifest } from '../catalog/manifest';
import { lastBackup, recordBackup } from '../catalog/dedupState';
import { claimJournal, removeJournal, sessionKeyCheck, writeJournal, type UploadJournal } from '../catalog/uploadJournal';

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
  /** ZIP compression of the archive and manifest (crypto/compress.ts); default `auto`. */
  compression?: Compression;
  /** Folder for the local record of last backups (dedup without reading manifests). */
  stateDir?: string;
  /** Benchmarks: pack and encrypt, then discard instead of uploading. */
  discardOutput?: boolean;
  signal?: AbortSignal;
  onProgress?: (p: BackupProgress) => void;
  /** Notes for the user (resumed, skipped, changed…); never contains secrets. */
  onNotice?: (message: string) => void;
  /** An interrupted upload of the same sources was found: continued, or abandoned (and why). */
  onResume?: (event: ResumeEvent) => void;
  /** Asked once the selection is scanned and found changed, before anything is uploaded; false cancels. */
  confirm?: (scan: { files: number; bytes: number }) => Promise<boolean> | boolean;
}

export type ResumeEvent =
  | { kind: 'resumed'; id: string; startedAt: string; part: number; parts: number; storedBytes: number }
  | { kind: 'abandoned'; id: string; startedAt: string; reason: string };

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
    if (existing && !req.force) {
      // An interrupted (forced) upload of the same content is no longer needed.
      const prior = req.stateDir ? await claimJournal(req.stateDir, store, sources).catch(() => undefined) : undefined;
      if (prior && prior !== 'busy') await abandonInterrupted(req, prior, `the files are unchanged since archive ${existing}`);
      return { status: 'unchanged', id: existing, skipped: scanned.skipped, changed: [] };
    }
  }
  throwIfAborted(signal, 'backup');
  if (req.confirm && !(await req.confirm({ files: progress.filesTotal, bytes: progress.bytesTotal }))) {
    throw new GlacierError('cancelled', 'backup cancelled');
  }

  const bound = tarSizeBound(scanned.entries);
  const cipherBound = bound + Math.ceil(bound / 1000) + (1 << 20);
  const plan = await planUpload(req, sources, fingerprint, choosePartSize(cipherBound));
  const { id, key: archiveKey, partSize, started } = plan.journal;
  if (plan.resume) {
    const stored = [...plan.resume.parts.values()].reduce((n, p) => n + p.size, 0);
    let part = 1;
    while (plan.resume.parts.has(part)) part++;
    const parts = Math.max(part, Math.ceil(cipherBound / partSize));
    req.onNotice?.(`resumed upload of archive ${id} at part ${part} of about ${parts}: ${formatBytes(stored)} were already stored by the run started ${started}`);
    req.onResume?.({ kind: 'resumed', id, startedAt: started, part, parts, storedBytes: stored });
  }

  progress.phase = 'uploading';
  report();
  // The archive's part buffers, lent to its manifest afterwards.
  const buffers = new PartBuffers(req.concurrency ?? 4);
  let sent: Sent;
  try {
    try {
      sent = await packAndUpload(req, scanned.entries, plan, buffers, progress, report);
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
      sent = await packAndUpload(req, scanned.entries, { ...plan, resume: undefined }, buffers, progress, report);
    }
  } catch (err) {
    // The upload was aborted (see uploadObject): nothing is left to resume, unless suspended.
    if (plan.journaled && !isSuspended(signal)) await removeJournal(req.stateDir!, store, sources, id).catch(() => undefined);
    throw err;
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
    compression: manifestCompression(req.compression ?? 'auto'),
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
    await writeManifest(client, store, manifest, req.encryption, { buffers, partSize, compression: req.compression ?? 'auto' });
  } catch (err) {
    // An archive without a manifest is invisible to browsing: remove it rather than leave it (and
    // the manifest, in case a lost answer hid that it was stored), and say what stays behind when
    // the credentials may not delete. What stays after a crash here is what `check` reports.
    const failed = err instanceof GlacierError ? err : s3Error(err, { bucket: store.bucket, endpoint: store.endpoint, action: `write the manifest of ${id}` });
    throw new GlacierError(failed.code, `${failed.message}; ${await removeUnrecorded(req, id, archiveKey)}`, { cause: err });
  } finally {
    if (plan.journaled) await removeJournal(req.stateDir!, store, sources, id).catch(() => undefined);
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
  plan: UploadPlan,
  buffers: PartBuffers,
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
  const encrypted = await encryptStream(count(tar.stream, plain), req.encryption, { params: plan.params, recycle: tar.recycle, compression: req.compression ?? 'auto' });
  try {
    if (req.discardOutput) {
      for await (const _ of encrypted) throwIfAborted(signal, 'backup');
    } else {
      await uploadObject({
        client,
        bucket: store.bucket,
        key: plan.journal.key,
        body: encrypted,
        storageClass: store.storageClass,
        partSize: plan.journal.partSize,
        ...(plan.resume ? { resume: plan.resume } : {}),
        onStarted: async (uploadId) => {
          if (plan.journaled) await noteUpload(req, { ...plan.journal, uploadId });
        },
        queueSize: req.concurrency ?? 4,
        buffers,
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
    const cause = signal?.aborted ? new GlacierError('cancelled', isSuspended(signal) ? suspendedMessage : 'backup cancelled') : (packFailure ?? err);
    throw cause instanceof GlacierError ? cause : s3Error(cause, { bucket: store.bucket, endpoint: store.endpoint, action: 'upload the archive' });
  }
  const cipher = encrypted.summary;
  if (!cipher) throw new GlacierError('corrupt', 'the archive stream ended early');
  return { tar, plain, cipher };
}

async function* count<T extends Uint8Array>(source: AsyncIterable<T>, into: { size: number }): AsyncGenerator<T> {
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
        isPresent(client, store, keys.archive(store.prefix, last.id)),
        isPresent(client, store, keys.manifest(store.prefix, last.id)),
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

/**
 * After its manifest failed: deletes the archive (and the manifest, if a lost answer hid that it
 * was stored) and says, truthfully, what was deleted and what stays.
 */
async function removeUnrecorded(req: BackupRequest, id: string, archiveKey: string): Promise<string> {
  const { client, store } = req;
  const archiveLeft = await deleteOrSay(client, store, archiveKey, 'archive');
  const said = [archiveLeft === undefined ? 'the uploaded archive was deleted and nothing was recorded' : `nothing was recorded, and the uploaded archive ${archiveLeft}`];
  const manifestKey = keys.manifest(store.prefix, id);
  const manifestLeft = (await isPresent(client, store, manifestKey).catch(() => true)) ? await deleteOrSay(client, store, manifestKey, 'manifest') : undefined;
  if (manifestLeft !== undefined) said.push(`its manifest ${manifestLeft}`);
  return said.join('; ');
}

/** Gives up an interrupted upload (see interruptedUploads): aborts it in the bucket and forgets its journal. */
export async function discardInterrupted(client: S3Client, store: StoreConfig, stateDir: string, journal: UploadJournal): Promise<void> {
  await abortLeftovers(client, store.bucket, journal.key, journal.uploadId).catch((err: unknown) => {
    throw s3Error(err, { bucket: store.bucket, endpoint: store.endpoint, action: 'abort the interrupted upload' });
  });
  await removeJournal(stateDir, store, journal.sources, journal.id);
}

/** Where and how the archive is uploaded: a new archive, or the continuation of an interrupted one. */
interface UploadPlan {
  /** The archive (id, key, part size, when its upload started) as the journal records it. */
  journal: Omit<UploadJournal, 'owner' | 'store' | 'version'>;
  /** Whether that journal is kept on disk (a state folder is given and it could be written). */
  journaled: boolean;
  params: SeipdParams;
  /** The unfinished multipart upload to continue, with its stored parts. */
  resume?: { uploadId: string; parts: ReadonlyMap<number, StoredPart> };
}

/**
 * Continues the interrupted upload of these sources when it is still in the bucket and would get
 * the same bytes (same walk fingerprint, same encryption); otherwise aborts it, says why, and
 * plans a new archive. A new upload is journaled before it starts.
 */
async function planUpload(req: BackupRequest, sources: string, fingerprint: string, partSize: number): Promise<UploadPlan> {
  const { client, store } = req;
  const encryption = { mode: req.encryption.mode, recipients: recipientFingerprints(req.encryption) };
  const plan = (id: string, key: string, size: number, params: SeipdParams, started: string): UploadPlan => ({
    params,
    journaled: req.stateDir !== undefined && !req.discardOutput,
    journal: {
      sources,
      fingerprint,
      id,
      key,
      partSize: size,
      started,
      encryption,
      compression: req.compression ?? 'auto',
      seipd: {
        algorithm: params.algorithm,
        prefix: Buffer.from(params.prefix).toString('base64'),
        keyPackets: Buffer.from(params.keyPackets).toString('base64'),
        sessionKeyCheck: sessionKeyCheck(params.sessionKey),
        ...(req.encryption.mode === 'public-key' ? { sessionKey: Buffer.from(params.sessionKey).toString('base64') } : {}),
      },
    },
  });
  const fresh = async (journaled = true): Promise<UploadPlan> => {
    const id = newArchiveId();
    const p = plan(id, keys.archive(store.prefix, id), partSize, await newSeipdParams(req.encryption), new Date().toISOString());
    p.journaled &&= journaled && (await noteUpload(req, p.journal));
    return p;
  };
  if (!req.stateDir || req.discardOutput) return fresh();
  const prior = await claimJournal(req.stateDir, store, sources).catch(() => undefined);
  // Another run is backing up the same sources right now: leave its journal alone.
  if (prior === 'busy') return fresh(false);
  if (!prior) return fresh();

  const abandon = async (reason: string): Promise<UploadPlan> => {
    await abandonInterrupted(req, prior, reason, '; uploading anew');
    return fresh();
  };
  if (prior.fingerprint !== fingerprint) return abandon('the files changed since');
  if (prior.encryption.mode !== encryption.mode || prior.encryption.recipients.join(',') !== encryption.recipients.join(',')) {
    return abandon('the encryption settings changed since');
  }
  if ((prior.compression ?? 'off') !== (req.compression ?? 'auto')) return abandon('the compression setting changed since');
  const keyPackets = Buffer.from(prior.seipd.keyPackets, 'base64');
  let sessionKey: Uint8Array | undefined;
  if (req.encryption.mode === 'passphrase') {
    const opened = await openSessionKey(keyPackets, { passphrase: req.encryption.passphrase });
    if (opened?.algorithm === prior.seipd.algorithm) sessionKey = opened.data;
  } else if (prior.seipd.sessionKey) {
    sessionKey = Buffer.from(prior.seipd.sessionKey, 'base64');
  }
  if (!sessionKey || sessionKeyCheck(sessionKey) !== prior.seipd.sessionKeyCheck) return abandon('the passphrase changed since');
  const params: SeipdParams = { algorithm: prior.seipd.algorithm, sessionKey, prefix: Buffer.from(prior.seipd.prefix, 'base64'), keyPackets };

  let uploadId = prior.uploadId;
  let parts: Map<number, StoredPart> | undefined;
  try {
    uploadId ??= (await openUploads(client, store.bucket, prior.key))[0]?.uploadId;
    parts = uploadId === undefined ? undefined : await storedParts(client, store.bucket, prior.key, uploadId);
  } catch (err) {
    throw s3Error(err, { bucket: store.bucket, endpoint: store.endpoint, action: 'look up the interrupted upload' });
  }
  if (uploadId === undefined || parts === undefined) {
    // Aborted since (by `check` or the bucket's lifecycle rule), or completed just before the
    // run was killed, its manifest unwritten: such an archive is not in the catalog, so remove it.
    if (!(await isPresent(client, store, prior.key))) return abandon('it is no longer in the bucket');
    const left = await deleteOrSay(client, store, prior.key, 'archive');
    return abandon(`its archive was complete but had no manifest, and ${left === undefined ? 'was deleted' : `it ${left}`}`);
  }
  return { ...plan(prior.id, prior.key, prior.partSize, params, prior.started), resume: { uploadId, parts } };
}

/** Writes the journal of an upload; says so (and returns false) when it cannot, as the upload goes on without. */
async function noteUpload(req: BackupRequest, journal: UploadPlan['journal']): Promise<boolean> {
  try {
    await writeJournal(req.stateDir!, req.store, journal);
    return true;
  } catch (err) {
    req.onNotice?.(`could not note the upload for resuming (${(err as Error).message}): an interrupted run will start over`);
    return false;
  }
}

/** Gives up an interrupted upload and says why, and what stays behind when it could not be aborted. */
async function abandonInterrupted(req: BackupRequest, prior: UploadJournal, reason: string, then = ''): Promise<void> {
  const left = await discardInterrupted(req.client, req.store, req.stateDir!, prior).then(
    () => '',
    (err: unknown) =>
      ` (it could not be aborted: ${(err as Error).message}; its parts stay in the bucket, billed, until "glacier-backup check --repair" or the bucket's lifecycle rule for incomplete uploads removes them)`,
  );
  req.onNotice?.(`abandoned the interrupted upload of archive ${prior.id} (started ${prior.started}): ${reason}${then}${left}`);
  req.onResume?.({ kind: 'abandoned', id: prior.id, startedAt: prior.started, reason });
}
