/**
 * Scheduled backups while VS Code is open: each workspace folder whose `glacierBackup.schedule` is
 * hourly, daily or weekly is backed up when core/model/scheduleTiming.ts says it is due. A timer
 * ticks every minute; a tick after the machine slept finds a missed run due once, not once per
 * missed period.
 *
 * Guarantees:
 * - One window at a time: a run is claimed in the shared record (core/jobs/scheduleState.ts)
 *   under the engine's lock file; other windows see the claim and skip it.
 * - It yields: nothing starts while another job is queued or running, and a job asked for while
 *   a scheduled backup runs suspends it (jobQueue.ts); the next tick resumes its upload.
 * - It never prompts: a missing secret is a "blocked" state (status bar, one notification with
 *   the fix), checked again each tick and whenever secrets or settings change.
 * - A failure stays visible (status bar, a notification with Retry, Show Log and the known fix)
 *   until a run succeeds; retries come sooner, doubling (scheduleTiming.ts).
 *
 * GLACIER_BACKUP_SCHEDULE_SCALE (a test hook, not a setting) divides every duration: 3600 makes
 * an hour a second, so an end-to-end test can watch a scheduled run happen.
 */
import * as vscode from 'vscode';
import { describeError, GlacierError, Suspend } from '../../core/errors';
import { blockRun, claimRun, finishRun, readRuns, unblockRun, type FolderRun, type Outcome } from '../../core/jobs/scheduleState';
import { isDue, isFrequency, sleptBetween, timingOf, type Frequency, type Timing } from '../../core/model/scheduleTiming';
import type { Services } from '../commands/services';
import { section } from '../settings';
import { backUpUnattended, prepareUnattended } from './unattended';
import type { ScheduleAlerts } from './alerts';
import type { AfterBackup } from './retentionRun';

export interface ScheduledFolder {
  folder: vscode.WorkspaceFolder;
  frequency: Frequency;
  timing?: Timing;
  run: FolderRun;
}

const tickMs = 60_000;

export function scheduleScale(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env.GLACIER_BACKUP_SCHEDULE_SCALE);
  return Number.isFinite(n) && n >= 1 ? n : 1;
}

export class Scheduler implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private timer?: NodeJS.Timeout;
  private lastTick = Date.now();
  private ticking = false;
  private disposed = false;
  private current?: string;
  folders: ScheduledFolder[] = [];

  constructor(
    private readonly s: Services,
    private readonly alerts: ScheduleAlerts,
    private readonly afterBackup: AfterBackup,
    private readonly scale = scheduleScale(),
  ) {}

  /** Starts ticking; the first tick comes a little after start-up (half a minute, scaled). */
  start(): void {
    const tick = Math.max(200, tickMs / this.scale);
    const first = setTimeout(() => void this.tick(), Math.max(200, 30_000 / this.scale));
    this.timer = setInterval(() => void this.tick(), tick);
    this.disposables.push({ dispose: () => clearTimeout(first) });
  }

  private readonly disposables: vscode.Disposable[] = [];

  dispose(): void {
    this.disposed = true;
    if (this.timer) clearInterval(this.timer);
    for (const d of this.disposables) d.dispose();
    this.changed.dispose();
  }

  /** The schedule of each open folder, with what the shared record says of it. */
  async refresh(): Promise<void> {
    const runs = await readRuns(this.s.stateDir).catch(() => ({}) as Record<string, FolderRun>);
    this.folders = (vscode.workspace.workspaceFolders ?? [])
      .filter((f) => f.uri.scheme === 'file')
      .map((folder) => {
        const value = vscode.workspace.getConfiguration(section, folder.uri).get<string>('schedule', 'off');
        const frequency = isFrequency(value) ? value : 'off';
        const timing = timingOf(frequency, folder.uri.fsPath, this.scale);
        return { folder, frequency, ...(timing ? { timing } : {}), run: runs[folder.uri.fsPath] ?? {} };
      });
    this.changed.fire();
  }

  /** Runs what is due; concurrent ticks share one pass. */
  async tick(): Promise<void> {
    if (this.ticking || this.disposed) return;
    this.ticking = true;
    try {
      const now = Date.now();
      if (sleptBetween(this.lastTick, now, Math.max(200, tickMs / this.scale))) this.s.log.info('schedule: woke from sleep; running what was missed, once');
      this.lastTick = now;
      await this.refresh();
      for (const f of this.folders) {
        if (this.disposed || !f.timing) continue;
        if (this.s.jobs.busy()) return; // yield to whatever the user started
        await this.runIfDue(f, f.timing);
      }
    } catch (err) {
      this.s.log.warn(`schedule: ${describeError(err)}`);
    } finally {
      this.ticking = false;
    }
  }

  /** Runs a folder now if it is due, or whatever its timing says (`force`: Retry). */
  async runIfDue(f: ScheduledFolder, timing: Timing, force = false): Promise<void> {
    const key = f.folder.uri.fsPath;
    const now = Date.now();
    if (!force && !isDue(now, f.run, timing)) return;
    const ready = await prepareUnattended(this.s);
    if (ready.kind === 'blocked') {
      if (await blockRun(this.s.stateDir, key, ready.reason, now)) this.alerts.blocked(f.folder.name, ready);
      await this.refresh();
      return;
    }
    if (f.run.blocked) await unblockRun(this.s.stateDir, key);
    if (!(await claimRun(this.s.stateDir, key, now, (run) => force || isDue(now, run, timing)))) return;
    this.current = key;
    this.changed.fire();
    this.s.log.info(`schedule: backing up ${key} (${f.frequency})`);
    let outcome: Outcome;
    try {
      const settings = ready.connected.settings;
      const marker = vscode.workspace.getConfiguration(section).get<boolean>('freshnessMarker', true);
      const result = await backUpUnattended(this.s, key, ready, marker);
      outcome = { ok: true, id: result.id, created: result.status === 'created' };
      this.s.jobs.dismissFailed(`schedule:${key}`);
      this.alerts.succeeded(f.folder.name, f.run.lastFailure !== undefined);
      this.s.log.info(`schedule: ${key}: ${result.status === 'created' ? `archive ${result.id}` : `unchanged since ${result.id}`}`);
      await this.s.catalog.refresh();
      // Retention's own failure is logged; it does not make the backup a failed one.
      if (result.status === 'created') await this.afterBackup(f.folder, settings).catch((e: unknown) => this.s.log.error(`retention: ${describeError(e)}`));
    } catch (err) {
      const message = describeError(err);
      // Suspended by jobQueue.ts for a job the user asked for, before it started or while it ran.
      if (err instanceof Suspend) {
        outcome = { yielded: true };
        this.s.log.info(`schedule: ${key}: yielded to another job; it resumes on a later tick`);
      } else if ((err instanceof GlacierError && err.code === 'cancelled') || (err instanceof Error && err.name === 'AbortError')) {
        outcome = { cancelled: true };
      } else {
        outcome = { ok: false, message };
        this.s.log.error(`schedule: ${key}: ${message}`);
        // One notification per streak (or when the cause changes); the status bar carries the rest.
        if (!f.run.failures || f.run.lastFailure?.message !== message) this.alerts.failed(f.folder.name, message, ready.connected.settings.credentials, () => this.retry(key));
      }
    } finally {
      this.current = undefined;
    }
    await finishRun(this.s.stateDir, key, outcome, Date.now());
    await this.refresh();
  }

  /** Retry from a failure notification: runs the folder now, whatever its timing. */
  async retry(key: string): Promise<void> {
    await this.refresh();
    const f = this.folders.find((x) => x.folder.uri.fsPath === key);
    const timing = f?.timing ?? (f ? timingOf('daily', key, this.scale) : undefined);
    if (f && timing) await this.runIfDue(f, timing, true);
  }

  /** The folder being backed up by this window's scheduler, if any. */
  running(): string | undefined {
    return this.current;
  }
}
