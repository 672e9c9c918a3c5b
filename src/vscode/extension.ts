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
import { WantedRestores } from './wantedRestores';
import { Connection } from './connection';
import { updateSettingsContext } from './contextKeys';
import { JobQueue } from './jobQueue';
import { createLog } from './log';
import { ReportDocuments } from './reportDocuments';
import { RestorePoller } from './restorePoller';
import { ScheduleAlerts } from './schedule/alerts';
import { FreshnessItem } from './schedule/freshnessItem';
import { afterScheduledBackup } from './schedule/retentionRun';
import { registerScheduleCommands } from './schedule/scheduleCommands';
import { Scheduler } from './schedule/scheduler';
import { Secrets } from './secrets';
import { section } from './settings';
import { VersionCopies, versionScheme } from './versionCopies';

export function activate(context: vscode.ExtensionContext): void {
  const log = createLog(context.logUri.fsPath);
  const secrets = new Secrets(context.secrets, log);
  const connection = new Connection(secrets, log);
  const catalog = new ArchiveCatalog(connection, path.join(context.globalStorageUri.fsPath, 'catalog'), log);
  const jobs = new JobQueue(log);
  const wanted = new WantedRestores(context.globalState);
  const poller = new RestorePoller(context.globalState, connection, catalog, log, wanted);
  const view = new ArchivesView(catalog, jobs);
  const treeView = vscode.window.createTreeView('glacierBackup.archives', { treeDataProvider: view, showCollapseAll: true });
  const reports = new ReportDocuments();
  context.subscriptions.push(log, catalog, jobs, poller, view, treeView, reports);

  const setFilter = async (text: string): Promise<void> => {
    view.setFilter(text);
    treeView.description = view.filterText ? `filter: ${view.filterText}` : undefined;
    await vscode.commands.executeCommand('setContext', 'glacierBackup.filtered', view.filterText !== '');
  };

  const versions = new VersionCopies(path.join(context.globalStorageUri.fsPath, 'versions'));
  void versions.clear().catch((err: unknown) => log.warn(`downloaded versions: ${describeError(err)}`));
  context.subscriptions.push(vscode.workspace.registerTextDocumentContentProvider(versionScheme, versions));

  const services: Services = {
    connection,
    catalog,
    jobs,
    poller,
    log,
    stateDir: path.join(context.globalStorageUri.fsPath, 'state'),
    wanted,
    reports,
    versions,
    revealArchive: async (id) => {
      // The view may never have been shown (and so never listed) in this window, or filter it out.
      if (!view.archiveNode(id) && view.filterText) await setFilter('');
      if (!view.archiveNode(id)) {
        await vscode.commands.executeCommand('glacierBackup.archives.focus');
        await catalog.refresh();
      }
      const node = view.archiveNode(id);
      if (node) await treeView.reveal(node, { select: true, focus: true });
    },
  };
  registerCommands(context.subscriptions, services);
  context.subscriptions.push(
    vscode.commands.registerCommand('glacierBackup.filterArchives', async () => {
      const text = await vscode.window.showInputBox({ title: 'Glacier Backup: filter archives', prompt: 'Words of a label, source folder, host, id or state ("restored"); empty shows all', value: view.filterText });
      if (text !== undefined) await setFilter(text);
    }),
    vscode.commands.registerCommand('glacierBackup.clearFilter', () => setFilter('')),
  );
  const scheduler = new Scheduler(services, new ScheduleAlerts(log), afterScheduledBackup(services, context.globalState));
  const freshness = new FreshnessItem(catalog, scheduler);
  context.subscriptions.push(scheduler, freshness);
  registerScheduleCommands(context.subscriptions, services, scheduler, freshness);

  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (!e.affectsConfiguration(section)) return;
      connection.reset();
      void updateSettingsContext(connection);
      poller.start();
      void catalog.refresh();
      void scheduler.tick();
    }),
    context.secrets.onDidChange(() => {
      connection.reset();
      void updateSettingsContext(connection);
      void scheduler.tick();
    }),
    vscode.workspace.onDidChangeWorkspaceFolders(() => void scheduler.refresh()),
  );
  void updateSettingsContext(connection);

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
