/** The Download & Decrypt… command: fetch, decrypt, verify and unpack a restored archive. */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { openManifest } from '../../core/jobs/manifest';
import { download } from '../../core/jobs/download';
import { restoreNotes, restoreNotesSummary } from '../../core/jobs/restoreNotes';
import { archiveStatus } from '../../core/jobs/restoreRequest';
import { openWithPassphrase } from '../passphraseRetry';
import { plural } from '../when';
import { pickDestination } from './destination';
import type { Services } from './services';

/**
 * Download & Decrypt…: into a new folder, everything or the file the user looked for in Restore….
 * An archive still in Glacier cannot be read: the result is then the id to restore, when the user
 * chose Request Restore… (retrieve.ts hands it to the restore flow).
 */
export async function downloadFlow(s: Services, id: string, file?: string): Promise<string | undefined> {
  const wanted = file ?? s.wantedFiles.get(id);
  const { store, settings } = await s.connection.connect();
  const status = await archiveStatus(store, id);
  if (status.glacier.state === 'archived' || status.glacier.state === 'restoring') {
    const go = await vscode.window.showWarningMessage(
      `Glacier Backup: this archive is ${status.glacier.state} in ${status.storageClass}; it can be downloaded once a restore is ready.`,
      ...(status.glacier.state === 'archived' ? ['Request Restore…'] : []),
    );
    return go ? id : undefined;
  }
  const label = s.catalog.get(id)?.summary?.label ?? id;
  const dest = await pickDestination(`Download & decrypt ${label} into…`);
  if (!dest) return undefined;
  let only: string[] | undefined;
  if (wanted) {
    const what = await vscode.window.showQuickPick(
      [
        { label: `Only ${path.posix.basename(wanted)}`, description: wanted, only: [wanted] },
        { label: `All of ${label}`, description: '', only: undefined },
      ],
      { title: `Download & decrypt ${label}: everything, or the file you looked for?` },
    );
    if (!what) return undefined;
    only = what.only;
  }
  // The manifest opens first (small, and before any folder is made): a wrong passphrase is said
  // in words and another can be tried, rather than failing the download job.
  const opened = await openWithPassphrase(s.connection, settings, label, `Enter the passphrase of ${label}.`, (dec) => openManifest(store, id, dec));
  const result = await s.jobs.run(`Download ${label}`, (job) =>
    download({
      store,
      id,
      decryption: opened.dec,
      dest,
      ...(only ? { only } : {}),
      signal: job.signal,
      onProgress: (p) => job.report(p.bytesDownloaded, p.bytesTotal),
      onResume: (offset) => s.log.info(`${id}: connection dropped; resuming at byte ${offset}`),
    }),
  );
  if (!result) return undefined;
  await s.poller.remove(id);
  await s.wantedFiles.forget(id);
  s.log.info(`restored ${id} into ${result.path}`);
  for (const line of restoreNotes(result.entries)) s.log.warn(line);
  const uri = vscode.Uri.file(result.path);
  const inside = vscode.workspace.getWorkspaceFolder(uri);
  if (inside) await vscode.commands.executeCommand('revealInExplorer', uri);
  const pick = await vscode.window.showInformationMessage(
    `Glacier Backup: restored ${only ? `${result.entries.filter((e) => e.type === 'file').length} of ${plural(result.manifest.fileCount, 'file')}` : plural(result.manifest.fileCount, 'file')} of ${label} into ${path.basename(result.path)}; every file's checksum matched${restoreNotesSummary(result.entries, 'the log')}.`,
    ...(inside ? [] : ['Open Folder']),
  );
  if (pick === 'Open Folder') await vscode.commands.executeCommand('vscode.openFolder', uri, { forceNewWindow: true });
  return undefined;
}
