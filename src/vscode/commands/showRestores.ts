/** The restores status item's click: the archive being restored (or picked among several), revealed in the Archives view. */
import * as vscode from 'vscode';
import { stateShort } from '../viewModel';
import type { Services } from './services';

export async function showRestores(s: Services, id?: string): Promise<void> {
  if (s.catalog.archives.length === 0) await s.catalog.refresh();
  const pending = (await s.poller.pending()).map((p) => p.id);
  let target = id ?? (pending.length === 1 ? pending[0] : undefined);
  if (!target && pending.length > 1) {
    const picks = pending.map((pid) => {
      const a = s.catalog.get(pid);
      return { label: a?.summary?.label ?? pid, description: a ? stateShort(a) : '', id: pid };
    });
    target = (await vscode.window.showQuickPick(picks, { title: 'Glacier Backup: restores', placeHolder: 'Show which archive in the Archives view?' }))?.id;
  }
  if (target) await s.revealArchive(target);
  else await vscode.commands.executeCommand('glacierBackup.archives.focus');
}
