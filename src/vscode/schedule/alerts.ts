/**
 * What a scheduled backup says when no one is watching: nothing while it works; one notification
 * with the fix when it cannot run (a missing secret), shown by the window that found it, once
 * (scheduleState.ts blockRun says when it is news); a notification with Retry, Show Log and the
 * fix for a known cause after each failure; one line when it works again. None is modal.
 */
import * as vscode from 'vscode';
import type { Log } from '../log';
import { fixFor, type Blocked } from './unattended';

export class ScheduleAlerts {
  constructor(private readonly log: Log) {}

  blocked(folder: string, b: Blocked): void {
    this.log.warn(`schedule: the backup of ${folder} ${b.reason}; it waits until that is fixed`);
    void vscode.window.showWarningMessage(`Glacier Backup: the scheduled backup of ${folder} ${b.reason}. It runs once that is fixed; nothing is asked in the meantime.`, b.fix.title).then((pick) => {
      if (pick) void vscode.commands.executeCommand(b.fix.command);
    });
  }

  failed(folder: string, message: string, credentials: string, retry: () => Promise<void>): void {
    const fix = fixFor(message, credentials);
    const actions = ['Retry', 'Show Log', ...(fix ? [fix.title] : [])];
    void vscode.window.showErrorMessage(`Glacier Backup: the scheduled backup of ${folder} failed: ${message}`, ...actions).then((pick) => {
      if (pick === 'Retry') void retry();
      else if (pick === 'Show Log') this.log.show(true);
      else if (pick && fix) void vscode.commands.executeCommand(fix.command);
    });
  }

  succeeded(folder: string, wasFailing: boolean): void {
    if (wasFailing) void vscode.window.showInformationMessage(`Glacier Backup: the scheduled backup of ${folder} works again.`);
  }
}
