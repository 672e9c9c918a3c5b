/** The Back up to Glacier and Back up Workspace Folder… commands: the backup job in the job queue. */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { backup, describeSummary } from '../../core/jobs/backup';
import { formatBytes } from '../../core/model/format';
import { contextKey, setContext } from '../contextKeys';
import { section } from '../settings';
import { className, dollars, monthlyCost, prices } from '../viewModel';
import { plural, relativeTime } from '../when';
import type { Services } from './services';
import { ensureSetUp } from './setUpFlow';

/** Back up to Glacier: the files and folders selected in the Explorer, or picked in a dialog. */
export async function backupSelection(s: Services, uri?: vscode.Uri, uris?: vscode.Uri[]): Promise<void> {
  if (!(await ensureSetUp(s))) return;
  const selected = (uris?.length ? uris : uri ? [uri] : []).filter((u) => u.scheme === 'file');
  if (selected.length === 0) {
    const picked = await vscode.window.showOpenDialog({ canSelectFiles: true, canSelectFolders: true, canSelectMany: true, title: 'Back up to Glacier' });
    if (!picked?.length) return;
    selected.push(...picked);
  }
  await backupPaths(s, selected.map((u) => u.fsPath), false);
}

/** Back up Workspace Folder…: each chosen folder becomes its own archive. */
export async function backupWorkspaceFolders(s: Services): Promise<void> {
  const folders = vscode.workspace.workspaceFolders ?? [];
  if (folders.length === 0) {
    void vscode.window.showInformationMessage('Glacier Backup: open a folder first, or right-click files in the Explorer.');
    return;
  }
  if (!(await ensureSetUp(s))) return;
  let chosen = folders;
  if (folders.length > 1) {
    const picks = await vscode.window.showQuickPick(
      folders.map((f) => ({ label: f.name, description: f.uri.fsPath, folder: f })),
      { title: 'Back up workspace folders', canPickMany: true, placeHolder: 'Each folder becomes its own archive' },
    );
    if (!picks?.length) return;
    chosen = picks.map((p) => p.folder);
  }
  // Ask for the passphrase (or load the keys) once, before the jobs queue up.
  await s.connection.encryption(s.connection.settings());
  await Promise.all(chosen.map((f) => backupPaths(s, [f.uri.fsPath], false)));
}

/** Backs up `paths` as one archive in the job queue; `force` uploads even when nothing changed. */
export async function backupPaths(s: Services, paths: string[], force: boolean): Promise<void> {
  const { store, settings } = await s.connection.connect();
  const encryption = await s.connection.encryption(settings);
  const dec = encryption.mode === 'passphrase' ? { passphrase: encryption.passphrase } : (await s.connection.decryption(settings, false, ''))?.dec;
  const label = paths.map((p) => path.basename(p)).join(', ');
  const result = await s.jobs.run(`Back up ${label}`, (job) =>
    backup({
      store,
      paths,
      encryption,
      ...(dec ? { decryption: dec } : {}),
      force,
      exclude: settings.exclude,
      followSymlinks: settings.followSymlinks,
      concurrency: settings.uploadConcurrency,
      compression: settings.compression,
      chainPolicy: { fullEvery: settings.fullEvery, fullAfterDays: settings.fullAfterDays },
      stateDir: s.stateDir,
      freshnessMarker: vscode.workspace.getConfiguration(section).get<boolean>('freshnessMarker', true),
      signal: job.signal,
      onProgress: (p) => job.report(p.bytesRead, p.bytesTotal, p.phase === 'uploading' ? undefined : `${p.phase}…`),
      onNotice: (m) => s.log.info(`${label}: ${m}`),
      onResume: (e) =>
        void vscode.window.showInformationMessage(
          e.kind === 'resumed'
            ? `Glacier Backup: resumed the interrupted upload of ${label} at part ${e.part} of about ${e.parts} (${formatBytes(e.storedBytes)} were already stored).`
            : `Glacier Backup: the interrupted upload of ${label} was abandoned (${e.reason}); uploading anew.`,
        ),
      confirm: (scan) => confirmLargeUpload(scan, store.archiveClass, settings.confirmLargeUploads, settings.largeUploadThresholdMB),
    }),
  );
  if (!result) return;
  setContext(contextKey.backedUp, true);
  for (const k of result.skipped) s.log.warn(`${label}: skipped (${k.reason}: ${k.detail}): ${k.path}`);
  await s.catalog.refresh();
  if (result.status === 'unchanged') {
    const last = s.catalog.get(result.id);
    const lastWhen = last?.summary?.created ?? last?.lastModified?.toISOString();
    const since = lastWhen ? `its last backup (${relativeTime(new Date(lastWhen))})` : 'its last backup';
    const pick = await vscode.window.showInformationMessage(`Glacier Backup: ${label} is unchanged since ${since}; nothing was uploaded.`, 'Show in Archives', 'Back Up Anyway');
    if (pick === 'Show in Archives') await s.revealArchive(result.id);
    if (pick === 'Back Up Anyway') await backupPaths(s, paths, true);
    return;
  }
  const m = result.manifest!;
  const skipped = result.skipped.length ? ` ${plural(result.skipped.length, 'entry was', 'entries were')} skipped (see the log).` : '';
  const what = result.summary ? ` ${upperFirst(describeSummary(result.summary))}.` : '';
  if (result.summary?.fullReason) s.log.info(`${label}: a full backup: ${result.summary.fullReason}`);
  // In the user's terms; the archive id is one click away (and in the tree's tooltip).
  s.log.info(`${label}: archive ${m.id}, ${formatBytes(m.archive.size)} in ${m.archive.storageClass}`);
  const pick = await vscode.window.showInformationMessage(
    `Glacier Backup: backed up ${m.label}: ${plural(m.fileCount, 'file')}, ${formatBytes(m.fileBytes)}, stored in ${className(m.archive.storageClass)}.${what}${skipped}`,
    'Show in Archives',
    'Copy Archive Id',
  );
  if (pick === 'Show in Archives') await s.revealArchive(m.id);
  if (pick === 'Copy Archive Id') await vscode.commands.executeCommand('glacierBackup.copyArchiveId', m.id);
}

/** Above the size threshold (if enabled): a modal that states the monthly cost and the class's minimum billing. */
async function confirmLargeUpload(scan: { files: number; bytes: number }, storageClass: string, enabled: boolean, thresholdMB: number): Promise<boolean> {
  if (!enabled || scan.bytes < thresholdMB * 1024 * 1024) return true;
  const minimum = prices.minimumDays[storageClass];
  const monthly = monthlyCost(scan.bytes, storageClass);
  const minNote = minimum ? ` ${className(storageClass)} bills at least ${minimum} days (about ${dollars((monthly / 30) * minimum)}) even if deleted sooner.` : '';
  const pick = await vscode.window.showWarningMessage(
    `Upload ${formatBytes(scan.bytes)} (${plural(scan.files, 'file')}) to ${className(storageClass)}?`,
    { modal: true, detail: `Storage costs about ${dollars(monthly)} per month.${minNote}` },
    'Back Up',
    "Back Up, Don't Ask Again",
  );
  if (pick === "Back Up, Don't Ask Again") {
    await vscode.workspace.getConfiguration(section).update('confirmLargeUploads', false, vscode.ConfigurationTarget.Global);
  }
  return pick !== undefined;
}

const upperFirst = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1);
