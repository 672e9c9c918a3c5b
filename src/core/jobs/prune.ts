/**
 * Prune: apply a retention policy to each source set and delete what it forgets, knowing what
 * cold storage charges for.
 *
 * Guarantees:
 * - Each source set (host + selected paths) is decided on its own by applyPolicy (restic's
 *   `forget` semantics); snapshots outside the host/path filter are all kept.
 * - An archive that any retained snapshot needs is never deleted (`needs`: for format 1 each
 *   snapshot needs only its own archive; an increment of format 2 names the archives of its chain
 *   that a restore reads).
 * - An archive younger than its storage class's minimum duration is deferred, not deleted:
 *   deleting it early is billed as if it stayed, so it saves nothing. `allowEarlyDeletion` deletes
 *   it anyway, and the plan carries the fee.
 * - planPrune is pure; executePrune deletes only the plan's `delete` items, each through
 *   deleteArchive (manifest first), and reports each failure instead of stopping at the first.
 */
import type { ArchiveStore } from '../store/archiveStore';
import { describeError, throwIfAborted } from '../errors';
import { monthlyCost } from '../model/pricing';
import { applyPolicy, type RetentionPolicy } from '../model/retention';
import { deleteArchive, deletionCost } from './delete';
import type { PendingStore } from './restoreTracker';
import { bySourceSet, matchesFilter, type SnapshotInfo } from './snapshots';

export type PruneAction = 'keep' | 'delete' | 'defer' | 'needed';

export interface PruneItem {
  snapshot: SnapshotInfo;
  action: PruneAction;
  /** keep: the policy's reasons; needed: the snapshots that need it. */
  reasons: string[];
  /** What the archive costs per month while stored (what deleting it saves). */
  monthly: number;
  /** The early-deletion fee if it were deleted now (0 past the class's minimum). */
  fee: number;
  /** When the class's minimum duration ends, if it has not yet. */
  minimumEnds?: Date;
}

export interface PruneSet {
  set: string;
  host: string;
  sources: string[];
  /** Newest first. */
  items: PruneItem[];
}

export interface PruneOptions {
  policy: RetentionPolicy;
  now: Date;
  allowEarlyDeletion?: boolean;
  /** The archive ids a snapshot needs to be restored, itself included (default: just itself). */
  needs?: (snapshot: SnapshotInfo) => string[];
  filter?: { host?: string; paths?: string[] };
}

export function planPrune(snapshots: readonly SnapshotInfo[], o: PruneOptions): PruneSet[] {
  const needs = o.needs ?? ((s: SnapshotInfo) => s.needs);
  const selected = snapshots.filter((s) => matchesFilter(s, o.filter ?? {}));
  const sets = bySourceSet(selected).map(({ set, snapshots: list }) => ({
    set,
    host: list[0]!.host,
    sources: list[0]!.sources,
    items: applyPolicy(list, o.policy, o.now).map((d): PruneItem => {
      const a = d.snapshot.archive;
      const cost = deletionCost(a, o.now);
      const early = cost.minimumEnds !== undefined && !o.allowEarlyDeletion;
      return {
        snapshot: d.snapshot,
        action: d.keep ? 'keep' : early ? 'defer' : 'delete',
        reasons: d.reasons,
        monthly: monthlyCost(a.size, a.storageClass),
        ...cost,
      };
    }),
  }));
  // Everything not about to be deleted is retained, and so is everything it needs, transitively.
  const byId = new Map(snapshots.map((s) => [s.id, s]));
  const items = sets.flatMap((s) => s.items);
  const deleting = new Map(items.filter((i) => i.action === 'delete').map((i) => [i.snapshot.id, i]));
  const work = snapshots.filter((s) => !deleting.has(s.id));
  while (work.length) {
    const s = work.pop()!;
    for (const id of needs(s)) {
      const item = deleting.get(id);
      if (!item || id === s.id) continue;
      deleting.delete(id);
      item.action = 'needed';
      item.reasons = [s.id];
      const needed = byId.get(id);
      if (needed) work.push(needed);
    }
  }
  return sets;
}

export interface PruneTotals {
  delete: number;
  defer: number;
  keep: number;
  bytes: number;
  monthly: number;
  fees: number;
}

export function pruneTotals(sets: readonly PruneSet[]): PruneTotals {
  const t: PruneTotals = { delete: 0, defer: 0, keep: 0, bytes: 0, monthly: 0, fees: 0 };
  for (const i of sets.flatMap((s) => s.items)) {
    if (i.action === 'delete') {
      t.delete++;
      t.bytes += i.snapshot.archive.size;
      t.monthly += i.monthly;
      t.fees += i.fee;
    } else if (i.action === 'defer') t.defer++;
    else t.keep++;
  }
  return t;
}

export interface ExecuteRequest {
  store: ArchiveStore;
  stateDir?: string;
  pending?: PendingStore;
  signal?: AbortSignal;
  onDeleted?: (item: PruneItem) => void;
  onFailed?: (item: PruneItem, message: string) => void;
}

/** Deletes the plan's `delete` items, oldest first. Returns the ids deleted and the failures. */
export async function executePrune(sets: readonly PruneSet[], req: ExecuteRequest): Promise<{ deleted: string[]; failed: { id: string; message: string }[] }> {
  const items = sets
    .flatMap((s) => s.items)
    .filter((i) => i.action === 'delete')
    .sort((a, b) => a.snapshot.time.getTime() - b.snapshot.time.getTime());
  const deleted: string[] = [];
  const failed: { id: string; message: string }[] = [];
  for (const item of items) {
    throwIfAborted(req.signal, 'prune');
    try {
      await deleteArchive({ store: req.store, id: item.snapshot.id, stateDir: req.stateDir, pending: req.pending, signal: req.signal });
      deleted.push(item.snapshot.id);
      req.onDeleted?.(item);
    } catch (err) {
      if (req.signal?.aborted) throw err;
      const message = describeError(err);
      failed.push({ id: item.snapshot.id, message });
      req.onFailed?.(item, message);
    }
  }
  return { deleted, failed };
}
