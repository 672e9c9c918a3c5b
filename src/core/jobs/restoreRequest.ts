/**
 * An archive's state in its store, and asking for a restore of it. Deep Archive offers the
 * Standard (within 12 h) and Bulk (within 48 h) tiers; Glacier Flexible Retrieval also Expedited.
 * Guarantees (the store's, archiveStore.ts): a request while one is in progress counts as
 * success; a request on a restored copy extends it; a store without cold storage answers
 * 'not-needed'.
 */
import { GlacierError } from '../errors';
import type { ArchiveStore, RestoreTier } from '../store/archiveStore';
import type { GlacierState } from '../model/glacierState';
import { keys } from '../model/keys';
import type { Decryption } from '../crypto/openpgp';
import { readManifest } from '../catalog/catalog';
import { archivesHolding } from './downloadChain';
import { subsetOf, type Subset } from './download';
import { dollars, retrievalCost } from '../model/pricing';
import { formatBytes } from '../model/format';
import { restoreTime } from '../model/restoreTimes';
import { mapLimit } from '../util/mapLimit';

export const restoreTiers = ['Standard', 'Bulk', 'Expedited'] as const satisfies readonly RestoreTier[];
export type { RestoreTier };

export interface ArchiveStatus {
  id: string;
  storageClass: string;
  size: number;
  glacier: GlacierState;
}

function missing(store: ArchiveStore, id: string, err?: unknown): GlacierError {
  return new GlacierError('not-found', `archive ${id} does not exist in ${store.name}`, { cause: err });
}

export async function archiveStatus(store: ArchiveStore, id: string, signal?: AbortSignal): Promise<ArchiveStatus> {
  const head = await store.head(keys.archive(id), { signal, action: `check archive ${id}` });
  if (!head) throw missing(store, id);
  return { id, storageClass: head.storageClass, size: head.size, glacier: head.glacier };
}

export interface RestoreResult {
  status: ArchiveStatus;
  /** What the request did. */
  outcome: 'requested' | 'already-in-progress' | 'extended' | 'not-needed';
}

/**
 * Requests a restore of archive `id`. `known`: its state as restore's plan read it (planRestore),
 * which saves the store its own HEAD before the request; a change since is still answered right.
 */
export async function requestRestore(store: ArchiveStore, id: string, options: { tier: RestoreTier; days: number; known?: PlannedArchive }): Promise<RestoreResult> {
  if (!Number.isInteger(options.days) || options.days < 1 || options.days > 365) {
    throw new GlacierError('usage', 'restore days must be a whole number from 1 to 365');
  }
  const { known, ...rest } = options;
  const planned = known && known.id === id ? { known: { key: keys.archive(id), size: known.size, storageClass: known.storageClass, glacier: known.state } } : {};
  try {
    const { head, outcome } = await store.requestRestore(keys.archive(id), { ...rest, ...planned, what: `archive ${id}`, action: `request a restore of ${id}` });
    return { status: { id, storageClass: head.storageClass, size: head.size, glacier: head.glacier }, outcome };
  } catch (err) {
    throw err instanceof GlacierError && err.code === 'not-found' ? missing(store, id, err) : err;
  }
}

/**
 * The archives a restore of snapshot `id` brings back: its own for format version 1; for version 2
 * those of its chain that hold its files' bytes (downloadChain.ts reads exactly these), or only
 * those of the `subset`'s files. Without a way to read its manifest, just its own (a download then
 * names any other it needs).
 */
export async function archivesToRestore(store: ArchiveStore, id: string, dec: Decryption | undefined, signal?: AbortSignal, subset: Subset = {}): Promise<string[]> {
  const asked = subset.paths?.length ? subset.paths : (subset.only ?? []);
  if (!dec) {
    if (asked.length) throw new GlacierError('usage', `choosing files (--only) reads the manifest of ${id}: a passphrase or private key is needed`);
    return [id];
  }
  const m = await readManifest(store, id, dec, signal);
  const filter = subsetOf(subset);
  const entries = asked.length ? m.entries.filter((e) => filter(e.path)) : m.entries;
  if (asked.length && entries.length === 0) throw new GlacierError('usage', `nothing in snapshot ${id} matches ${asked.join(', ')}`);
  return m.version === 2 ? archivesHolding(m, entries) : [id];
}

/** An archive as restore's plan found it. */
export interface PlannedArchive {
  id: string;
  size: number;
  storageClass: string;
  state: GlacierState;
}

/** What a restore would retrieve, before anything is requested: each archive, the total, and the cost of each tier. */
export interface RestorePlan {
  archives: PlannedArchive[];
  bytes: number;
  /** Only archives that are in a Glacier class and not restored yet cost anything. */
  toRetrieve: number;
  tiers: { tier: RestoreTier; cost: number; time?: string }[];
}

/** Archives looked at side by side: a chain's restore reads up to a few dozen. */
const headConcurrency = 4;

export async function planRestore(store: ArchiveStore, ids: readonly string[], signal?: AbortSignal): Promise<RestorePlan> {
  const archives = await mapLimit(ids, headConcurrency, async (id): Promise<PlannedArchive> => {
    const s = await archiveStatus(store, id, signal);
    return { id, size: s.size, storageClass: s.storageClass, state: s.glacier };
  });
  const cold = archives.filter((a) => a.state.state === 'archived');
  // The tiers the archives' class offers (Deep Archive has no Expedited); all of them when nothing is cold.
  const offered = restoreTiers.filter((tier) => cold.every((a) => restoreTime(a.storageClass, tier) !== undefined));
  const tiers = offered.map((tier) => {
    const cost = cold.reduce((n, a) => n + retrievalCost(a.size, a.storageClass, tier), 0);
    const time = cold[0] ? restoreTime(cold[0].storageClass, tier)?.text : undefined;
    return { tier, cost, ...(time ? { time } : {}) };
  });
  return { archives, bytes: archives.reduce((n, a) => n + a.size, 0), toRetrieve: cold.reduce((n, a) => n + a.size, 0), tiers };
}

/**
 * A plan in words, the same for every front end: what it reads ("2 archives (1.2 MiB)"), what
 * retrieving costs in each tier, and which archives are back already (and are not requested again).
 */
export function describePlan(plan: RestorePlan): { reads: string; cost?: string; tiers: { tier: RestoreTier; cost: string; time?: string }[]; already?: string } {
  const n = plan.archives.length;
  const tiers = plan.tiers.map((t) => ({ tier: t.tier, cost: dollars(t.cost), ...(t.time ? { time: t.time } : {}) }));
  const count = (state: GlacierState['state'], words: string): string | undefined => {
    const k = plan.archives.filter((a) => a.state.state === state).length;
    return k ? `${k === n ? (n === 1 ? 'it is' : `all ${n} are`) : `${k} of ${n} ${k === 1 ? 'is' : 'are'}`} ${words}` : undefined;
  };
  const already = [count('restored', 'restored already'), count('restoring', 'being restored')].filter(Boolean).join('; ');
  return {
    reads: `${n} ${n === 1 ? 'archive' : 'archives'} (${formatBytes(plan.bytes)})`,
    ...(plan.toRetrieve > 0 ? { cost: `retrieving ${formatBytes(plan.toRetrieve)} costs about ${tiers.map((t) => `${t.cost} (${t.tier}${t.time ? `, ${t.time}` : ''})`).join(', ')}` } : {}),
    tiers,
    ...(already ? { already } : {}),
  };
}

const readiness: Record<GlacierState['state'], number> = { archived: 0, restoring: 1, restored: 2, available: 3 };

/** The state of a set of archives as one: the least ready of them (a restored expiry: the earliest). */
export function combinedState(states: readonly GlacierState[]): GlacierState {
  let out = states[0] ?? { state: 'available' };
  for (const s of states) {
    if (readiness[s.state] < readiness[out.state]) out = s;
    else if (s.state === 'restored' && out.state === 'restored' && s.expiry && (!out.expiry || s.expiry < out.expiry)) out = s;
  }
  return out;
}
