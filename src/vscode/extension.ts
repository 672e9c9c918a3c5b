/**
 * Glacier Backup for VS Code: wires the engine (src/core) to the Explorer, the Archives view, the
 * status bar and SecretStorage. Everything here is thin; the work happens in the engine's jobs.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { describeError } from '../core/errors';
import { ArchivesView } from './archivesView';
import { ArchiveCatalog } from './archiveCatalog';
import { offerInterruptedBackups } from './commands/interruptedBackups';
import { registerCommands } from './commands/register';
import type { Services } from './commands/services';
import { WantedFiles } from './commands/wantedFiles';
import { Connection } from './connection';
import { JobQueue } from './jobQueue';
import { createLog } from './log';
import { RestorePoller } from './restorePoller';
import { ScheduleAlerts } from './schedule/alerts';
import { FreshnessItem } from './schedule/freshnessItem';
import { afterScheduledBackup } from './schedule/retentionRun';
import { registerScheduleCommands } from './schedule/scheduleCommands';
import { Scheduler } from './schedule/scheduler';
import { Secrets } from './secrets';
import { section } from './settings';

export function activate(context: vscode.ExtensionContext): void {
  const log = createLog();
  const secrets = new Secrets(context.secrets, log);
  const connection = new Connection(secrets, log);
  const catalog = new ArchiveCatalog(connection, path.join(context.globalStorageUri.fsPath, 'catalog'), log);
  const jobs = new JobQueue(log);
  const poller = new RestorePoller(context.globalState, connection, catalog, log);
  const view = new ArchivesView(catalog, jobs);
  const treeView = vscode.window.createTreeView('glacierBackup.archives', { treeDataProvider: view, showCollapseAll: true });
  context.subscriptions.push(log, catalog, jobs, poller, view, treeView);

  const services: Services = {
    connection,
    catalog,
    jobs,
    poller,
    log,
    stateDir: path.join(context.globalStorageUri.fsPath, 'state'),
    wantedFiles: new WantedFiles(context.globalState),
    revealArchive: async (id) => {
      const node = view.archiveNode(id);
      if (node) await treeView.reveal(node, { select: true, focus: true });
    },
  };
  registerCommands(context.subscriptions, services);
  const scheduler = new Scheduler(services, new ScheduleAlerts(log), afterScheduledBackup(services, context.globalState));
  const freshness = new FreshnessItem(catalog, scheduler);
  context.subscriptions.push(scheduler, freshness);
  registerScheduleCommands(context.subscriptions, services, scheduler, freshness);

  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (!e.affectsConfiguration(section)) return;
      connection.reset();
      poller.start();
      void catalog.refresh();
      void scheduler.tick();
    }),
    context.secrets.onDidChange(() => {
      connection.reset();
      void scheduler.tick();
    }),
    vscode.workspace.onDidChangeWorkspaceFolders(() => void scheduler.refresh()),
  );

  // The catalog is listed when the view is first shown (not at start-up); pending restores are
  // watched from activation on, so they survive reloads without the view being open.
  let listed = false;
  const listOnce = (): void => {
    if (listed || !treeView.visible) return;
    listed = true;
    void catalog.refresh();
  };
  context.subscriptions.push(treeView.onDidChangeVisibility(listOnce));
  listOnce();
  log.info(`Glacier Backup ${context.extension.packageJSON.version as string} activated`);
  poller.start();
  scheduler.start();
  // The freshness item needs the catalog: listed once at start-up when a folder has a schedule.
  void scheduler.refresh().then(() => {
    if (scheduler.folders.some((f) => f.frequency !== 'off') && catalog.status.kind === 'idle') void catalog.refresh();
  });
  // A little after start-up, once the window that was closed or reloaded has surely let go.
  const offer = setTimeout(() => {
    void offerInterruptedBackups(services).catch((err: unknown) => log.warn(`interrupted backups: ${describeError(err)}`));
  }, 5000);
  context.subscriptions.push({ dispose: () => clearTimeout(offer) });
}

export function deactivate(): void {
  // Disposables registered on the context stop the timers and cancel running jobs.
}
