/**
 * Chains of snapshots (docs/format.md, "Chains", format version 2): a full snapshot and the increments
 * after it, the fields a version 2 manifest adds per entry, and which archives a restore reads.
 * Pure: no I/O, shared by the planner (pack/incremental), the manifest validator (catalog) and,
 * later, the restore planner.
 */

/** Bounds a reader enforces on a version 2 manifest (catalog/manifestV2.ts), and writers keep within. */
export const chainLimits = {
  /** Archives in a chain: the default policy starts a new full after 30 increments. */
  maxChainLength: 1000,
  /** A file of this many chunks of the minimum size (256 KiB) is about 122 GiB: bigger files are stored whole. */
  maxChunksPerFile: 500_000,
  maxTotalChunks: 2_000_000,
  /** Chunks are at most 4 MiB; a reader accepts up to this much, for other chunkers. */
  maxChunkLength: 64 * 1024 * 1024,
  maxRenames: 10_000,
};

/** When a new full backup starts (settings `fullEvery`, `fullAfterDays`). */
export interface ChainPolicy {
  /** Increments after which the next backup is a full one. */
  fullEvery: number;
  /** Age of the chain's full, in days, after which the next backup is a full one. */
  fullAfterDays: number;
}

/**
 * A restore reads at most 31 archives, and a chain's archives age past Deep Archive's 180-day
 * minimum storage together (a full kept longer than the increments that need it costs nothing extra).
 */
export const defaultChainPolicy: ChainPolicy = { fullEvery: 30, fullAfterDays: 90 };

/** A chunk of a big file: its SHA-256 (hex), its length, and the id of the archive holding its bytes. */
export type ChunkRef = [sha256: string, length: number, archive: string];

/** Where a chain stands after a snapshot. */
export interface ChainInfo {
  /** The chain's full snapshot. */
  full: string;
  /** The snapshot this one is an increment of; null for a full. */
  previous: string | null;
  /** 0 for a full, then 1, 2, … */
  level: number;
  /** The ids of the chain's archives, oldest first, ending with this snapshot's own. */
  archives: string[];
  /** Those of `archives` whose directory records carry folder renames. */
  renamed: string[];
}

/** The manifest fields of an entry that version 2 adds. */
export interface EntryPlacement {
  /** The archive holding the entry's member, absent when it is this snapshot's own. */
  in?: string;
  /** The member's path in that archive, only when it differs from the entry's (a folder was renamed since); readable, as `path` is. */
  at?: string;
  /** Base64 of `at`'s bytes, only when they are not valid UTF-8 (as `pathBytes`). */
  atBytes?: string;
  /** For a chunked file: its chunks in order (its member, at `at` in `in`, is then the recipe). */
  chunks?: ChunkRef[];
}

/** The chain after a full snapshot `id`. */
export function fullChain(id: string): ChainInfo {
  return { full: id, previous: null, level: 0, archives: [id], renamed: [] };
}

/** The chain after an increment `id` of the snapshot whose chain is `previous` (a version 1 snapshot: fullChain of its id). */
export function nextChain(previous: ChainInfo, id: string, hasRenames: boolean): ChainInfo {
  const last = previous.archives[previous.archives.length - 1]!;
  if (!(id > last)) throw new Error(`snapshot ${id} does not come after ${last}`);
  return {
    full: previous.full,
    previous: last,
    level: previous.level + 1,
    archives: [...previous.archives, id],
    renamed: hasRenames ? [...previous.renamed, id] : [...previous.renamed],
  };
}

/**
 * The archives holding members of a snapshot, by its manifest entries' `in` and chunk archives
 * (`own` for entries without `in`): what chainNeeds takes. Read from the entries as written, since
 * a changed big file may reuse chunks of earlier archives.
 */
export function holdersOf(entries: Iterable<EntryPlacement & { type?: string }>, own: string): Set<string> {
  const out = new Set<string>();
  for (const e of entries) {
    if (e.in !== undefined) out.add(e.in);
    else if (e.type !== 'directory') out.add(own);
    for (const c of e.chunks ?? []) out.add(c[2]);
  }
  return out;
}

/**
 * The archives, oldest first, that restoring the whole snapshot reads with `tar -x -G` one after
 * the other into an empty folder (the `needs` field): those holding its members (`holders`, by
 * `in` and `chunks`) and its own; every archive with renames after the oldest of those (a rename
 * may move a folder whose bytes an older archive holds); and the archive before each of these
 * (GNU tar fails on a rename whose source folder is not on disk, and after extracting an archive
 * every folder of its snapshot is). The first archive read needs none before it: its roots are
 * not on disk yet, and GNU tar applies a folder's renames only when that folder exists.
 */
export function chainNeeds(chain: ChainInfo, holders: Iterable<string>): string[] {
  const at = new Map(chain.archives.map((id, i) => [id, i]));
  const take = new Array<boolean>(chain.archives.length).fill(false);
  take[take.length - 1] = true;
  let oldest = take.length - 1;
  for (const id of holders) {
    const i = at.get(id);
    if (i === undefined) throw new Error(`archive ${id} is not in the chain of ${chain.archives[chain.archives.length - 1]}`);
    take[i] = true;
    oldest = Math.min(oldest, i);
  }
  const renamed = new Set(chain.renamed);
  for (let i = oldest + 1; i < take.length; i++) {
    if (renamed.has(chain.archives[i]!)) take[i] = take[i - 1] = true;
  }
  return chain.archives.filter((_, i) => take[i]);
}
