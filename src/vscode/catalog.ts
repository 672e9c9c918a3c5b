/**
 * What the Archives view and the quick picks show: the archives of the configured store, each
 * with its Glacier state and manifest summary. Listing is one LIST per 1,000 objects; manifests
 * are read (and decrypted) once per archive and their summaries kept in the extension's storage
 * folder, so a reload shows hundreds of archives without decrypting them again. Full manifests
 * (file lists) are read on demand and only the most recent few are kept in memory.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { listArchives, readManifest } from '../core/catalog/catalog';
import type { Manifest } from '../core/catalog/manifest';
import { describeError, GlacierError } from '../core/errors';
import type { PendingRestore } from '../core/jobs/restoreTracker';
import { writeFileAtomic } from '../core/util/atomicWrite';
import { glacierState, needsRestore, type GlacierState } from '../core/store/glacierState';
import { archiveStatus } from '../core/jobs/restoreRequest';
import { keys } from '../core/store/keys';
import { mapLimit } from '../core/util/mapLimit';
import type { Connection } from './connection';
import type { Log } from './log';
import { summarise, type ArchiveInfo, type ArchiveSummary } from './model';

export type CatalogStatus =
  | { kind: 'idle' }
  | { kind: 'loading' }
  | { kind: 'not-configured' }
  | { kind: 'error'; message: string }
  | { kind: 'ready'; needsKey: boolean };

export class Catalog implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  archives: ArchiveInfo[] = [];
  status: CatalogStatus = { kind: 'idle' };
  /** The store the archives belong to, as its stateId names it. */
  storeKey = '';
  bucket = '';
  prefix = '';
  private summaries: Record<string, ArchiveSummary> = {};
  private summariesLoaded = false;
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
      this.status = err instanceof GlacierError && err.code === 'config' && /no bucket/.test(err.message) ? { kind: 'not-configured' } : { kind: 'error', message: describeError(err) };
      this.changed.fire();
      return;
    }
    const { store, config, settings } = conn;
    this.status = { kind: 'loading' };
    this.changed.fire();
    await this.loadSummaries();
    const sid = store.stateId;
    try {
      const listing = await listArchives(store);
      this.storeKey = sid;
      this.bucket = config.bucket;
      this.prefix = config.prefix;
      const previous = new Map(this.archives.map((a) => [a.id, a]));
      this.archives = listing.map((l) => {
        const info: ArchiveInfo = {
          id: l.id,
          ...(l.archive ? { size: l.archive.size, storageClass: l.archive.storageClass, lastModified: l.archive.lastModified } : {}),
          ...(this.summaries[`${sid}|${l.id}`] ? { summary: this.summaries[`${sid}|${l.id}`] } : {}),
        };
        const prev = previous.get(l.id);
        if (prev?.state) info.state = prev.state;
        if (l.archive && !needsRestore(l.archive.storageClass)) info.state = glacierState(l.archive.storageClass, undefined);
        if (!l.archive) info.problem = 'manifest without archive (run "Check bucket")';
        else if (!l.manifest) info.problem = 'archive without manifest';
        return info;
      });
      this.applyPending();
      this.changed.fire();

      // Manifest summaries, for archives not seen before.
      const missing = this.archives.filter((a) => !a.summary && !a.problem);
      let needsKey = false;
      if (missing.length > 0) {
        const opened = await this.connection.decryption(settings, false, '');
        if (!opened) needsKey = true;
        else {
          let dirty = false;
          await mapLimit(missing, 4, async (a) => {
            try {
              const m = await readManifest(store, a.id, opened.dec);
              a.summary = summarise(m);
              this.summaries[`${sid}|${a.id}`] = a.summary;
              dirty = true;
            } catch (err) {
              a.problem = `manifest: ${describeError(err)}`;
            }
          });
          if (dirty) await this.saveSummaries();
          this.changed.fire();
        }
      }

      // Glacier states: one HEAD per archive in a Glacier class.
      const glacier = this.archives.filter((a) => a.size !== undefined && needsRestore(a.storageClass));
      await mapLimit(glacier, 8, async (a) => {
        try {
          a.state = (await archiveStatus(store, a.id)).glacier;
        } catch (err) {
          this.log.warn(`status of ${a.id}: ${describeError(err)}`);
        }
      });
      this.status = { kind: 'ready', needsKey };
      this.log.info(`listed ${this.archives.length} archives in ${store.name}`);
    } catch (err) {
      this.archives = [];
      this.status = { kind: 'error', message: describeError(err) };
      this.log.error(`listing failed: ${describeError(err)}`);
    }
    this.changed.fire();
  }

  /** The full manifest of an archive (file list); asks for the passphrase when none is stored. */
  async manifest(id: string): Promise<Manifest> {
    const hit = this.manifests.get(id);
    if (hit) return hit;
    const { store, settings } = await this.connection.connect();
    const opened = await this.connection.decryption(settings, true, `Enter the passphrase to open the manifest of ${this.get(id)?.summary?.label ?? id}.`);
    const m = await readManifest(store, id, opened!.dec);
    if (opened!.fresh) await this.connection.secrets.rememberPassphrase(opened!.fresh);
    this.manifests.set(id, m);
    // Keep a few file lists; a 200,000-file manifest is tens of MB.
    while (this.manifests.size > 4) this.manifests.delete(this.manifests.keys().next().value!);
    const info = this.get(id);
    if (info && !info.summary) {
      info.summary = summarise(m);
      this.summaries[`${store.stateId}|${id}`] = info.summary;
      await this.saveSummaries();
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
    if (!a) return;
    a.state = state;
    this.changed.fire();
  }

  /** The poller's list of pending restores, for "restoring since …, expected by …". */
  setPending(list: readonly PendingRestore[]): void {
    this.pending = [...list];
    this.applyPending();
    this.changed.fire();
  }

  private applyPending(): void {
    for (const a of this.archives) {
      const p = this.pending.find((x) => x.id === a.id && x.store === this.storeKey);
      if (p) a.restore = { requestedAt: p.requestedAt, ...(p.tier ? { tier: p.tier } : {}) };
      else delete a.restore;
    }
  }

  forgetArchive(id: string): void {
    this.archives = this.archives.filter((a) => a.id !== id);
    this.manifests.delete(id);
    this.changed.fire();
  }

  private get summaryFile(): string {
    return path.join(this.storageDir, 'summaries.json');
  }

  private async loadSummaries(): Promise<void> {
    if (this.summariesLoaded) return;
    this.summariesLoaded = true;
    try {
      const parsed = JSON.parse(await fs.readFile(this.summaryFile, 'utf8')) as unknown;
      if (parsed && typeof parsed === 'object') this.summaries = parsed as Record<string, ArchiveSummary>;
    } catch {
      this.summaries = {};
    }
  }

  private async saveSummaries(): Promise<void> {
    try {
      await writeFileAtomic(this.summaryFile, JSON.stringify(this.summaries));
    } catch (err) {
      this.log.warn(`could not save the archive summaries: ${describeError(err)}`);
    }
  }
}
