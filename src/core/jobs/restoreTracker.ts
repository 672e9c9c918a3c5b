/**
 * Tracks pending restores until they are ready: restores take 12–48 hours, so the list lives in a
 * small persistent store (VS Code: globalState; CLI: a file under the user's config folder) and
 * survives restarts.
 *
 * Guarantees: at most one status request (HEAD) per archive per interval, even when checkDue is
 * called often or concurrently. A restore of known tier is checked around its expected completion
 * time (model/restorePolling.ts); otherwise the interval backs off (×2 per unchanged check, up to
 * maxInterval).
 * Events: `restoring` (still pending), `ready` (once, with expiry), `expired` (a ready copy went
 * back to Glacier before it was taken), `failed` (the archive is gone or checks keep failing).
 */
import { promises as fs } from 'node:fs';
import type { ArchiveStore } from '../store/archiveStore';
import type { GlacierState } from '../model/glacierState';
import { describeError, GlacierError } from '../errors';
import { archiveStatus } from './restoreRequest';
import { nextCheckDelay } from '../model/restorePolling';
import { restoreTime } from '../model/restoreTimes';
import { withFileLock, type LockOptions } from '../fileLock';
import { writeFileAtomic } from '../util/atomicWrite';

export interface PendingRestore {
  id: string;
  /** Which store the archive is in (endpoint|bucket|prefix), so one list can serve several. */
  store: string;
  requestedAt: string;
  tier?: string;
  days?: number;
  /** The archive's storage class (DEEP_ARCHIVE when absent): with the tier, when to expect it. */
  storageClass?: string;
  state: 'restoring' | 'ready';
  expiry?: string;
  /** Epoch ms of the next allowed status request. */
  nextCheck: number;
  /** Checks in a row without a change (drives the backoff). */
  unchanged: number;
  failures: number;
}

/**
 * Where pending restores persist. Implementations must make save() atomic. When several processes
 * share the store, update() must make its read-modify-write exclusive (the tracker uses it when
 * present; without it, load() then save()).
 */
export interface PendingStore {
  load(): Promise<PendingRestore[]>;
  save(list: PendingRestore[]): Promise<void>;
  update?(f: (list: PendingRestore[]) => PendingRestore[]): Promise<void>;
}

export class MemoryPendingStore implements PendingStore {
  private list: PendingRestore[] = [];
  async load(): Promise<PendingRestore[]> {
    return this.list.map((p) => ({ ...p }));
  }
  async save(list: PendingRestore[]): Promise<void> {
    this.list = list.map((p) => ({ ...p }));
  }
}

/**
 * A JSON file, replaced atomically (temp file + rename). A damaged file reads as empty. Updates
 * hold a lock file (see fileLock.ts), so two processes (windows, the CLI) never lose each other's
 * changes.
 */
export class FilePendingStore implements PendingStore {
  constructor(
    private readonly file: string,
    private readonly lockOptions: LockOptions = {},
  ) {}
  async update(f: (list: PendingRestore[]) => PendingRestore[]): Promise<void> {
    await withFileLock(this.file, async () => this.save(f(await this.load())), this.lockOptions);
  }
  async load(): Promise<PendingRestore[]> {
    try {
      const parsed = JSON.parse(await fs.readFile(this.file, 'utf8')) as unknown;
      return Array.isArray(parsed) ? (parsed.filter((p) => typeof p?.id === 'string' && typeof p?.store === 'string') as PendingRestore[]) : [];
    } catch {
      return [];
    }
  }
  async save(list: PendingRestore[]): Promise<void> {
    await writeFileAtomic(this.file, JSON.stringify(list, null, 1));
  }
}

export type TrackerEvent =
  | { type: 'restoring'; id: string }
  | { type: 'ready'; id: string; expiry?: Date }
  | { type: 'expired'; id: string }
  | { type: 'failed'; id: string; message: string };

export interface TrackerOptions {
  store: ArchiveStore;
  pending: PendingStore;
  /** First wait between checks, ms (default 15 minutes). */
  interval?: number;
  maxInterval?: number;
  /** Consecutive failed checks before giving up on an archive (default 10). */
  maxFailures?: number;
  now?: () => number;
}

/** What a seen Glacier state does to a pending restore: its next record (none: stop tracking) and the event. */
function transition(p: PendingRestore, glacier: GlacierState): { pending?: PendingRestore; event?: TrackerEvent } {
  if (glacier.state === 'restored' || glacier.state === 'available') {
    const expiry = glacier.state === 'restored' ? glacier.expiry : undefined;
    return {
      pending: { ...p, state: 'ready', ...(expiry ? { expiry: expiry.toISOString() } : {}), unchanged: p.state === 'ready' ? p.unchanged + 1 : 0, failures: 0 },
      ...(p.state !== 'ready' ? { event: { type: 'ready', id: p.id, ...(expiry ? { expiry } : {}) } } : {}),
    };
  }
  if (p.state === 'ready' && glacier.state === 'archived') return { event: { type: 'expired', id: p.id } };
  // Restoring; or archived although requested: S3 may not show a fresh request yet; keep looking.
  return { pending: { ...p, unchanged: p.unchanged + 1, failures: 0 }, event: { type: 'restoring', id: p.id } };
}

export class RestoreTracker {
  private readonly interval: number;
  private readonly maxInterval: number;
  private readonly now: () => number;
  private readonly inFlight = new Set<string>();

  constructor(private readonly options: TrackerOptions) {
    this.interval = options.interval ?? 15 * 60_000;
    this.maxInterval = Math.max(options.maxInterval ?? 4 * 60 * 60_000, this.interval);
    this.now = options.now ?? Date.now;
  }

  private mine(p: PendingRestore): boolean {
    return p.store === this.options.store.stateId;
  }

  async pending(): Promise<PendingRestore[]> {
    return (await this.options.pending.load()).filter((p) => this.mine(p));
  }

  /** Starts tracking (or re-tracks) an archive whose restore was just requested. */
  async add(id: string, request: { tier?: string; days?: number; storageClass?: string } = {}): Promise<void> {
    await this.mutate((all) => [
      ...all.filter((p) => !(p.id === id && this.mine(p))),
      {
      id,
      store: this.options.store.stateId,
      requestedAt: new Date(this.now()).toISOString(),
      ...request,
      state: 'restoring',
      nextCheck: this.now(),
        unchanged: 0,
        failures: 0,
      },
    ]);
  }

  /** Stops tracking (after a download, or when the user gives up). */
  async remove(id: string): Promise<void> {
    await this.mutate((all) => all.filter((p) => !(p.id === id && this.mine(p))));
  }

  /**
   * A state seen elsewhere (the listing of the bucket, a request): applied as a check's result
   * would be, so whoever shows pending restores agrees with whoever showed the archive. Returns
   * the event when it changed something the user is told about (`ready`, `expired`).
   */
  async observe(id: string, glacier: GlacierState): Promise<TrackerEvent | undefined> {
    let event: TrackerEvent | undefined;
    await this.update(id, (p) => {
      const next = transition(p, glacier);
      if (next.event?.type !== 'ready' && next.event?.type !== 'expired') return p;
      event = next.event;
      return next.pending ? { ...next.pending, nextCheck: this.now() + this.delay(next.pending) } : undefined;
    });
    return event;
  }

  /** One read-modify-write of the whole list, exclusive when the store supports it. */
  private async mutate(f: (list: PendingRestore[]) => PendingRestore[]): Promise<void> {
    const store = this.options.pending;
    if (store.update) await store.update(f);
    else await store.save(f(await store.load()));
  }

  /** Checks every archive whose next check is due; returns what changed (and `restoring` for still pending). */
  async checkDue(signal?: AbortSignal): Promise<TrackerEvent[]> {
    const events: TrackerEvent[] = [];
    const due = (await this.pending()).filter((p) => p.nextCheck <= this.now() && !this.inFlight.has(p.id));
    for (const item of due) {
      if (signal?.aborted) break;
      this.inFlight.add(item.id);
      try {
        const event = await this.checkOne(item, signal);
        if (event) events.push(event);
      } finally {
        this.inFlight.delete(item.id);
      }
    }
    return events;
  }

  private async checkOne(item: PendingRestore, signal?: AbortSignal): Promise<TrackerEvent | undefined> {
    // Claim the slot first, so another caller (window, process) sees this check as done for the
    // interval; one that claimed it in the meantime wins, and this caller does not check.
    let claimed = false;
    await this.update(item.id, (p) => {
      if (p.nextCheck > this.now()) return p;
      claimed = true;
      return { ...p, nextCheck: this.now() + this.delay(p) };
    });
    if (!claimed) return undefined;
    let event: TrackerEvent | undefined;
    let change: ((p: PendingRestore) => PendingRestore | undefined) | undefined;
    try {
      const { glacier } = await archiveStatus(this.options.store, item.id, signal);
      change = (p) => {
        const next = transition(p, glacier);
        event = next.event;
        return next.pending;
      };
    } catch (err) {
      if (signal?.aborted) return undefined;
      const message = describeError(err);
      if (err instanceof GlacierError && err.code === 'not-found') {
        event = { type: 'failed', id: item.id, message };
        change = () => undefined;
      } else if (item.failures + 1 >= (this.options.maxFailures ?? 10)) {
        event = { type: 'failed', id: item.id, message };
        change = () => undefined;
      } else {
        change = (p) => ({ ...p, failures: p.failures + 1 });
      }
    }
    await this.update(item.id, (p) => {
      const next = change!(p);
      return next ? { ...next, nextCheck: this.now() + this.delay(next) } : undefined;
    });
    return event;
  }

  /** The wait before the next check: around the expected completion time while restoring, else the backoff. */
  private delay(p: PendingRestore): number {
    const expected = p.tier === undefined ? undefined : restoreTime(p.storageClass ?? 'DEEP_ARCHIVE', p.tier);
    if (p.state !== 'restoring' || p.failures > 0 || !expected) return this.backoff(p.unchanged);
    const requestedAt = Date.parse(p.requestedAt);
    if (Number.isNaN(requestedAt)) return this.backoff(p.unchanged);
    return nextCheckDelay({ requestedAt, expectedMs: expected.hours * 3_600_000, interval: this.interval, maxSparse: Math.min(this.maxInterval, 8 * this.interval, 2 * 3_600_000) }, this.now());
  }

  private backoff(unchanged: number): number {
    return Math.min(this.maxInterval, this.interval * 2 ** Math.min(unchanged, 16));
  }

  private async update(id: string, f: (p: PendingRestore) => PendingRestore | undefined): Promise<void> {
    await this.mutate((list) => {
      const out: PendingRestore[] = [];
      for (const p of list) {
        if (p.id === id && this.mine(p)) {
          const next = f(p);
          if (next) out.push(next);
        } else out.push(p);
      }
      return out;
    });
  }
}
