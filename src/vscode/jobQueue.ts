/**
 * Backups and downloads run one at a time, in the order they were asked for. The running job shows
 * in the status bar (percent, speed, time left; a click offers details and Cancel), in a
 * cancellable progress notification and in the Archives view; a failed job stays in the view until
 * dismissed, or until the same job succeeds. Every Cancel (notification, status bar, tree) acts at
 * once and ends with the same message.
 */
import * as vscode from 'vscode';
import { describeError, GlacierError, isSuspended, Suspend } from '../core/errors';
import type { Log } from './log';
import { jobLook, progressText, type JobInfo } from './viewModel';

export interface JobContext {
  signal: AbortSignal;
  /** Bytes done of total; drives percent, speed and time left. */
  report(done: number, total: number, phase?: string): void;
}

/** How a job runs: a background job (a scheduled backup) shows its progress in the status bar only, yields to any other job, and leaves its failures to its caller. */
export interface RunOptions {
  background?: boolean;
  /** Names the jobs of one kind (a folder's scheduled backups), for dismissFailed. */
  group?: string;
}

interface Job {
  info: JobInfo;
  options: RunOptions;
  controller: AbortController;
  started: number;
  lastReport: number;
  /** When the last phase before the transfer ended. */
  flowing?: number;
  lastPercent: number;
  progress?: vscode.Progress<{ message?: string; increment?: number }>;
}

export class JobQueue implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private readonly statusItem: vscode.StatusBarItem;
  private readonly jobs: Job[] = [];
  private tail: Promise<unknown> = Promise.resolve();
  private nextKey = 1;

  constructor(private readonly log: Log) {
    this.statusItem = vscode.window.createStatusBarItem('glacierBackup.job', vscode.StatusBarAlignment.Left, 50);
    this.statusItem.name = 'Glacier Backup job';
    this.statusItem.command = 'glacierBackup.showJobs';
  }

  dispose(): void {
    // The window is closing: a backup stops but keeps its upload, which the next backup of the
    // same files resumes.
    for (const j of this.jobs) j.controller.abort(new Suspend());
    this.statusItem.dispose();
    this.changed.dispose();
  }

  list(): JobInfo[] {
    return this.jobs.map((j) => ({ ...j.info }));
  }

  /**
   * Queues a job; resolves with its result, or undefined when it was cancelled or failed (already
   * shown to the user). A background job instead rejects with its failure (a suspend included:
   * it yielded) and shows none; a job asked for while a background job runs suspends that one.
   */
  run<T>(title: string, work: (ctx: JobContext) => Promise<T>, options: RunOptions = {}): Promise<T | undefined> {
    const job: Job = { info: { key: this.nextKey++, title, state: 'queued' }, options, controller: new AbortController(), started: 0, lastReport: 0, lastPercent: 0 };
    if (!options.background) {
      // Yield: the background backup stops and keeps its upload; its next run resumes it.
      for (const j of this.jobs) if (j.options.background && j.info.state === 'running') j.controller.abort(new Suspend());
    }
    this.jobs.push(job);
    this.update();
    const result = this.tail.then(() => this.execute(job, work));
    this.tail = result.catch(() => undefined);
    return result;
  }

  private async execute<T>(job: Job, work: (ctx: JobContext) => Promise<T>): Promise<T | undefined> {
    if (job.controller.signal.aborted) {
      this.remove(job);
      if (job.options.background) throw job.controller.signal.reason;
      return undefined;
    }
    job.info.state = 'running';
    job.started = Date.now();
    this.update();
    this.log.info(`${job.info.title}: started`);
    try {
      const location = job.options.background ? vscode.ProgressLocation.Window : vscode.ProgressLocation.Notification;
      const value = await vscode.window.withProgress(
        { location, title: `Glacier Backup: ${job.info.title}`, cancellable: !job.options.background },
        async (progress, token) => {
          job.progress = progress;
          token.onCancellationRequested(() => job.controller.abort());
          return work({ signal: job.controller.signal, report: (done, total, phase) => this.report(job, done, total, phase) });
        },
      );
      this.log.info(`${job.info.title}: done in ${((Date.now() - job.started) / 1000).toFixed(1)} s`);
      // An earlier failure of the same job is history now.
      for (const old of this.jobs.filter((j) => j.info.state === 'failed' && j.info.title === job.info.title)) this.remove(old);
      this.remove(job);
      return value;
    } catch (err) {
      const message = describeError(err);
      if (isSuspended(job.controller.signal)) {
        this.log.info(`${job.info.title}: ${message}`);
        if (!job.options.background) return undefined;
        this.remove(job);
        throw job.controller.signal.reason; // the Suspend: its caller tells a yield from a failure
      }
      if (job.controller.signal.aborted || (err instanceof GlacierError && err.code === 'cancelled')) {
        this.cancelled(job);
        return undefined;
      }
      this.log.error(`${job.info.title}: ${message}`);
      job.info.state = 'failed';
      job.info.error = message;
      this.update();
      if (job.options.background) throw err;
      void vscode.window.showErrorMessage(`Glacier Backup: ${message}`, 'Show Log').then((pick) => pick && this.log.show(true));
      return undefined;
    }
  }

  private report(job: Job, done: number, total: number, phase?: string): void {
    // Speed and time left count from when bytes start to flow, not from the scan before.
    if (phase) job.flowing = Date.now();
    // The engine reports per chunk; the status bar needs no more than a few updates a second.
    const now = Date.now();
    if (!phase && done < total && now - job.lastReport < 250) return;
    job.lastReport = now;
    const p = progressText(done, total, Date.now() - (job.flowing ?? job.started));
    // Before bytes flow (scanning, checking) the phase says more than "0%".
    job.info.percent = phase ? undefined : p.percent;
    job.info.detail = phase ? phase : p.text;
    if (job.progress) {
      job.progress.report({ message: job.info.detail, increment: Math.max(0, p.percent - job.lastPercent) });
      job.lastPercent = Math.max(job.lastPercent, p.percent);
    }
    this.update();
  }

  private cancelled(job: Job): void {
    this.log.info(`${job.info.title}: cancelled`);
    this.remove(job);
    void vscode.window.showInformationMessage(`Glacier Backup: ${job.info.title} cancelled; nothing was kept.`);
  }

  private remove(job: Job): void {
    const i = this.jobs.indexOf(job);
    if (i >= 0) this.jobs.splice(i, 1);
    this.update();
  }

  dismiss(key: number): void {
    const job = this.jobs.find((j) => j.info.key === key);
    if (job && job.info.state === 'failed') this.remove(job);
  }

  /** Removes the failed jobs of a group, once a later run of it succeeded. */
  dismissFailed(group: string): void {
    for (const j of [...this.jobs]) if (j.options.group === group && j.info.state === 'failed') this.remove(j);
  }

  /** Whether any job is queued or running (a failed one waiting to be dismissed does not count). */
  busy(): boolean {
    return this.jobs.some((j) => j.info.state === 'queued' || j.info.state === 'running');
  }

  cancel(key: number): void {
    const job = this.jobs.find((j) => j.info.key === key);
    if (!job) return;
    job.controller.abort();
    // A running job says so when it has stopped (execute); a queued one never started.
    if (job.info.state === 'queued') this.cancelled(job);
  }

  private update(): void {
    const running = this.jobs.find((j) => j.info.state === 'running');
    const queued = this.jobs.filter((j) => j.info.state === 'queued').length;
    if (running) {
      const look = jobLook(running.info);
      this.statusItem.text = `$(cloud-upload) ${running.info.title}: ${look.description || 'starting…'}${queued ? ` (+${queued} queued)` : ''}`;
      this.statusItem.tooltip = 'Glacier Backup: click for details or to cancel';
      this.statusItem.show();
    } else {
      this.statusItem.hide();
    }
    this.changed.fire();
  }

  /** The status bar's click: details of every job, and Cancel. */
  async showJobs(): Promise<void> {
    const items = this.jobs.map((j) => ({ label: `$(${jobLook(j.info).icon}) ${j.info.title}`, description: jobLook(j.info).description, key: j.info.key, state: j.info.state }));
    if (items.length === 0) {
      void vscode.window.showInformationMessage('Glacier Backup: no job is running.');
      return;
    }
    const pick = await vscode.window.showQuickPick(items, { title: 'Glacier Backup jobs', placeHolder: 'Pick a job to cancel it (nothing of it is kept), or dismiss a failed one' });
    if (!pick) return;
    if (pick.state === 'failed') this.dismiss(pick.key);
    else this.cancel(pick.key);
  }
}
