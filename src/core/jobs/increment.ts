/**
 * The incremental side of a backup (docs/format.md, "Chains"): whether this backup starts a new
 * chain (a full, written as version 1 by tarWriter.ts) or continues the previous snapshot's (an
 * increment, written by pack/incremental/archiveWriter.ts), the stream of an increment's tar, and
 * its manifest's version 2 fields. The decision is taken from the previous manifest alone, so a
 * resumed upload takes the same one.
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { GlacierError, throwIfAborted } from '../errors';
import { archivesNeeded, sourcesKey, type CatalogEntry, type Manifest } from '../catalog/manifest';
import { listArchives, readManifest } from '../catalog/catalog';
import { readHeader } from '../catalog/summary';
import { mapLimit } from '../util/mapLimit';
import { lastBackup } from '../catalog/dedupState';
import { loadLastManifest } from '../catalog/chainState';
import { keys } from '../model/keys';
import type { BackupRequest } from './backup';
import { archiveIdTime, lastIdOf } from './uploadPlan';
import type { ManifestV2Fields } from '../catalog/manifestV2';
import { chainLimits, chainNeeds, fullChain, holdersOf, nextChain, type ChainPolicy } from '../model/chain';
import { entryName, fsPath } from '../model/rawNames';
import type { SourceEntryList } from '../pack/entryList';
import { emptyResult, writeArchive, type ArchiveResult } from '../pack/incremental/archiveWriter';
import { manifestEntriesV2 } from '../pack/incremental/entries';
import type { ConfirmRename } from '../pack/incremental/folderRenames';
import { planSnapshot, type IncrementPlan } from '../pack/incremental/plan';
import { tarChunkSize } from '../pack/tarWriter';
import { ChunkPool } from '../pack/chunkPool';
import { isChunkable } from '../pack/incremental/records';


/** Catalog summaries read side by side while looking for the previous snapshot. */
const headerWindow = 4;

/**
 * The newest snapshot of these sources: its id when its content fingerprint matches (unchanged),
 * and its manifest, which an increment continues, when it can be read (passphrase mode) and every
 * archive of its chain is still in the bucket.
 */
export async function findPrevious(req: BackupRequest, sources: string, fingerprint: string): Promise<{ unchanged?: string; previous?: Manifest }> {
  const { store } = req;
  if (req.stateDir) {
    const last = await lastBackup(req.stateDir, store, sources);
    if (last && last.fingerprint === fingerprint) {
      const [archive, manifest] = await Promise.all([store.has(keys.archive(last.id)), store.has(keys.manifest(last.id))]);
      if (archive && manifest) return { unchanged: last.id };
    }
  }
  // Listing also checks early that the bucket exists and the credentials work.
  const listing = await listArchives(store, req.signal);
  const present = new Set(listing.filter((l) => l.archive && l.manifest).map((l) => l.id));
  const continuable = (m: Manifest): { previous?: Manifest } => {
    // An increment needs no archive of the chain that this snapshot does not (format.md "Chains").
    const gone = archivesNeeded(m).find((id) => !present.has(id));
    if (gone === undefined) return { previous: m };
    req.onNotice?.(`archive ${gone}, which the last backup of these files needs, is no longer in the bucket: this backup is a full one`);
    return {};
  };
  const dec = req.decryption;
  if (!dec || (!dec.passphrase && !dec.privateKeys?.length)) {
    // Public-key mode without the private key: the local copy of the last manifest, if any.
    const local = req.stateDir ? await loadLastManifest(req.stateDir, store, sources) : undefined;
    return local && sourcesKey(local.host, local.sources) === sources ? continuable(local) : {};
  }
  // The newest snapshot of these sources, found by the catalog summaries (a few hundred bytes each,
  // read a few at a time in listing order); its full manifest is the one read, and only it.
  const candidates = listing.filter((item) => item.archive && item.manifest);
  // The newest alone first: with one folder backed up (or the same one again), it is the one.
  for (let i = 0, size = 1; i < candidates.length; i += size, size = headerWindow) {
    const window = candidates.slice(i, i + size);
    const headers = await mapLimit(window, headerWindow, (item) =>
      readHeader(store, item, dec, req.signal).then(
        (r) => r.header,
        () => undefined, // another key's archive, or damaged: not ours to compare
      ),
    );
    for (const header of headers) {
      if (!header || sourcesKey(header.host, header.sources) !== sources) continue;
      let m: Manifest;
      try {
        m = 'entries' in header ? header : await readManifest(store, header.id, dec, req.signal);
      } catch {
        continue; // its manifest is damaged: the next older snapshot of these sources is tried
      }
      if (m.fingerprint === fingerprint && m.changed.length === 0) return { unchanged: m.id };
      return continuable(m);
    }
    throwIfAborted(req.signal, 'backup');
  }
  return {};
}

/** The plan of an increment of `previous`, with folder renames confirmed by hashing the moved files. */
export function planIncrement(entries: SourceEntryList, previous: Manifest): IncrementPlan {
  const abs = new Map<string, string>();
  for (let i = 0; i < entries.length; i++) {
    const e = entries.get(i);
    if (e.type === 'file') abs.set(e.path, e.abs);
  }
  return planSnapshot(entries, { id: previous.id, entries: previous.entries }, { confirmRename: confirmByHashing(abs) });
}

/** A folder rename is used only when every moved file still has the content the previous snapshot recorded. */
function confirmByHashing(abs: ReadonlyMap<string, string>): ConfirmRename {
  return (candidate) => candidate.files.every((f) => {
    const file = abs.get(f.path);
    return file !== undefined && sha256Of(file) === f.sha256;
  });
}

function sha256Of(file: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(fsPath(file), 'r');
  } catch {
    return undefined;
  }
  try {
    const hash = createHash('sha256');
    const buf = Buffer.allocUnsafe(1 << 20);
    for (let n = readSync(fd, buf, 0, buf.length, null); n > 0; n = readSync(fd, buf, 0, buf.length, null)) hash.update(buf.subarray(0, n));
    return hash.digest('hex');
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/**
 * Why this backup is a full one rather than an increment of `previous` (undefined: an increment).
 */
export function fullReason(o: {
  previous: Manifest | undefined;
  plan: IncrementPlan | undefined;
  /** What the increment would store (incrementBytes), against `fileBytes`, the walked files' total. */
  toStore: number;
  fileBytes: number;
  encryption: { mode: string; recipients: readonly string[] };
  policy: ChainPolicy;
  forced: boolean;
  now: Date;
}): string | undefined {
  const { previous, plan, policy } = o;
  if (o.forced) return 'a full backup was asked for';
  if (!previous || !plan) return 'there is no earlier backup of these sources to continue';
  const level = previous.chain?.level ?? 0;
  if (level + 1 > policy.fullEvery || level + 2 > chainLimits.maxChainLength) return `the chain has ${level} increments (a full backup every ${policy.fullEvery})`;
  const fullTime = archiveIdTime(previous.chain?.full ?? previous.id)?.getTime() ?? 0;
  if (o.now.getTime() - fullTime > policy.fullAfterDays * 86_400_000) return `the chain's full backup is older than ${policy.fullAfterDays} days`;
  // A chain's ids ascend, and a new one is of this second (uploadPlan.ts newArchiveId).
  if (previous.id >= lastIdOf(o.now)) return `the last backup ${previous.id} is dated after this computer's clock`;
  if (previous.encryption.mode !== o.encryption.mode || previous.encryption.recipients.join(',') !== o.encryption.recipients.join(',')) {
    return 'the encryption settings changed since the last backup';
  }
  if (o.toStore * 2 > o.fileBytes && o.fileBytes > 0) return 'most of the files changed';
  return undefined;
}

/**
 * About what an increment stores: the changed files' bytes, except big files the previous
 * snapshot already stored by chunks (only their changed chunks are stored; that is not known
 * before they are read).
 */
export function incrementBytes(entries: SourceEntryList, plan: IncrementPlan, previous: Manifest): number {
  const chunked = new Set(previous.entries.filter((e) => e.chunks).map((e) => entryName(e)));
  let total = 0;
  for (let i = 0; i < entries.length; i++) {
    const e = entries.get(i);
    if (e.type === 'file' && plan.entries[i]!.letter === 'Y' && !chunked.has(e.path)) total += e.size;
  }
  return total;
}

/** The fingerprint an increment's upload journal records: the walk and the snapshot it continues. */
export function incrementFingerprint(fingerprint: string, previousId: string): string {
  return createHash('sha256').update(`${fingerprint}\n${previousId}`).digest('hex');
}

/** An increment's tar as pieces of `tarChunkSize` (one copy, as the encryptor wants about 1 MiB), and what was written. */
export interface IncrementTar {
  /** Iterate once. A chunk is the caller's from then on; it may hand it back through `recycle`. */
  stream: AsyncIterable<Buffer>;
  report: Promise<ArchiveResult>;
  /** Gives back a chunk this stream yielded and nothing holds any more, to be filled again. */
  recycle(chunk: Buffer): void;
}

const yieldAfterMs = 20;

export function incrementTar(
  entries: SourceEntryList,
  plan: IncrementPlan,
  o: { id: string; timeMs: number; signal?: AbortSignal; onProgress?: (bytes: number) => void },
): IncrementTar {
  const result = emptyResult();
  let settle!: { resolve: (r: ArchiveResult) => void; reject: (e: unknown) => void };
  const report = new Promise<ArchiveResult>((resolve, reject) => (settle = { resolve, reject }));
  report.catch(() => undefined);
  const pool = new ChunkPool(tarChunkSize);
  async function* generate(): AsyncGenerator<Buffer> {
    let buf = pool.take();
    let at = 0;
    let total = 0;
    let lastYield = performance.now();
    try {
      for (const piece of writeArchive(entries, plan, { id: o.id, timeMs: o.timeMs }, result)) {
        for (let from = 0; from < piece.length; ) {
          const n = piece.copy(buf, at, from);
          at += n;
          from += n;
          if (at === buf.length) {
            yield buf;
            buf = pool.take();
            at = 0;
          }
        }
        total += piece.length;
        o.onProgress?.(total);
        throwIfAborted(o.signal, 'backup');
        // The files are read synchronously: let timers and sockets run now and then.
        if (performance.now() - lastYield > yieldAfterMs) {
          await new Promise((resolve) => setImmediate(resolve));
          lastYield = performance.now();
        }
      }
      if (at > 0) yield buf.subarray(0, at);
      settle.resolve(result);
    } catch (err) {
      settle.reject(err);
      throw err;
    } finally {
      settle.reject(new GlacierError('cancelled', 'archive stream closed'));
    }
  }
  return { stream: generate(), report, recycle: (chunk) => pool.give(chunk) };
}

/** Whether any walked file is stored by chunks in format version 2 (records.ts isChunkable). */
export function hasBigFiles(entries: SourceEntryList): boolean {
  for (let i = 0; i < entries.length; i++) {
    const e = entries.get(i);
    if (e.type === 'file' && isChunkable(e.path, e.size)) return true;
  }
  return false;
}

/** Files and symlinks: what a full backup "added". */
export function countFilesAndLinks(entries: Iterable<{ type: string }>): number {
  let n = 0;
  for (const e of entries) if (e.type !== 'directory') n++;
  return n;
}

/** The entries and version 2 fields of snapshot `id`: an increment of `previous`, or a full without it. */
export function incrementManifest(
  entries: SourceEntryList,
  plan: IncrementPlan,
  written: ArchiveResult,
  previous: Manifest | undefined,
  id: string,
): { entries: CatalogEntry[]; fields: ManifestV2Fields; fileCount: number; fileBytes: number } {
  const list = [...manifestEntriesV2(entries, plan, written)];
  const chain = previous ? nextChain(previous.chain ?? fullChain(previous.id), id, plan.renames.length > 0) : fullChain(id);
  const needs = chainNeeds(chain, holdersOf(list, id));
  let fileCount = 0;
  let fileBytes = 0;
  for (const e of list) {
    if (e.type !== 'file') continue;
    fileCount++;
    fileBytes += e.size;
  }
  const fields: ManifestV2Fields = {
    version: 2,
    chain,
    needs,
    ...(plan.renames.length > 0 ? { renames: plan.renames.map(([from, to]) => [from, to] as [string, string]) } : {}),
    added: plan.counts.added,
    changedFiles: plan.counts.changedFiles,
    removed: plan.counts.removed,
    uploadedBytes: written.storedBytes,
  };
  return { entries: list, fields, fileCount, fileBytes };
}
