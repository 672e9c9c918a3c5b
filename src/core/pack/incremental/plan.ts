/**
 * The plan of a format version 2 snapshot (docs/format.md, "Chains"): from the previous snapshot's
 * manifest entries (version 1 or 2) and the current walk, what each entry is (its bytes go in
 * this archive, `Y`; unchanged at its path, `N`; a folder, `D`), each folder's dumpdir list, the
 * folder renames, what was removed, and the counts the backup reports. Pure: it reads no file.
 *
 * "Unchanged" is what restic and tar mean by it: the same type, size, mtime, mode and link
 * target; unchanged files are not read. A renamed folder's files keep their previous placement,
 * with `at` naming where their member is.
 */
import type { ChunkRef, EntryPlacement } from '../../model/chain';
import type { SourceEntry } from '../walk';
import type { ManifestEntry } from '../../model/entry';
import { entryName, fromBytes } from '../../model/rawNames';
import { encodeDumpdir, type DumpChild, type DumpLetter, type FolderRename } from './dumpdir';
import { findRenames, isWithin, parentOf, type ConfirmRename, type TreeItem } from './folderRenames';

/** A previous manifest's entry: version 1's fields, and version 2's placement when present. */
export type PreviousEntry = ManifestEntry & EntryPlacement;

export interface PreviousSnapshot {
  /** Its id: the archive holding the members of entries without `in`. */
  id: string;
  entries: Iterable<PreviousEntry>;
}

/** The walked entries, in walk order (a folder before what it holds), as SourceEntryList gives them. */
export interface CurrentEntries {
  readonly length: number;
  get(i: number): SourceEntry;
}

/** An unchanged entry's placement and its previous hash; `at` is raw (rawNames.ts), never with `atBytes`. */
export interface Kept {
  in: string;
  at?: string;
  chunks?: ChunkRef[];
  sha256?: string;
}

export interface PlannedEntry {
  letter: DumpLetter;
  change: 'added' | 'changed' | 'unchanged' | 'moved';
  /** For `N`: where its member is. */
  kept?: Kept;
}

export interface PlanCounts {
  /** Files and symlinks new at their path (a renamed folder's are not). */
  added: number;
  /** Files and symlinks whose type, size, mtime, mode or target changed. */
  changedFiles: number;
  /** Files and symlinks of the previous snapshot gone from this one. */
  removed: number;
  /** The file bytes this archive will hold (an upper bound: chunks already stored are not sent again). */
  uploadedBytes: number;
}

export interface IncrementPlan {
  /** No previous snapshot: every entry is `Y` (or `D`). */
  full: boolean;
  /** By current entry index. */
  entries: PlannedEntry[];
  renames: FolderRename[];
  /** Paths (raw) of the previous snapshot's entries that are gone, renamed folders' aside. */
  removed: string[];
  counts: PlanCounts;
  /** The chunks the previous snapshot used, by hash: the only ones this archive may mark `N`. */
  previousChunks: Map<string, string>;
  /** A folder's dumpdir record (a root's carries the renames inside it). */
  dumpdir(index: number): Buffer;
}

export interface PlanOptions {
  /** Confirms a folder rename by the contents of its files; without it no rename is used. */
  confirmRename?: ConfirmRename;
}

/** The plan of a full snapshot, or of an increment of `previous`. */
export function planSnapshot(current: CurrentEntries, previous?: PreviousSnapshot, options: PlanOptions = {}): IncrementPlan {
  const prev = new Map<string, PreviousEntry>();
  const prevItems = new Map<string, TreeItem & { sha256?: string }>();
  for (const e of previous?.entries ?? []) {
    const name = entryName(e);
    prev.set(name, e);
    prevItems.set(name, previousItem(name, e));
  }
  const walked: TreeItem[] = [];
  for (let i = 0; i < current.length; i++) walked.push(treeItem(current.get(i)));

  const renames = options.confirmRename ? findRenames(prevItems, walked, options.confirmRename) : [];
  const entries: PlannedEntry[] = [];
  const counts: PlanCounts = { added: 0, changedFiles: 0, removed: 0, uploadedBytes: 0 };
  const seen = new Set<string>();
  const indexOf = new Map<string, number>();
  const children = new Map<number, number[]>();
  for (let i = 0; i < walked.length; i++) {
    const cur = walked[i]!;
    indexOf.set(cur.path, i);
    const parent = parentOf(cur.path);
    const pi = parent === undefined ? undefined : indexOf.get(parent);
    if (pi !== undefined) append(children, pi, i);
    const rename = renames.find((r) => isWithin(cur.path, r.to));
    const oldPath = rename ? rename.from + cur.path.slice(rename.to.length) : cur.path;
    const was = prev.get(oldPath);
    if (was) seen.add(oldPath);
    if (cur.type === 'directory') {
      if (was && was.type !== 'directory') counts.removed++;
      entries.push({ letter: 'D', change: was ? (rename ? 'moved' : 'unchanged') : 'added' });
      continue;
    }
    if (was && same(prevItems.get(oldPath)!, cur)) {
      const kept: Kept = { in: was.in ?? previous!.id };
      const at = was.at === undefined ? oldPath : entryName({ path: was.at, pathBytes: was.atBytes });
      if (at !== cur.path) kept.at = at;
      if (was.chunks) kept.chunks = was.chunks;
      if (was.sha256) kept.sha256 = was.sha256;
      entries.push({ letter: 'N', change: rename ? 'moved' : 'unchanged', kept });
      continue;
    }
    entries.push({ letter: 'Y', change: was && was.type !== 'directory' ? 'changed' : 'added' });
    if (was && was.type !== 'directory') counts.changedFiles++;
    else counts.added++;
    counts.uploadedBytes += cur.size;
  }
  const removed = [...prev.keys()].filter((p) => !seen.has(p));
  for (const p of removed) if (prev.get(p)!.type !== 'directory') counts.removed++;
  // A changed entry that was a folder counts as added, and the files of that folder as removed.

  const previousChunks = new Map<string, string>();
  for (const e of prev.values()) for (const [hash, , archive] of e.chunks ?? []) previousChunks.set(hash, archive);

  const rootRenames = new Map<string, FolderRename[]>();
  for (const r of renames) {
    const root = r.from.split('/')[0]!;
    append(rootRenames, root, [r.from, r.to]);
  }
  return {
    full: previous === undefined,
    entries,
    renames: renames.map((r) => [r.from, r.to] as const),
    removed,
    counts,
    previousChunks,
    dumpdir(index: number): Buffer {
      const path = walked[index]!.path;
      const list: DumpChild[] = (children.get(index) ?? []).map((c) => ({ name: walked[c]!.path.slice(path.length + 1), letter: entries[c]!.letter }));
      return encodeDumpdir(list, parentOf(path) === undefined ? (rootRenames.get(path) ?? []) : []);
    },
  };
}

function append<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function treeItem(e: SourceEntry): TreeItem {
  const item: TreeItem = { path: e.path, type: e.type, size: e.size, mtime: e.mtimeMs, mode: e.mode };
  if (e.linkTarget !== undefined) item.linkTarget = e.linkTarget;
  return item;
}

function previousItem(path: string, e: PreviousEntry): TreeItem & { sha256?: string } {
  const item: TreeItem & { sha256?: string } = { path, type: e.type, size: e.size, mtime: e.mtime, mode: e.mode };
  if (e.sha256 !== undefined) item.sha256 = e.sha256;
  const target = e.linkTargetBytes === undefined ? e.linkTarget : fromBytes(Buffer.from(e.linkTargetBytes, 'base64'));
  if (target !== undefined) item.linkTarget = target;
  return item;
}

function same(a: TreeItem, b: TreeItem): boolean {
  return a.type === b.type && a.size === b.size && a.mtime === b.mtime && a.mode === b.mode && (a.linkTarget ?? '') === (b.linkTarget ?? '');
}
