/**
 * The schedule's commands: the freshness item's click (the Archives view, or the schedule's
 * states when something needs attention), Schedule Status (each folder: when, last result, and
 * what fixes it) and Set Schedule… (writes `glacierBackup.schedule` for one workspace folder).
 */
import * as vscode from 'vscode';
import { dueAt, frequencies, type Frequency } from '../../core/model/scheduleTiming';
import type { Services } from '../commands/services';
import { section } from '../settings';
import type { FreshnessItem } from './freshnessItem';
import type { Scheduler } from './scheduler';
import { fixFor } from './unattended';

export function registerScheduleCommands(subscriptions: vscode.Disposable[], s: Services, scheduler: Scheduler, item: FreshnessItem): void {
  subscriptions.push(
    vscode.commands.registerCommand('glacierBackup.freshnessClicked', async () => {
      const click = item.look?.click;
      if (click?.kind === 'status') return scheduleStatus(s, scheduler);
      await vscode.commands.executeCommand('glacierBackup.archives.focus');
      if (click?.id) await s.revealArchive(click.id);
    }),
    vscode.commands.registerCommand('glacierBackup.scheduleStatus', () => scheduleStatus(s, scheduler)),
    vscode.commands.registerCommand('glacierBackup.setSchedule', () => setSchedule(scheduler)),
  );
}

interface Action extends vscode.QuickPickItem {
  run: () => unknown;
}

async function scheduleStatus(s: Services, scheduler: Scheduler): Promise<void> {
  await scheduler.refresh();
  const items: (Action | vscode.QuickPickItem)[] = [];
  for (const f of scheduler.folders) {
    const r = f.run;
    const next = f.timing ? new Date(Math.max(Date.now(), dueAt(r, f.timing))).toLocaleString() : undefined;
    items.push({ label: f.folder.name, kind: vscode.QuickPickItemKind.Separator });
    const state = r.blocked
      ? `$(key) ${r.blocked.reason}`
      : r.lastFailure && r.failures
        ? `$(error) failed ${r.failures}× (last ${new Date(r.lastFailure.time).toLocaleString()}): ${r.lastFailure.message}`
        : r.lastSuccess
          ? `$(check) last run ${new Date(r.lastSuccess.time).toLocaleString()}: ${r.lastSuccess.created ? `archive ${r.lastSuccess.id}` : `unchanged since ${r.lastSuccess.id}`}`
          : '$(circle-outline) not run yet';
    items.push({ label: state, description: f.frequency === 'off' ? 'no schedule' : `${f.frequency}; next ${next}`, run: () => undefined } as Action);
    const key = f.folder.uri.fsPath;
    if (f.frequency !== 'off') items.push({ label: '$(play) Back Up Now', run: () => scheduler.retry(key) } as Action);
    if (r.blocked) {
      const cmd = /passphrase/.test(r.blocked.reason) ? 'glacierBackup.setPassphrase' : /AWS/.test(r.blocked.reason) ? 'glacierBackup.setAwsCredentials' : 'glacierBackup.setUp';
      items.push({ label: '$(tools) Fix It…', run: () => vscode.commands.executeCommand(cmd) } as Action);
    }
    if (r.lastFailure && r.failures) {
      const fix = fixFor(r.lastFailure.message, s.connection.settings().credentials);
      if (fix) items.push({ label: `$(tools) ${fix.title}`, run: () => vscode.commands.executeCommand(fix.command) } as Action);
      items.push({ label: '$(output) Show Log', run: () => s.log.show(true) } as Action);
    }
    items.push({ label: '$(watch) Change Schedule…', run: () => setSchedule(scheduler, f.folder) } as Action);
  }
  if (items.length === 0) {
    void vscode.window.showInformationMessage('Glacier Backup: open a folder to schedule its backups.');
    return;
  }
  const pick = (await vscode.window.showQuickPick(items, { title: 'Glacier Backup: scheduled backups' })) as Action | undefined;
  await pick?.run();
}

async function setSchedule(scheduler: Scheduler, folder?: vscode.WorkspaceFolder): Promise<void> {
  const target = folder ?? (await vscode.window.showWorkspaceFolderPick({ placeHolder: 'Schedule the backups of which folder?' }));
  if (!target) return;
  const labels: Record<Frequency, string> = { off: 'Off', hourly: 'Hourly', daily: 'Daily', weekly: 'Weekly' };
  const pick = await vscode.window.showQuickPick(
    frequencies.map((f) => ({ label: labels[f], frequency: f })),
    { title: `Back up ${target.name}…`, placeHolder: 'While VS Code is open; a missed run happens once when it is next open' },
  );
  if (!pick) return;
  await vscode.workspace.getConfiguration(section, target.uri).update('schedule', pick.frequency, vscode.ConfigurationTarget.WorkspaceFolder);
  await scheduler.refresh();
}
