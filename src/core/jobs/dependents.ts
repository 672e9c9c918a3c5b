/**
 * Which later snapshots need an archive (docs/format.md, "Chains"): an increment's restore reads
 * the archives its `needs` names, so deleting one of them breaks every snapshot that names it,
 * and, through them, none other (each snapshot's `needs` is whole: it names every archive its
 * restore reads). `delete` refuses such an archive, or deletes its dependents with it when asked;
 * `prune` has its own plan (prune.ts).
 *
 * Only later snapshots can need an archive (ids sort by time and `needs` names none newer than its
 * own snapshot), and `needs` is a header field, so this reads their catalog summaries (a few
 * hundred bytes each), a manifest only for a snapshot that has no summary.
 *
 * A snapshot that needs a later one (`needs` is a subset of the chain: chain.ts chainNeeds) may
 * not need the archive itself, so deleting the dependents too takes the closure: every later
 * snapshot that needs the archive or a dependent.
 *
 * Guarantees: a later snapshot whose catalog cannot be read is never taken for one that does not
 * need the archive: it is listed in `unreadable`. When none could be read (a wrong passphrase or
 * key) the delete is refused; when only some could not (a bucket shared with another key's
 * backups, whose chains are their own), the front ends name them in a note.
 */
import type { Decryption } from '../crypto/openpgp';
import { describeError, GlacierError } from '../errors';
import type { ArchiveStore } from '../store/archiveStore';
import { listArchives, type ArchiveListing } from '../catalog/catalog';
import { readHeader, type CatalogSummary } from '../catalog/summary';
import { archivesNeeded, type Manifest } from '../catalog/manifest';
import { mapLimit } from '../util/mapLimit';
import { deleteArchive, type DeleteRequest } from './delete';

export interface Dependent {
  id: string;
  /** Its archive object, if present (what deleting it saves and costs). */
  archive?: { size: number; storageClass: string; uploaded?: Date };
}

export interface Dependents {
  /** The later snapshots whose restore reads the archive, oldest first. */
  needers: Dependent[];
  /** What deleting the archive with its dependents deletes besides it: `needers`, and every later snapshot that needs one of them, oldest first. */
  closure: Dependent[];
  /** How many later snapshots there are (read or not). */
  later: number;
  /** Later snapshots whose catalog could not be read, with why. */
  unreadable: { id: string; problem: string }[];
}

/** Later snapshots read side by side: summaries are small, and a chain is at most a few dozen. */
const readConcurrency = 8;

/** A later snapshot's catalog header as read, or why it could not be. */
export interface LaterSnapshot {
  item: ArchiveListing;
  header?: CatalogSummary | Manifest;
  problem?: string;
}

/**
 * The headers of the snapshots of `store` newer than `id`, newest first: their summaries, a
 * manifest only where a snapshot has none (or its summary cannot be read). Reading them needs what
 * opens the catalog, asked for (`open`, which may prompt) only when there is a later snapshot.
 */
export async function laterSnapshots(store: ArchiveStore, id: string, open: () => Promise<Decryption | undefined>, signal?: AbortSignal): Promise<LaterSnapshot[]> {
  const later = (await listArchives(store, signal)).filter((i) => i.id > id && i.manifest);
  if (later.length === 0) return [];
  const dec = await open().catch((err: unknown) => {
    if (signal?.aborted) throw err;
    throw new GlacierError(err instanceof GlacierError ? err.code : 'usage', `whether a later snapshot needs archive ${id} is read from their catalog: ${describeError(err)}`, { cause: err });
  });
  if (!dec) {
    throw new GlacierError('usage', `whether a later snapshot needs archive ${id} is read from their catalog, which is encrypted: it needs the passphrase, or the private key (--identity KEY.asc)`);
  }
  return mapLimit(later, readConcurrency, async (item): Promise<LaterSnapshot> => {
    try {
      return { item, header: (await readHeader(store, item, dec, signal)).header };
    } catch (err) {
      if (signal?.aborted) throw err;
      return { item, problem: describeError(err) };
    }
  });
}

/** The later snapshots of `store` that need archive `id` (see laterSnapshots for what is read). */
export async function dependentsOf(store: ArchiveStore, id: string, open: () => Promise<Decryption | undefined>, signal?: AbortSignal): Promise<Dependents> {
  const later = await laterSnapshots(store, id, open, signal);
  // Oldest first: whatever a snapshot needs is older than it, so one pass gives the closure.
  const gone = new Set([id]);
  const needers: Dependent[] = [];
  const closure: Dependent[] = [];
  const unreadable: Dependents['unreadable'] = [];
  for (const { item, header, problem } of [...later].reverse()) {
    if (!header) {
      unreadable.push({ id: item.id, problem: problem ?? 'unreadable' });
      continue;
    }
    const needs = archivesNeeded(header);
    if (needs.includes(id)) needers.push(dependent(item));
    if (needs.some((a) => gone.has(a) && a !== item.id)) {
      gone.add(item.id);
      closure.push(dependent(item));
    }
  }
  return { needers, closure, later: later.length, unreadable };
}

function dependent(item: ArchiveListing): Dependent {
  const a = item.archive;
  return { id: item.id, ...(a ? { archive: { size: a.size, storageClass: a.storageClass, ...(a.lastModified ? { uploaded: a.lastModified } : {}) } } : {}) };
}

/** The verb after namedSnapshots: `one` for a single snapshot, `many` otherwise. */
export function agree(ids: readonly unknown[], one: string, many: string): string {
  return ids.length === 1 ? one : many;
}

/** "3 later snapshots (A, B, C)" or "12 later snapshots (A, B, C, …)": the count and the first few ids. */
export function namedSnapshots(ids: readonly string[], first = 3): string {
  const shown = ids.slice(0, first).join(', ') + (ids.length > first ? ', …' : '');
  return `${ids.length} later snapshot${ids.length === 1 ? '' : 's'} (${shown})`;
}

/** A note for later snapshots that could not be read while others could: another key's, or damaged. */
export function unreadableNote(id: string, deps: Dependents): string | undefined {
  const first = deps.unreadable[0];
  if (!first || deps.unreadable.length === deps.later) return undefined;
  return `${namedSnapshots(deps.unreadable.map((u) => u.id))} could not be read (${first.problem}), so whether ${agree(deps.unreadable, 'it needs', 'they need')} archive ${id} is unknown (another key's backups cannot)`;
}

/**
 * Why archive `id` may not be deleted as things are, or undefined: later snapshots need it, or
 * some could not be read. `remedy` is the front end's own way out (a flag, a button), appended.
 */
export function deleteRefusal(id: string, deps: Dependents, remedy = ''): GlacierError | undefined {
  if (deps.needers.length > 0) {
    const ids = deps.needers.map((d) => d.id);
    return new GlacierError(
      'usage',
      `archive ${id} is not deleted: ${namedSnapshots(ids)} of its chain ${agree(ids, 'needs', 'need')} it to be restored; delete ${agree(ids, 'that one', 'those')} first (newest first), or use prune, which keeps what later snapshots need${remedy}`,
    );
  }
  const first = deps.unreadable[0];
  if (first && deps.unreadable.length === deps.later) {
    return new GlacierError(
      'crypto',
      `archive ${id} is not deleted: whether ${namedSnapshots(deps.unreadable.map((u) => u.id))} ${agree(deps.unreadable, 'needs', 'need')} it is unknown, as their catalog could not be read (${first.problem})`,
    );
  }
  return undefined;
}

/**
 * Deletes the snapshots that need archive `id`, newest first, then `id` itself: at every step
 * what is left can be restored, so a failure midway breaks nothing (it throws, saying what was
 * deleted and what was not). Returns the ids deleted, in order.
 */
export async function deleteWithDependents(req: DeleteRequest, closure: readonly Dependent[]): Promise<string[]> {
  const order = [...closure.map((d) => d.id).sort().reverse(), req.id];
  const done: string[] = [];
  for (const id of order) {
    try {
      await deleteArchive({ ...req, id });
    } catch (err) {
      if (done.length === 0) throw err;
      throw new GlacierError(err instanceof GlacierError ? err.code : 's3', `${describeError(err)}; deleted before it: ${done.join(', ')}; the rest is kept and restorable`, { cause: err });
    }
    done.push(id);
  }
  return done;
}
