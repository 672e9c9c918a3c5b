/** At start-up: the offer to resume (or discard) backups whose upload was interrupted. */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { describeError } from '../../core/errors';
import { discardInterrupted, interruptedBackups } from '../../core/jobs/backup';
import { shortDate } from '../viewModel';
import { backupPaths } from './backupFlow';
import type { Services } from './services';

/**
 * At start-up: backups whose upload was interrupted (a window closed, VS Code quit) are offered
 * to be resumed from the parts already stored, or discarded (the upload aborted).
 */
export async function offerInterruptedBackups(s: Services): Promise<void> {
  let store;
  try {
    ({ store } = await s.connection.connect(false));
  } catch {
    return; // not set up, or the access key is not stored yet
  }
  for (const { journal, paths } of await interruptedBackups(s.stateDir, store)) {
    const label = paths.map((p) => path.basename(p)).join(', ');
    const pick = await vscode.window.showInformationMessage(
      `Glacier Backup: the backup of ${label} started ${shortDate(journal.started)} was interrupted. Resume it from the parts already uploaded?`,
      'Resume',
      'Discard',
    );
    s.log.info(`interrupted backup of ${label} (archive ${journal.id}): ${pick ?? 'no answer'}`);
    if (pick === 'Resume') {
      void backupPaths(s, paths, false).catch((err: unknown) => void vscode.window.showErrorMessage(`Glacier Backup: ${describeError(err)}`));
    } else if (pick === 'Discard') {
      await discardInterrupted(store, s.stateDir, journal);
      void vscode.window.showInformationMessage(`Glacier Backup: the interrupted upload of ${label} was discarded.`);
    }
  }
}

