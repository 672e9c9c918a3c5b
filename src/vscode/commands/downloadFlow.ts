/** The Download & Decrypt… command: fetch, decrypt, verify and unpack a restored archive. */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { openManifest } from '../../core/jobs/manifest';
import { download } from '../../core/jobs/download';
import { restoreNotes, restoreNotesSummary } from '../../core/jobs/restoreNotes';
import { archivesToRestore, combinedState, planRestore } from '../../core/jobs/restoreRequest';
import { openWithPassphrase } from '../passphraseRetry';
import { plural } from '../when';
import { pickDestination } from './destination';
import { onlyText } from '../wantedRestores';
import type { Services } from './services';

/**
 * Download & Decrypt…: into a new folder, everything or the files the user chose in Restore….
 * The archives that restore read (all those of its chain, or the ones holding the chosen files)
 * must be readable. While one is still in Glacier the result is the id to restore, when the user
 * chose Request Restore… (retrieve.ts hands it to the restore flow).
 */
export async function downloadFlow(s: Services, id: string, paths?: string[]): Promise<string | undefined> {
  const recorded = s.wanted.get(id);
  const wanted = paths ?? recorded?.paths;
  const { store, settings } = await s.connection.connect();
  const plan = await planRestore(store, recorded?.archives ?? [id]);
  const state = combinedState(plan.archives.map((a) => a.state));
  if (state.state === 'archived' || state.state === 'restoring') {
    const which = plan.archives.length === 1 ? 'this archive is' : `an archive it reads (of ${plan.archives.length}) is`;
    const go = await vscode.window.showWarningMessage(
      `Glacier Backup: ${which} ${state.state} in ${plan.archives[0]!.storageClass}; it can be downloaded once a restore is ready.`,
      ...(state.state === 'archived' ? ['Request Restore…'] : []),
    );
    return go ? id : undefined;
  }
  const label = s.catalog.get(id)?.summary?.label ?? id;
  const dest = await pickDestination(`Download & decrypt ${label} into…`);
  if (!dest) return undefined;
  // The manifest opens first (small, and before any folder is made): a wrong passphrase is said
  // in words and another can be tried, rather than failing the download job.
  const opened = await openWithPassphrase(s.connection, settings, label, `Enter the passphrase of ${label}.`, (dec) => openManifest(store, id, dec));
  let only: string[] | undefined;
  if (wanted) {
    // All of it may read archives the restore of the chosen files did not bring back.
    const whole = await planRestore(store, await archivesToRestore(store, id, opened.dec));
    const missing = whole.archives.filter((a) => a.state.state === 'archived' || a.state.state === 'restoring').length;
    const what = await vscode.window.showQuickPick(
      [
        { label: onlyText(wanted, 'Only'), description: wanted.length === 1 ? wanted[0] : wanted.join(', '), only: wanted, restore: false },
        { label: `All of ${label}`, description: missing ? `needs ${plural(missing, 'more archive')} restored first: Request Restore…` : '', only: undefined, restore: missing > 0 },
      ],
      { title: `Download & decrypt ${label}: everything, or the files you chose?` },
    );
    if (!what) return undefined;
    if (what.restore) return id;
    only = what.only;
  }
  const result = await s.jobs.run(`Download ${label}`, (job) =>
    download({
      store,
      id,
      decryption: opened.dec,
      dest,
      ...(only ? { paths: only } : {}),
      signal: job.signal,
      onProgress: (p) => job.report(p.bytesDownloaded, p.bytesTotal),
      onResume: (offset) => s.log.info(`${id}: connection dropped; resuming at byte ${offset}`),
    }),
  );
  if (!result) return undefined;
  await s.poller.release(id);
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
