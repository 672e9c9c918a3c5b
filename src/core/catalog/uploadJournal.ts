/**
 * The local journal of a backup's upload in progress, one file per bucket, prefix and set of
 * sources under `<stateDir>/uploads/`, so that a run killed mid-upload can be continued by the
 * next backup of the same sources: the archive's id and key, the multipart upload's id, the part
 * size, the content fingerprint the upload was made from, and what fixes the ciphertext (the
 * session-key packets and the SEIPD prefix; see crypto/seipd.ts).
 *
 * Guarantees: writes are atomic (temp file + rename, mode 0600). A journal names the process
 * that owns it; `claimJournal` hands a journal over only when that process is gone (or a zombie, or is
 * the caller), under a lock, so two runs never continue the same upload. Whatever is read back is
 * checked field by field; a journal that does not parse is treated as absent (and the upload it
 * named, if any, is left to `check` and the bucket's lifecycle rule).
 *
 * Secrets: in passphrase mode the session key is not stored: it is recovered from the key
 * packets with the passphrase, and `sessionKeyCheck` (its SHA-256) tells whether the passphrase
 * is still the same. In public-key mode this machine cannot open the key packets, so the session
 * key itself is stored, readable only by the user, until the upload completes or is abandoned. It
 * opens only this one archive, whose plaintext is this machine's own files.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ArchiveStore } from '../store/archiveStore';
import { compressions, type Compression } from '../crypto/compress';
import { withFileLock } from '../fileLock';
import { writeFileAtomic } from '../util/atomicWrite';
import { processAlive } from '../util/processAlive';

export interface UploadJournal {
  version: 1;
  /** Which store and sources (see manifest.sourcesKey) this upload is a backup of. */
  store: string;
  sources: string;
  /** The content fingerprint of the walk the upload was made from. */
  fingerprint: string;
  id: string;
  key: string;
  /** Set once the multipart upload exists. */
  uploadId?: string;
  partSize: number;
  started: string;
  owner: { host: string; pid: number };
  encryption: { mode: 'passphrase' | 'public-key'; recipients: string[] };
  /** The compression setting the upload was made with; absent (written before compression): `off`. */
  compression?: Compression;
  seipd: {
    algorithm: 'aes128' | 'aes192' | 'aes256';
    /** Base64. */
    prefix: string;
    keyPackets: string;
    sessionKeyCheck: string;
    /** Public-key mode only (see above). */
    sessionKey?: string;
  };
}

const folder = 'uploads';

export function sessionKeyCheck(sessionKey: Uint8Array): string {
  return createHash('sha256').update('glacier-backup session key check\0').update(sessionKey).digest('hex');
}

function fileOf(dir: string, store: Pick<ArchiveStore, 'stateId'>, sources: string): string {
  const name = createHash('sha256').update(`${store.stateId}\0${sources}`).digest('hex').slice(0, 32);
  return path.join(dir, folder, `${name}.json`);
}

/** Writes (or replaces) the journal of these sources, owned by this process. */
export async function writeJournal(dir: string, store: Pick<ArchiveStore, 'stateId'>, journal: Omit<UploadJournal, 'owner' | 'store' | 'version'>): Promise<void> {
  const file = fileOf(dir, store, journal.sources);
  const full: UploadJournal = { version: 1, store: store.stateId, ...journal, owner: { host: os.hostname(), pid: process.pid } };
  await writeFileAtomic(file, JSON.stringify(full));
}

/** Removes the journal of these sources if it is still this upload's. */
export async function removeJournal(dir: string, store: Pick<ArchiveStore, 'stateId'>, sources: string, id: string): Promise<void> {
  const file = fileOf(dir, store, sources);
  await withFileLock(file, async () => {
    const current = await read(file);
    if (current === undefined || current.id === id) await fs.rm(file, { force: true });
  });
}

/**
 * The journal of an interrupted upload of these sources, now owned by this process; undefined
 * when there is none, 'busy' when its owner is still running (a backup in another window).
 */
export async function claimJournal(dir: string, store: Pick<ArchiveStore, 'stateId'>, sources: string): Promise<UploadJournal | 'busy' | undefined> {
  const file = fileOf(dir, store, sources);
  try {
    await fs.access(file);
  } catch {
    return undefined;
  }
  return withFileLock(file, async () => {
    const journal = await read(file);
    if (journal === undefined) {
      await fs.rm(file, { force: true });
      return undefined;
    }
    if (journal.store !== store.stateId || journal.sources !== sources) return 'busy';
    if (isRunning(journal.owner)) return 'busy';
    const claimed: UploadJournal = { ...journal, owner: { host: os.hostname(), pid: process.pid } };
    await writeFileAtomic(file, JSON.stringify(claimed));
    return claimed;
  });
}

/**
 * The journals of interrupted uploads into this store made on this host (their process is gone),
 * oldest first, with the paths each backs up: what a front end can offer to resume.
 */
export async function interruptedUploads(dir: string, store: Pick<ArchiveStore, 'stateId'>): Promise<{ journal: UploadJournal; paths: string[] }[]> {
  let names: string[];
  try {
    names = (await fs.readdir(path.join(dir, folder))).filter((n) => /^[0-9a-f]{32}\.json$/.test(n));
  } catch {
    return [];
  }
  const found: { journal: UploadJournal; paths: string[] }[] = [];
  for (const name of names) {
    const journal = await read(path.join(dir, folder, name));
    if (!journal || journal.store !== store.stateId || isRunning(journal.owner)) continue;
    let sources: unknown;
    try {
      sources = JSON.parse(journal.sources);
    } catch {
      continue;
    }
    const [host, paths] = Array.isArray(sources) ? (sources as unknown[]) : [];
    if (host !== os.hostname() || !Array.isArray(paths) || paths.length === 0 || !paths.every((p) => typeof p === 'string')) continue;
    found.push({ journal, paths: paths as string[] });
  }
  return found.sort((a, b) => a.journal.started.localeCompare(b.journal.started));
}

function isRunning(owner: { host: string; pid: number }): boolean {
  if (owner.pid === process.pid) return false;
  if (owner.host !== os.hostname()) return true; // a shared state folder: not ours to judge
  return processAlive(owner.pid);
}

async function read(file: string): Promise<UploadJournal | undefined> {
  let value: unknown;
  try {
    value = JSON.parse(await fs.readFile(file, 'utf8'));
  } catch {
    return undefined;
  }
  return parseJournal(value);
}

const b64 = /^[A-Za-z0-9+/]*={0,2}$/;

export function parseJournal(value: unknown): UploadJournal | undefined {
  const j = value as Partial<UploadJournal> | null;
  if (typeof j !== 'object' || j === null || j.version !== 1) return undefined;
  const str = (v: unknown): v is string => typeof v === 'string';
  const s = j.seipd;
  const ok =
    str(j.store) &&
    str(j.sources) &&
    str(j.fingerprint) &&
    str(j.id) &&
    str(j.key) &&
    (j.uploadId === undefined || str(j.uploadId)) &&
    Number.isSafeInteger(j.partSize) &&
    (j.partSize ?? 0) > 0 &&
    str(j.started) &&
    typeof j.owner === 'object' &&
    j.owner !== null &&
    str(j.owner.host) &&
    Number.isSafeInteger(j.owner.pid) &&
    typeof j.encryption === 'object' &&
    j.encryption !== null &&
    (j.encryption.mode === 'passphrase' || j.encryption.mode === 'public-key') &&
    Array.isArray(j.encryption.recipients) &&
    j.encryption.recipients.every(str) &&
    (j.compression === undefined || compressions.includes(j.compression)) &&
    typeof s === 'object' &&
    s !== null &&
    (s.algorithm === 'aes128' || s.algorithm === 'aes192' || s.algorithm === 'aes256') &&
    str(s.prefix) &&
    b64.test(s.prefix) &&
    str(s.keyPackets) &&
    b64.test(s.keyPackets) &&
    str(s.sessionKeyCheck) &&
    (s.sessionKey === undefined || (str(s.sessionKey) && b64.test(s.sessionKey)));
  return ok ? (j as UploadJournal) : undefined;
}
