/**
 * The freshness status bar item: "Last backup 3 h ago", in the warning colour once the stalest
 * folder is older than its schedule allows; a missing secret or a failed scheduled backup in its
 * place until fixed. What it says comes from freshnessLook.ts; this file only shows it and
 * refreshes it (when the catalog or the scheduler changes, and each minute, as ages grow).
 */
import * as os from 'node:os';
import * as vscode from 'vscode';
import { staleAfter } from '../../core/model/scheduleTiming';
import type { ArchiveCatalog } from '../archiveCatalog';
import { freshnessLook, type FreshnessLook } from './freshnessLook';
import type { Scheduler } from './scheduler';

export class FreshnessItem implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private readonly subscriptions: vscode.Disposable[] = [];
  private timer: NodeJS.Timeout;
  look?: FreshnessLook;

  constructor(
    private readonly catalog: ArchiveCatalog,
    private readonly scheduler: Scheduler,
  ) {
    this.item = vscode.window.createStatusBarItem('glacierBackup.freshness', vscode.StatusBarAlignment.Left, 49);
    this.item.name = 'Glacier Backup freshness';
    this.item.command = 'glacierBackup.freshnessClicked';
    this.subscriptions.push(catalog.onDidChange(() => this.update()), scheduler.onDidChange(() => this.update()));
    this.timer = setInterval(() => this.update(), 60_000);
    this.update();
  }

  dispose(): void {
    clearInterval(this.timer);
    for (const s of this.subscriptions) s.dispose();
    this.item.dispose();
  }

  update(): void {
    const folders = this.scheduler.folders.map((f) => ({
      name: f.folder.name,
      path: f.folder.uri.fsPath,
      frequency: f.frequency,
      ...(f.timing ? { staleAfterMs: staleAfter(f.timing) } : {}),
      run: f.run,
    }));
    const archives = this.catalog.archives.map((a) => ({ id: a.id, ...(a.size !== undefined ? { size: a.size } : {}), ...(a.summary ? { created: a.summary.created, host: a.summary.host, sources: a.summary.sources } : {}) }));
    this.look = freshnessLook(folders, archives, os.hostname(), Date.now());
    if (!this.look || this.catalog.status.kind === 'not-configured') {
      this.item.hide();
      return;
    }
    this.item.text = this.look.text;
    const tooltip = new vscode.MarkdownString(this.look.tooltip.join('\n'));
    tooltip.isTrusted = false;
    this.item.tooltip = tooltip;
    this.item.backgroundColor =
      this.look.level === 'error' ? new vscode.ThemeColor('statusBarItem.errorBackground') : this.look.level === 'warning' ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    this.item.show();
  }
}
