/**
 * Watches pending restores in the background. The list lives in globalState (ids, tiers and
 * times; nothing secret), so it survives reloads and restarts; the engine's RestoreTracker checks
 * around each restore's expected completion time. That list is the one truth: the status bar
 * counts it, the tree derives its states from it (catalog.setPending), and a restored copy the
 * listing sees first is entered into it (observe), with the same notification as a check's. A
 * ready archive raises a notification offering Download… of the snapshot whose restore it was
 * requested for (wantedRestores.ts), with the paths chosen, once every archive that restore reads
 * is ready; a restored copy about to expire is warned about once. Clicking the status item reveals
 * the archive in the tree.
 */
import * as vscode from 'vscode';
import { describeError } from '../core/errors';
import { RestoreTracker, type PendingRestore, type PendingStore, type TrackerEvent } from '../core/jobs/restoreTracker';
import { combinedState, type RestoreTier } from '../core/jobs/restoreRequest';
import type { ArchiveCatalog } from './archiveCatalog';
import type { Connection } from './connection';
import type { Log } from './log';
import { localDate } from './when';
import { completedBy, onlyText, releasable, restoreItems, type WantedRestores } from './wantedRestores';

const stateKey = 'glacierBackup.pendingRestores';

class GlobalStatePendingStore implements PendingStore {
  constructor(private readonly memento: vscode.Memento) {}
  async load(): Promise<PendingRestore[]> {
    const list = this.memento.get<unknown>(stateKey, []);
    return Array.isArray(list) ? (list.filter((p) => typeof p?.id === 'string' && typeof p?.store === 'string') as PendingRestore[]) : [];
  }
  async save(list: PendingRestore[]): Promise<void> {
    await this.memento.update(stateKey, list);
  }
}

export class RestorePoller implements vscode.Disposable {
  /** The pending-restore list (also what "Check Archives" compares with the bucket). */
  readonly store: PendingStore;
  private readonly statusItem: vscode.StatusBarItem;
  private timer?: NodeJS.Timeout;
  private ticking = false;
  private readonly warnedExpiry = new Set<string>();
  private tracker?: { key: string; tracker: RestoreTracker };
  private readonly subscription: vscode.Disposable;
  /** Checks and observations run one after another, so one change is announced once. */
  private serial: Promise<unknown> = Promise.resolve();

  constructor(
    memento: vscode.Memento,
    private readonly connection: Connection,
    private readonly catalog: ArchiveCatalog,
    private readonly log: Log,
    private readonly wanted: WantedRestores,
  ) {
    this.store = new GlobalStatePendingStore(memento);
    this.statusItem = vscode.window.createStatusBarItem('glacierBackup.restores', vscode.StatusBarAlignment.Left, 49);
    this.statusItem.name = 'Glacier Backup restores';
    this.statusItem.command = 'glacierBackup.showRestores';
    this.subscription = catalog.onDidChange(() => void this.observeListing());
  }

  dispose(): void {
    if (this.timer) clearInterval(this.timer);
    this.subscription.dispose();
    this.statusItem.dispose();
  }

  /** Starts the timer (ticks are cheap: the tracker only checks archives whose time has come). */
  start(): void {
    const every = Math.min(60, this.connection.settings().pollIntervalSeconds) * 1000;
    if (this.timer) clearInterval(this.timer);
    this.timer = setInterval(() => void this.tick(), Math.max(2000, Math.floor(every / 2)));
    void this.tick();
  }

  private async currentTracker(): Promise<RestoreTracker> {
    const { store, settings } = await this.connection.connect(false);
    const key = JSON.stringify([store.stateId, settings.pollIntervalSeconds]);
    if (this.tracker?.key !== key) {
      this.tracker = { key, tracker: new RestoreTracker({ store, pending: this.store, interval: settings.pollIntervalSeconds * 1000 }) };
    }
    return this.tracker.tracker;
  }

  async add(id: string, request: { tier: RestoreTier; days: number; storageClass?: string }): Promise<void> {
    const storageClass = request.storageClass ?? this.catalog.get(id)?.storageClass;
    await (await this.currentTracker()).add(id, { ...request, ...(storageClass ? { storageClass } : {}) });
    await this.publish();
  }

  async remove(id: string): Promise<void> {
    await (await this.currentTracker()).remove(id);
    await this.publish();
  }

  /** After snapshot `id` was downloaded: stops watching the archives only its restore read, and forgets what it was for. */
  async release(id: string): Promise<void> {
    const tracker = await this.currentTracker();
    for (const a of releasable(this.wanted.all(), id)) await tracker.remove(a);
    await this.wanted.forget(id);
    await this.publish();
  }

  async pending(): Promise<PendingRestore[]> {
    try {
      return await (await this.currentTracker()).pending();
    } catch {
      return [];
    }
  }

  /** One round: checks what is due and tells the user what changed. */
  async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      await this.inTurn(async () => {
        const tracker = await this.currentTracker();
        const events = await tracker.checkDue();
        const pending = await tracker.pending();
        this.announce(events, pending);
        this.warnExpiringSoon(pending);
        await this.publish();
      });
    } catch (err) {
      this.log.debug(`restore poll skipped: ${describeError(err)}`);
    } finally {
      this.ticking = false;
    }
  }

  /**
   * A restored copy the listing saw before a check did: the pending list learns it now, so the
   * status bar and the notification agree with the tree at once rather than at the next check.
   */
  private async observeListing(): Promise<void> {
    const seen = this.catalog.archives.filter((a) => a.restore?.state === 'restoring' && (a.state?.state === 'restored' || a.state?.state === 'available'));
    if (seen.length === 0) return;
    try {
      await this.inTurn(async () => {
        const tracker = await this.currentTracker();
        const events: TrackerEvent[] = [];
        for (const a of seen) {
          const e = await tracker.observe(a.id, a.state!);
          if (e) events.push(e);
        }
        this.announce(events, await tracker.pending());
        await this.publish();
      });
    } catch (err) {
      this.log.debug(`restore states from the listing not applied: ${describeError(err)}`);
    }
  }

  private inTurn<T>(f: () => Promise<T>): Promise<T> {
    const run = this.serial.then(f, f);
    this.serial = run.catch(() => undefined);
    return run;
  }

  /**
   * Tells the user what a check (or the listing) found, and updates the tree's state. A snapshot
   * is offered for download once, when the last archive its restore reads is ready (`pending`
   * says which are: the list as the events left it).
   */
  private announce(events: readonly TrackerEvent[], pending: readonly PendingRestore[]): void {
    const offered = new Set<string>();
    const ready = (id: string): boolean => {
      const p = pending.find((x) => x.id === id);
      return p ? p.state === 'ready' : ['restored', 'available'].includes(this.catalog.get(id)?.state?.state ?? '');
    };
    for (const e of events) {
      if (e.type !== 'ready') {
        this.announceOne(e);
        continue;
      }
      this.catalog.setState(e.id, { state: 'restored', ...(e.expiry ? { expiry: e.expiry } : {}) });
      this.log.info(`restore of ${e.id} is ready${e.expiry ? ` until ${e.expiry.toISOString()}` : ''}`);
      const snapshots = completedBy(this.wanted.all(), e.id, ready);
      if (snapshots?.length === 0) this.log.info(`the restores that read ${e.id} wait for other archives of their chain`);
      for (const id of snapshots ?? [e.id]) {
        if (offered.has(id)) continue;
        offered.add(id);
        this.offerDownload(id);
      }
    }
  }

  private announceOne(e: Exclude<TrackerEvent, { type: 'ready' }>): void {
    const label = this.catalog.get(e.id)?.summary?.label ?? e.id;
    switch (e.type) {
      case 'restoring':
        this.catalog.setState(e.id, { state: 'restoring' });
        break;
      case 'expired':
        this.catalog.setState(e.id, { state: 'archived' });
        void vscode.window.showWarningMessage(`Glacier Backup: the restored copy of ${label} expired before it was downloaded; request a new restore.`);
        break;
      case 'failed':
        this.log.warn(`stopped watching the restore of ${e.id}: ${e.message}`);
        void vscode.window.showErrorMessage(`Glacier Backup: stopped watching the restore of ${label}: ${e.message}`);
        break;
    }
  }

  /** "Ready to download", for a snapshot whose archives are all back: until the earliest of their expiries. */
  private offerDownload(id: string): void {
    const label = this.catalog.get(id)?.summary?.label ?? id;
    const wanted = this.wanted.get(id);
    const state = combinedState((wanted?.archives ?? [id]).map((a) => this.catalog.get(a)?.state ?? { state: 'available' }));
    const expiry = state.state === 'restored' ? state.expiry : undefined;
    const paths = wanted?.paths;
    const only = paths ? ` Download… offers ${onlyText(paths)}.` : '';
    const until = expiry ? ` It stays downloadable until ${localDate(expiry)}.` : '';
    void vscode.window.showInformationMessage(`Glacier Backup: "${label}" is restored and ready to download.${until}${only}`, 'Download…', 'Show in Archives').then((pick) => {
      if (pick === 'Download…') void vscode.commands.executeCommand('glacierBackup.download', id);
      if (pick === 'Show in Archives') void vscode.commands.executeCommand('glacierBackup.showRestores', id);
    });
  }

  private warnExpiringSoon(list: PendingRestore[]): void {
    for (const p of list) {
      if (p.state !== 'ready' || !p.expiry || this.warnedExpiry.has(p.id)) continue;
      const hoursLeft = (new Date(p.expiry).getTime() - Date.now()) / 3_600_000;
      if (hoursLeft < 24 && hoursLeft > 0) {
        this.warnedExpiry.add(p.id);
        void vscode.window.showWarningMessage(`Glacier Backup: the restored copy of ${this.catalog.get(p.id)?.summary?.label ?? p.id} expires at ${localDate(new Date(p.expiry))}.`, 'Download…').then((pick) => {
          if (pick) void vscode.commands.executeCommand('glacierBackup.download', p.id);
        });
      }
    }
  }

  private async publish(): Promise<void> {
    const list = await this.pending();
    this.catalog.setPending(list);
    // Counted per restore request: a chain's archives are one restore.
    const items = restoreItems(this.wanted.all(), list);
    const waiting = items.filter((p) => p.state === 'restoring').length;
    const ready = items.filter((p) => p.state === 'ready').length;
    if (waiting + ready === 0) {
      this.statusItem.hide();
      return;
    }
    const parts = [];
    if (waiting) parts.push(`${waiting} restore${waiting === 1 ? '' : 's'} pending`);
    if (ready) parts.push(`${ready} ready`);
    this.statusItem.text = `$(history) ${parts.join(', ')}`;
    this.statusItem.tooltip = `Glacier Backup: ${items.map((p) => `${this.catalog.get(p.id)?.summary?.label ?? p.id} ${p.state === 'ready' ? 'is ready to download' : 'is being restored'}`).join('; ')}. Click to show it in the Archives view.`;
    this.statusItem.show();
  }
}
