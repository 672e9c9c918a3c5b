/**
 * The backup job: walk → tar → OpenPGP → multipart upload into the archive class, then the
 * encrypted manifest into STANDARD. Progress flows out through a callback; cancellation comes in
 * through an AbortSignal.
 *
 * Guarantees: a manifest is written only after its archive is complete and verified against what
 * was sent (the store's put, store/archiveStore.ts), so the catalog never points at a partial or
 * damaged archive; on failure or cancel the upload is aborted and nothing is recorded. An endpoint that
 * rejects S3 checksum headers, or data S3 refused as damaged in transit (BadDigest), gets one more
 * upload from the start. A backup whose walked metadata equals the newest archive of the same sources uploads
 * nothing (unless forced) and returns that archive's id.
 */
import * as os from 'node:os';
import { manifestCompression, type Compression } from '../crypto/compress';
import { encryptStream, recipientFingerprints, type Decryption, type Encryption } from '../crypto/openpgp';
import { describeError, GlacierError, isSuspended, suspendedMessage, throwIfAborted } from '../errors';
import { packTar, tarSizeBound, type PackReport } from '../pack/tarWriter';
import type { SourceEntryList } from '../pack/entryList';
import { archiveSizeBound } from '../pack/incremental/sizeBound';
import type { ArchiveResult } from '../pack/incremental/archiveWriter';
import { planSnapshot, type IncrementPlan } from '../pack/incremental/plan';
import { walk, type Skipped } from '../pack/walk';
import { formatBytes } from '../model/format';
import { PutRetry, type ArchiveStore } from '../store/archiveStore';
import { keys } from '../model/keys';
import { deleteOrSay } from '../store/leftovers';
import { PartBuffers } from '../store/partBuffers';
import { partCount } from '../store/partSchedule';
import { writeManifest } from '../catalog/catalog';
import { writeSummary } from '../catalog/summary';
import { contentFingerprint, manifestFormat, sourcesKey, type Manifest, type NewManifest } from '../catalog/manifest';
import { recordBackup } from '../catalog/dedupState';
import { saveLastManifest } from '../catalog/chainState';
import { writeFreshnessMarker } from '../catalog/freshnessMarker';
import { claimJournal, removeJournal } from '../catalog/uploadJournal';
import { abandonInterrupted, archiveIdTime, noteUpload, planUpload, type UploadPlan } from './uploadPlan';
import { countFilesAndLinks, findPrevious, fullReason, hasBigFiles, incrementBytes, incrementFingerprint, incrementManifest, incrementTar, planIncrement } from './increment';
import { defaultChainPolicy, type ChainPolicy } from '../model/chain';

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
  store: ArchiveStore;
  paths: readonly string[];
  encryption: Encryption;
  /** Lets the job read existing manifests to recognise unchanged content (passphrase mode). */
  decryption?: Decryption;
  label?: string;
  force?: boolean;
  /** Start a new chain: a full backup even when an increment of the previous snapshot would do. */
  full?: boolean;
  /** When a new full backup starts on its own (default defaultChainPolicy). */
  chainPolicy?: ChainPolicy;
  exclude?: readonly string[];
  followSymlinks?: boolean;
  /** Parts uploaded in parallel (default 4). */
  concurrency?: number;
  /** ZIP compression of the archive and manifest (crypto/compress.ts); default `auto`. */
  compression?: Compression;
  /** Folder for the local record of last backups (dedup without reading manifests). */
  stateDir?: string;
  /** Rewrite the host's freshness marker after a successful backup (catalog/freshnessMarker.ts); a failure is a note. */
  freshnessMarker?: boolean;
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
  /** What a created backup did, compared with the previous snapshot of the same sources. */
  summary?: BackupSummary;
}

export interface BackupSummary {
  /** An increment of the previous snapshot, or a full backup (and why, when an increment was possible). */
  kind: 'increment' | 'full';
  fullReason?: string;
  added: number;
  changedFiles: number;
  removed: number;
  /** Ciphertext bytes of the archive uploaded. */
  uploadedBytes: number;
}

/** "12 changed, 3 added, 2 removed: 1.4 MiB uploaded" (and "full backup" when it was one). */
export function describeSummary(s: BackupSummary): string {
  const what = `${s.changedFiles} changed, ${s.added} added, ${s.removed} removed: ${formatBytes(s.uploadedBytes)} uploaded`;
  return s.kind === 'full' ? `full backup (${what})` : what;
}

export { discardInterrupted, interruptedBackups, newArchiveId } from './uploadPlan';

export async function backup(req: BackupRequest): Promise<BackupResult> {
  const { store, signal } = req;
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

  let previous: Manifest | undefined;
  if (!req.discardOutput) {
    progress.phase = 'checking';
    report();
    const found = await findPrevious(req, sources, fingerprint);
    if (found.unchanged && !req.force) {
      // An interrupted (forced) upload of the same content is no longer needed.
      const prior = req.stateDir ? await claimJournal(req.stateDir, store, sources).catch(() => undefined) : undefined;
      if (prior && prior !== 'busy') await abandonInterrupted(req, prior, `the files are unchanged since archive ${found.unchanged}`);
      await markFresh(req, host, sources, archiveIdTime(found.unchanged) ?? new Date(0));
      return { status: 'unchanged', id: found.unchanged, skipped: scanned.skipped, changed: [] };
    }
    previous = found.previous;
  }
  throwIfAborted(signal, 'backup');
  if (req.confirm && !(await req.confirm({ files: progress.filesTotal, bytes: progress.bytesTotal }))) {
    throw new GlacierError('cancelled', 'backup cancelled');
  }

  // An increment of the previous snapshot, unless the chain policy (or --full) says a full one.
  const encryption = { mode: req.encryption.mode, recipients: recipientFingerprints(req.encryption) };
  const incPlan = previous ? planIncrement(scanned.entries, previous) : undefined;
  const toStore = previous && incPlan ? incrementBytes(scanned.entries, incPlan, previous) : 0;
  const why = fullReason({ previous, plan: incPlan, toStore, fileBytes: progress.bytesTotal, encryption, policy: req.chainPolicy ?? defaultChainPolicy, forced: req.full ?? false, now: new Date() });
  // A full is written as version 1, unless it holds big files: then as version 2, by chunks, which the next increments refer to.
  const inc = why === undefined && previous && incPlan ? { previous, plan: incPlan } : hasBigFiles(scanned.entries) ? { plan: planSnapshot(scanned.entries) } : undefined;

  const bound = inc ? archiveSizeBound(scanned.entries, inc.plan) : tarSizeBound(scanned.entries);
  const cipherBound = bound + Math.ceil(bound / 1000) + (1 << 20);
  const plan = await planUpload({ ...req, ...(inc?.previous ? { after: inc.previous.id } : {}) }, sources, inc?.previous ? incrementFingerprint(fingerprint, inc.previous.id) : fingerprint, store.partSize(cipherBound), cipherBound);
  const { id, key: archiveKey, partSize, started } = plan.journal;
  if (plan.resume) {
    const stored = [...plan.resume.parts.values()].reduce((n, p) => n + p.size, 0);
    let part = 1;
    while (plan.resume.parts.has(part)) part++;
    const parts = Math.max(part, partCount(partSize, cipherBound));
    req.onNotice?.(`resumed upload of archive ${id} at part ${part} of about ${parts}: ${formatBytes(stored)} were already stored by the run started ${started}`);
    req.onResume?.({ kind: 'resumed', id, startedAt: started, part, parts, storedBytes: stored });
  }

  progress.phase = 'uploading';
  report();
  const tarSource = (): TarSource => (inc ? incrementSource(req, scanned.entries, inc.plan, id, started, progress, report) : fullSource(req, scanned.entries, progress, report));
  // The archive's part buffers, lent to its manifest afterwards.
  const buffers = new PartBuffers((req.concurrency ?? 4) + 1);
  let sent: Sent;
  try {
    try {
      sent = await packAndUpload(req, tarSource(), plan, buffers, progress, report);
    } catch (err) {
      if (err instanceof PutRetry && err.reason === 'store-adjusted') {
        // An S3-compatible store that refuses checksum headers: the sha256 check still holds.
        req.onNotice?.(`${err.message}: uploading again without them (the archive's size and sha256 are still checked)`);
      } else if (err instanceof PutRetry) {
        // S3 found data damaged in transit and refused it (nothing was stored): once more.
        req.onNotice?.('S3 refused part of the archive as damaged in transit (BadDigest): uploading it again');
      } else {
        throw err;
      }
      sent = await packAndUpload(req, tarSource(), { ...plan, resume: undefined }, buffers, progress, report);
    }
  } catch (err) {
    // The store aborted the upload (archiveStore.ts put): nothing is left to resume, unless suspended.
    if (plan.journaled && !isSuspended(signal)) await removeJournal(req.stateDir!, store, sources, id).catch(() => undefined);
    throw err;
  }
  const { tar, plain, cipher } = sent;
  const packed = await tar.report;
  const skipped: Skipped[] = [...scanned.skipped, ...packed.skipped.map((k) => ('reason' in k ? k : { path: k.path, reason: 'unreadable' as const, detail: k.detail }))];
  for (const path of packed.changed) req.onNotice?.(`changed while reading: ${path}`);
  const v2 = inc ? incrementManifest(scanned.entries, inc.plan, packed as ArchiveResult, inc.previous, id) : undefined;
  const v1 = packed as PackReport;

  const manifest: NewManifest = {
    format: manifestFormat,
    version: v2 ? 2 : 1,
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
      storageClass: store.archiveClass,
    },
    encryption,
    compression: manifestCompression(req.compression ?? 'auto'),
    ...(v2 ? { chain: v2.fields.chain, needs: v2.fields.needs } : {}),
    fileCount: v2 ? v2.fileCount : v1.entries.fileCount,
    fileBytes: v2 ? v2.fileBytes : v1.entries.fileBytes,
    ...(v2 ? { renames: v2.fields.renames, added: v2.fields.added, changedFiles: v2.fields.changedFiles, removed: v2.fields.removed, uploadedBytes: v2.fields.uploadedBytes } : {}),
    entries: v2 ? v2.entries : v1.entries,
    skipped: skipped.map((s) => ({ path: s.path, reason: `${s.reason}: ${s.detail}` })),
    changed: packed.changed,
  };
  const counts = incPlan?.counts ?? v2?.fields ?? { added: countFilesAndLinks(v1.entries), changedFiles: 0, removed: 0 };
  const summary: BackupSummary = {
    kind: inc?.previous ? 'increment' : 'full',
    ...(why === undefined || !previous ? {} : { fullReason: why }),
    added: counts.added,
    changedFiles: counts.changedFiles,
    removed: counts.removed,
    uploadedBytes: cipher.size,
  };
  if (req.discardOutput) return { status: 'created', id, manifest, skipped, changed: packed.changed, summary };

  progress.phase = 'finishing';
  report();
  try {
    await writeSummary(store, manifest, req.encryption, { compression: req.compression ?? 'auto', onNotice: req.onNotice });
    await writeManifest(store, manifest, req.encryption, { buffers, partSize, compression: req.compression ?? 'auto' });
  } catch (err) {
    // An archive without a manifest is invisible to browsing: remove it rather than leave it (and
    // the manifest, in case a lost answer hid that it was stored), and say what stays behind when
    // the credentials may not delete. What stays after a crash here is what `check` reports.
    const failed = err instanceof GlacierError ? err : new GlacierError('s3', `could not write the manifest of ${id}: ${describeError(err)}`);
    throw new GlacierError(failed.code, `${failed.message}; ${await removeUnrecorded(req, id)}`, { cause: err });
  } finally {
    if (plan.journaled) await removeJournal(req.stateDir!, store, sources, id).catch(() => undefined);
  }
  if (req.stateDir && packed.changed.length === 0) {
    await recordBackup(req.stateDir, store, sources, { id, fingerprint }).catch(() => undefined);
  }
  if (req.stateDir && req.encryption.mode === 'public-key') {
    // What the next increment continues from, as manifests cannot be read in this mode.
    await saveLastManifest(req.stateDir, store, sources, manifest).catch((err: unknown) => req.onNotice?.(`could not keep a local copy of the manifest (${describeError(err)}): the next backup will be a full one`));
  }
  await markFresh(req, host, sources, new Date(manifest.created));
  return { status: 'created', id, manifest, skipped, changed: packed.changed, summary };
}

/** The archive's tar as the encryptor takes it, and what was written once it is consumed. */
interface TarSource {
  stream: AsyncIterable<Buffer>;
  report: Promise<PackReport | ArchiveResult>;
  recycle?: (chunk: Buffer) => void;
}

/** A full backup's tar (version 1, tarWriter.ts). */
function fullSource(req: BackupRequest, entries: SourceEntryList, progress: BackupProgress, report: () => void): TarSource {
  return packTar(entries, {
    signal: req.signal,
    onProgress: (p) => {
      progress.filesDone = p.entriesDone;
      progress.bytesRead = p.bytesRead;
      report();
    },
  });
}

/** An increment's tar (version 2, increment.ts); its records' times are the upload's start, so a resumed upload gets the same bytes. */
function incrementSource(req: BackupRequest, entries: SourceEntryList, plan: IncrementPlan, id: string, started: string, progress: BackupProgress, report: () => void): TarSource {
  return incrementTar(entries, plan, {
    id,
    timeMs: Date.parse(started),
    signal: req.signal,
    onProgress: (bytes) => {
      progress.bytesRead = Math.min(bytes, progress.bytesTotal);
      report();
    },
  });
}

/** The freshness marker, when asked for; never fails the backup (writeFreshnessMarker). */
async function markFresh(req: BackupRequest, host: string, set: string, newest: Date): Promise<void> {
  if (!req.freshnessMarker) return;
  await writeFreshnessMarker(req.store, { host, set, newest, checked: new Date() }, { signal: req.signal, onNotice: req.onNotice });
}

interface Sent {
  tar: TarSource;
  plain: { size: number };
  /** Size and sha256 of the ciphertext, as the encryptor counted them. */
  cipher: { size: number; sha256: string };
}

/** Packs, encrypts and uploads (or discards) the archive once; on failure nothing is left in the bucket. */
async function packAndUpload(
  req: BackupRequest,
  tar: TarSource,
  plan: UploadPlan,
  buffers: PartBuffers,
  progress: BackupProgress,
  report: () => void,
): Promise<Sent> {
  const { store, signal } = req;
  const plain = { size: 0 };
  const encrypted = await encryptStream(count(tar.stream, plain), req.encryption, { params: plan.params, ...(tar.recycle ? { recycle: tar.recycle } : {}), compression: req.compression ?? 'auto' });
  try {
    if (req.discardOutput) {
      for await (const _ of encrypted) throwIfAborted(signal, 'backup');
    } else {
      await store.put({
        key: keys.archive(plan.journal.id),
        body: encrypted,
        tier: 'archive',
        sizeBound: plan.sizeBound,
        partSize: plan.journal.partSize,
        ...(plan.resume ? { resume: plan.resume } : {}),
        onStarted: async (uploadId) => {
          if (plan.journaled) await noteUpload(req, { ...plan.journal, uploadId });
        },
        concurrency: req.concurrency ?? 4,
        buffers,
        contentType: 'application/pgp-encrypted',
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
    // The store's own verdicts (S3 failed, the stored object differs) stand as they are.
    if (err instanceof GlacierError && err.code !== 'cancelled' && !signal?.aborted) throw err;
    const cause = signal?.aborted ? new GlacierError('cancelled', isSuspended(signal) ? suspendedMessage : 'backup cancelled') : (packFailure ?? err);
    throw cause instanceof GlacierError ? cause : new GlacierError('s3', `could not upload the archive: ${describeError(cause)}`, { cause });
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

/**
 * After its manifest failed: deletes the archive (and the manifest, if a lost answer hid that it
 * was stored) and says, truthfully, what was deleted and what stays.
 */
async function removeUnrecorded(req: BackupRequest, id: string): Promise<string> {
  const { store } = req;
  const archiveLeft = await deleteOrSay(store, keys.archive(id), 'archive');
  const said = [archiveLeft === undefined ? 'the uploaded archive was deleted and nothing was recorded' : `nothing was recorded, and the uploaded archive ${archiveLeft}`];
  for (const [key, what] of [[keys.manifest(id), 'manifest'], [keys.summary(id), 'catalog summary']] as const) {
    const left = (await store.has(key).catch(() => true)) ? await deleteOrSay(store, key, what) : undefined;
    if (left !== undefined) said.push(`its ${what} ${left}`);
  }
  return said.join('; ');
}
