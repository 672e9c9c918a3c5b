/**
 * Where and how a backup's archive is uploaded: a new archive, journaled before its upload starts
 * (catalog/uploadJournal.ts), or the continuation of the interrupted upload of the same sources
 * when it is still in the store and would get the same bytes. An interrupted upload that cannot
 * be continued is given up: aborted in the store, its journal forgotten, and the user told why.
 */
import { randomBytes } from 'node:crypto';
import { newSeipdParams, openSessionKey, recipientFingerprints } from '../crypto/openpgp';
import type { SeipdParams } from '../crypto/seipd';
import type { ArchiveStore, StoredPart } from '../store/archiveStore';
import { idStamp, keys } from '../model/keys';
import { deleteOrSay } from '../store/leftovers';
import { claimJournal, interruptedUploads, removeJournal, sessionKeyCheck, writeJournal, type UploadJournal } from '../catalog/uploadJournal';
import type { BackupRequest } from './backup';

/**
 * A new archive id: its UTC start time (sortable), then 16 hex digits: the millisecond in 10 bits
 * and 54 random bits (config.ts archiveIdPattern), so ids of one second still sort as made on one
 * machine. With `after` (the id an increment continues), one that sorts after it: a chain's ids
 * ascend, so the random part is then drawn above `after`'s when that is of this second and higher.
 * An `after` that no id of this second can pass (a later second: a clock set back, or another
 * machine's) makes that backup a full one instead (increment.ts fullReason, lastIdOf).
 */
export function newArchiveId(now = new Date(), after?: string): string {
  const stamp = idStamp(now);
  const random = BigInt(`0x${randomBytes(8).toString('hex')}`);
  const base = BigInt(now.getUTCMilliseconds()) << 54n;
  const above = after?.startsWith(`${stamp}-`) ? BigInt(`0x${after.slice(stamp.length + 1)}`) + 1n : 0n;
  const floor = above > base ? above : base;
  const ceiling = floor < base + (1n << 54n) ? base + (1n << 54n) : 1n << 64n;
  const value = floor < ceiling ? floor + (random % (ceiling - floor)) : random;
  return `${stamp}-${value.toString(16).padStart(16, '0')}`;
}

/** The time an archive id starts with (`20260102T030405Z-…`): when its backup started; undefined if it has none. */
export function archiveIdTime(id: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z/.exec(id);
  return m ? new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!)) : undefined;
}

/** The largest id of the second `now` is in: an increment must continue an id below it. */
export function lastIdOf(now: Date): string {
  return `${idStamp(now)}-ffffffffffffffff`;
}

/**
 * Backups of `store` whose upload was interrupted (a window closed, VS Code quit) and that no
 * running backup holds: what to offer to resume (a backup of the same paths) or discard.
 */
export function interruptedBackups(stateDir: string, store: Pick<ArchiveStore, 'stateId'>): Promise<{ journal: UploadJournal; paths: string[] }[]> {
  return interruptedUploads(stateDir, store);
}

/**
 * Gives up an interrupted upload (see interruptedBackups): aborts it in the store, and any other
 * upload still open for its key (best effort: the key is its archive's alone), then forgets its
 * journal. A failure to abort the journaled upload is thrown, after the others were tried.
 */
export async function discardInterrupted(store: ArchiveStore, stateDir: string, journal: UploadJournal): Promise<void> {
  const key = keys.archive(journal.id);
  const action = 'abort the interrupted upload';
  let failure: { error: unknown } | undefined;
  if (journal.uploadId !== undefined) await store.abortUpload({ key, uploadId: journal.uploadId }, { action }).catch((error: unknown) => (failure = { error }));
  try {
    for (const open of await store.openUploads(key, { action })) await store.abortUpload(open, { action });
  } catch {
    // The bucket's lifecycle rule for incomplete uploads is the last line of defence.
  }
  if (failure) throw failure.error;
  await removeJournal(stateDir, store, journal.sources, journal.id);
}

/** Where and how the archive is uploaded: a new archive, or the continuation of an interrupted one. */
export interface UploadPlan {
  /** The archive (id, key, part size, when its upload started) as the journal records it. */
  journal: Omit<UploadJournal, 'owner' | 'store' | 'version'>;
  /** Whether that journal is kept on disk (a state folder is given and it could be written). */
  journaled: boolean;
  /** The most bytes the archive can hold. */
  sizeBound: number;
  params: SeipdParams;
  /** The unfinished multipart upload to continue, with its stored parts. */
  resume?: { uploadId: string; parts: ReadonlyMap<number, StoredPart> };
}

/**
 * Continues the interrupted upload of these sources when it is still in the bucket and would get
 * the same bytes (same walk fingerprint, same encryption); otherwise aborts it, says why, and
 * plans a new archive. A new upload is journaled before it starts.
 */
export async function planUpload(req: BackupRequest & { after?: string }, sources: string, fingerprint: string, partSize: number, sizeBound: number): Promise<UploadPlan> {
  const { store } = req;
  const encryption = { mode: req.encryption.mode, recipients: recipientFingerprints(req.encryption) };
  const plan = (id: string, key: string, size: number, params: SeipdParams, started: string): UploadPlan => ({
    params,
    sizeBound,
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
    const id = newArchiveId(new Date(), req.after);
    const p = plan(id, store.objectKey(keys.archive(id)), partSize, await newSeipdParams(req.encryption), new Date().toISOString());
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

  // The journal records the key as manifests do (prefix included); the store is asked by id.
  const key = keys.archive(prior.id);
  const action = 'look up the interrupted upload';
  const uploadId = prior.uploadId ?? (await store.openUploads(key, { action }))[0]?.uploadId;
  const parts: Map<number, StoredPart> | undefined = uploadId === undefined ? undefined : await store.uploadedParts({ key, uploadId }, { action });
  if (uploadId === undefined || parts === undefined) {
    // Aborted since (by `check` or the bucket's lifecycle rule), or completed just before the
    // run was killed, its manifest unwritten: such an archive is not in the catalog, so remove it.
    if (!(await store.has(key))) return abandon('it is no longer in the bucket');
    const left = await deleteOrSay(store, key, 'archive');
    return abandon(`its archive was complete but had no manifest, and ${left === undefined ? 'was deleted' : `it ${left}`}`);
  }
  return { ...plan(prior.id, prior.key, prior.partSize, params, prior.started), resume: { uploadId, parts } };
}

/** Writes the journal of an upload; says so (and returns false) when it cannot, as the upload goes on without. */
export async function noteUpload(req: BackupRequest, journal: UploadPlan['journal']): Promise<boolean> {
  try {
    await writeJournal(req.stateDir!, req.store, journal);
    return true;
  } catch (err) {
    req.onNotice?.(`could not note the upload for resuming (${(err as Error).message}): an interrupted run will start over`);
    return false;
  }
}

/** Gives up an interrupted upload and says why, and what stays behind when it could not be aborted. */
export async function abandonInterrupted(req: BackupRequest, prior: UploadJournal, reason: string, then = ''): Promise<void> {
  const left = await discardInterrupted(req.store, req.stateDir!, prior).then(
    () => '',
    (err: unknown) =>
      ` (it could not be aborted: ${(err as Error).message}; its parts stay in the bucket, billed, until "glacier-backup check --repair" or the bucket's lifecycle rule for incomplete uploads removes them)`,
  );
  req.onNotice?.(`abandoned the interrupted upload of archive ${prior.id} (started ${prior.started}): ${reason}${then}${left}`);
  req.onResume?.({ kind: 'abandoned', id: prior.id, startedAt: prior.started, reason });
}
