/** Writes format version 2 archives from a folder with the incremental building blocks (not the backup job). */
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { walk } from '../../src/core/pack/walk';
import { planSnapshot, type IncrementPlan, type PreviousEntry } from '../../src/core/pack/incremental/plan';
import { emptyResult, writeArchive, type ArchiveResult } from '../../src/core/pack/incremental/archiveWriter';
import { manifestEntriesV2, type ManifestEntryV2 } from '../../src/core/pack/incremental/entries';
import type { ChunkerOptions } from '../../src/core/pack/incremental/chunker';
import type { RenameCandidate } from '../../src/core/pack/incremental/folderRenames';
import type { SourceEntry } from '../../src/core/pack/walk';
import { archiveSizeBound } from '../../src/core/pack/incremental/sizeBound';
import { statSync } from 'node:fs';

export interface Snapshot {
  id: string;
  entries: ManifestEntryV2[];
  plan: IncrementPlan;
  result: ArchiveResult;
}

/** Confirms a rename by hashing the moved files, as the backup job is to. */
export function hashingConfirm(absOf: Map<string, string>): (c: RenameCandidate) => boolean {
  return (c) => c.files.every((f) => createHash('sha256').update(readFileSync(absOf.get(f.path)!)).digest('hex') === f.sha256);
}

export async function writeSnapshot(sources: string[], file: string, id: string, previous?: Snapshot, options: { chunkThreshold?: number; chunking?: ChunkerOptions } = {}): Promise<Snapshot> {
  const { entries } = await walk(sources, { exclude: [] });
  const absOf = new Map<string, string>();
  for (const e of entries as Iterable<SourceEntry>) absOf.set(e.path, e.abs);
  const prev = previous ? { id: previous.id, entries: previous.entries as PreviousEntry[] } : undefined;
  const plan = planSnapshot(entries, prev, { confirmRename: hashingConfirm(absOf) });
  const result = emptyResult();
  const fd = openSync(file, 'w');
  try {
    for (const piece of writeArchive(entries, plan, { id, timeMs: Date.parse('2026-01-01T00:00:00Z'), ...options }, result)) writeSync(fd, piece);
  } finally {
    closeSync(fd);
  }
  const bound = archiveSizeBound(entries, plan, options.chunkThreshold, options.chunking?.min);
  if (statSync(file).size > bound) throw new Error(`archive ${id}: ${statSync(file).size} bytes, over the bound ${bound}`);
  return { id, entries: [...manifestEntriesV2(entries, plan, result)], plan, result };
}
