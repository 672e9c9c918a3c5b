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

export async function requestRestore(store: ArchiveStore, id: string, options: { tier: RestoreTier; days: number }): Promise<RestoreResult> {
  if (!Number.isInteger(options.days) || options.days < 1 || options.days > 365) {
    throw new GlacierError('usage', 'restore days must be a whole number from 1 to 365');
  }
  try {
    const { head, outcome } = await store.requestRestore(keys.archive(id), { ...options, what: `archive ${id}`, action: `request a restore of ${id}` });
    return { status: { id, storageClass: head.storageClass, size: head.size, glacier: head.glacier }, outcome };
  } catch (err) {
    throw err instanceof GlacierError && err.code === 'not-found' ? missing(store, id, err) : err;
  }
}

/**
 * The archives a restore of snapshot `id` brings back: its own for format version 1; for version 2
 * those of its chain that hold its files' bytes (downloadChain.ts reads exactly these). Without a
 * way to read its manifest, just its own (a download then names any other it needs).
 */
export async function archivesToRestore(store: ArchiveStore, id: string, dec: Decryption | undefined, signal?: AbortSignal): Promise<string[]> {
  if (!dec) return [id];
  const m = await readManifest(store, id, dec, signal);
  return m.version === 2 ? archivesHolding(m, m.entries) : [id];
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
