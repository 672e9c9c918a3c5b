/**
 * What the Archives view and the quick picks show: the archives of the configured store, each
 * with its Glacier state and summary. Listing is one LIST per 1,000 objects; catalog summaries
 * are read (and decrypted) once per object and kept in the extension's storage folder (the core's
 * summary cache), so a reload shows thousands of archives without decrypting them again. Full
 * manifests (file lists) are read on demand and only the most recent few are kept in memory.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { describeError } from '../core/errors';
import type { PendingRestore } from '../core/jobs/restoreTracker';
import { listArchivesWithState, summarise, type ListedArchive, type ListingProblem } from '../core/jobs/listing';
import { openManifest, type Manifest } from '../core/jobs/manifest';
import type { GlacierState } from '../core/model/glacierState';
import { keys } from '../core/model/keys';
import type { Connection } from './connection';
import { isNotSetUp } from './storeLocation';
import type { Log } from './log';
import { openWithPassphrase } from './passphraseRetry';
import type { ArchiveInfo } from './viewModel';

export type CatalogStatus =
  | { kind: 'idle' }
  | { kind: 'loading' }
  | { kind: 'not-configured' }
  | { kind: 'error'; message: string }
  | { kind: 'ready'; needsKey: boolean };

export class ArchiveCatalog implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  archives: ArchiveInfo[] = [];
  status: CatalogStatus = { kind: 'idle' };
  /** The store the archives belong to, as its stateId names it. */
  storeKey = '';
  bucket = '';
  prefix = '';
  private oldCacheRemoved = false;
  private readonly manifests = new Map<string, Manifest>();
  private refreshing?: Promise<void>;
  private pending: PendingRestore[] = [];

  constructor(
    private readonly connection: Connection,
    private readonly storageDir: string,
    private readonly log: Log,
  ) {}

  dispose(): void {
    this.changed.dispose();
  }

  get(id: string): ArchiveInfo | undefined {
    return this.archives.find((a) => a.id === id);
  }

  archiveKey(id: string): string {
    return `${this.prefix}${keys.archive(id)}`;
  }

  /** Reloads the listing, summaries and states. Concurrent calls share one run. */
  refresh(): Promise<void> {
    this.refreshing ??= this.load().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  private async load(): Promise<void> {
    let conn;
    try {
      conn = await this.connection.connect(false);
    } catch (err) {
      this.archives = [];
      this.status = isNotSetUp(err) ? { kind: 'not-configured' } : { kind: 'error', message: describeError(err) };
      this.changed.fire();
      return;
    }
    const { store, location, settings } = conn;
    this.status = { kind: 'loading' };
    this.changed.fire();
    await this.removeOldCache();
    const sid = store.stateId;
    const previous = new Map(this.archives.map((a) => [a.id, a]));
    // Shown as each phase ends: ids and sizes first, then summaries, then Glacier states.
    const show = (listed: readonly ListedArchive[]): void => {
      this.archives = listed.map((l) => archiveInfo(l, previous.get(l.id)));
      this.applyPending();
      this.changed.fire();
    };
    try {
      const { archives, needsKey } = await listArchivesWithState({
        store,
        decryption: async () => (await this.connection.decryption(settings, false, ''))?.dec,
        cacheDir: this.storageDir,
        onPhase: async (phase, listed) => {
          if (phase === 'listed') {
            this.storeKey = sid;
            this.bucket = location.kind === 's3' ? location.bucket : '';
            this.prefix = location.kind === 's3' ? location.prefix : '';
          }
          show(listed);
        },
        onStateError: (id, err) => this.log.warn(`status of ${id}: ${describeError(err)}`),
      });
      this.status = { kind: 'ready', needsKey };
      show(archives);
      this.log.info(`listed ${this.archives.length} archives in ${store.name}`);
    } catch (err) {
      this.archives = [];
      this.status = { kind: 'error', message: describeError(err) };
      this.log.error(`listing failed: ${describeError(err)}`);
      this.changed.fire();
    }
  }

  /** The full manifest of an archive (file list); asks for the passphrase when none is stored. */
  async manifest(id: string): Promise<Manifest> {
    const hit = this.manifests.get(id);
    if (hit) return hit;
    const { store, settings } = await this.connection.connect();
    const label = this.get(id)?.summary?.label ?? id;
    const { value: m } = await openWithPassphrase(this.connection, settings, label, `Enter the passphrase to open the manifest of ${label}.`, (dec) => openManifest(store, id, dec));
    this.manifests.set(id, m);
    // Keep a few file lists; a 200,000-file manifest is tens of MB.
    while (this.manifests.size > 4) this.manifests.delete(this.manifests.keys().next().value!);
    const info = this.get(id);
    if (info && !info.summary) {
      info.summary = summarise(m);
      this.changed.fire();
    }
    return m;
  }

  /** Manifests already in memory (for searching file names without network). */
  loadedManifests(): Manifest[] {
    return [...this.manifests.values()];
  }

  setState(id: string, state: GlacierState): void {
    const a = this.get(id);
    if (!a || JSON.stringify(a.state) === JSON.stringify(state)) return;
    a.state = state;
    this.changed.fire();
  }

  /** The poller's list of pending restores: the tree's state derives from it (viewModel.archiveKind). */
  setPending(list: readonly PendingRestore[]): void {
    // The poller publishes after every check; the tree is redrawn (which closes a context menu
    // open on it) only when what it shows of the list changed.
    const shown = (l: readonly PendingRestore[]): string => JSON.stringify(l.map((p) => [p.id, p.store, p.requestedAt, p.tier ?? null]));
    const same = shown(list) === shown(this.pending);
    this.pending = [...list];
    if (same) return;
    this.applyPending();
    this.changed.fire();
  }

  private applyPending(): void {
    for (const a of this.archives) {
      const p = this.pending.find((x) => x.id === a.id && x.store === this.storeKey);
      if (p) a.restore = { requestedAt: p.requestedAt, state: p.state, ...(p.tier ? { tier: p.tier } : {}), ...(p.expiry ? { expiry: p.expiry } : {}) };
      else delete a.restore;
    }
  }

  forgetArchive(id: string): void {
    this.archives = this.archives.filter((a) => a.id !== id);
    this.manifests.delete(id);
    this.changed.fire();
  }

  /** Summaries were kept in summaries.json, keyed by id alone, before the core cached them by ETag. */
  private async removeOldCache(): Promise<void> {
    if (this.oldCacheRemoved) return;
    this.oldCacheRemoved = true;
    await fs.rm(path.join(this.storageDir, 'summaries.json'), { force: true }).catch(() => undefined);
  }
}

/** The view's record of a listed archive; a state not known yet (its HEAD failed) stays as it was. */
function archiveInfo(l: ListedArchive, prev: ArchiveInfo | undefined): ArchiveInfo {
  const state = l.state ?? prev?.state;
  return {
    id: l.id,
    ...(l.size !== undefined ? { size: l.size, storageClass: l.storageClass, lastModified: l.lastModified } : {}),
    ...(state ? { state } : {}),
    ...(l.summary ? { summary: l.summary } : {}),
    ...(l.problem ? { problem: problemText(l.problem) } : {}),
    ...(l.problem?.locked ? { locked: true } : {}),
  };
}

function problemText(p: ListingProblem): string {
  if (p.kind === 'manifest-without-archive') return `${p.message} (run "Check bucket")`;
  if (p.kind === 'manifest-unreadable') return `manifest: ${p.message}`;
  return p.message;
}
