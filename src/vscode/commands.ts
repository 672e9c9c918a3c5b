/** The extension's commands: thin glue between VS Code's UI and the engine's jobs. */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { keys } from '../core/config';
import { describeError, GlacierError } from '../core/errors';
import { backup, discardInterrupted } from '../core/jobs/backup';
import { deleteArchive, keepsOldVersions } from '../core/jobs/delete';
import { interruptedUploads } from '../core/catalog/uploadJournal';
import { storeSettings } from './settings';
import { download } from '../core/jobs/download';
import { verifyArchive } from '../core/jobs/verify';
import { addAbortRule, checkBucket } from '../core/store/bucketCheck';
import { bucketReportMarkdown } from '../core/store/bucketReport';
import { archiveStatus, requestRestore, restoreTiers, type RestoreTier } from '../core/store/restore';
import { formatBytes } from '../core/store/upload';
import type { ManifestEntry } from '../core/pack/tarWriter';
import type { Node } from './archivesView';
import type { Catalog } from './catalog';
import { checkArchivesFlow } from './checkArchives';
import type { Connection } from './connection';
import type { JobQueue } from './jobs';
import type { Log } from './log';
import { dollars, earlyDeletionFee, monthlyCost, prices, restoreTimes, retrievalCost, searchFiles, shortDate, stateText, type ArchiveInfo } from './model';
import type { RestorePoller } from './restorePoller';
import { section } from './settings';

export interface Services {
  context: vscode.ExtensionContext;
  connection: Connection;
  catalog: Catalog;
  jobs: JobQueue;
  poller: RestorePoller;
  log: Log;
  revealArchive(id: string): Promise<void>;
}

/** Runs a command body; a cancelled prompt ends quietly, any other error is one line to the user. */
function guarded<A extends unknown[]>(log: Log, body: (...args: A) => Promise<unknown>): (...args: A) => Promise<void> {
  return async (...args) => {
    try {
      await body(...args);
    } catch (err) {
      if (err instanceof GlacierError && err.code === 'cancelled') return;
      const message = describeError(err);
      log.error(message);
      void vscode.window.showErrorMessage(`Glacier Backup: ${message}`);
    }
  };
}

/** An archive id from a command argument: a tree node, an id, or nothing (then the user picks). */
function idOf(arg: unknown): string | undefined {
  if (typeof arg === 'string') return arg;
  const node = arg as Node | undefined;
  return node?.type === 'archive' ? node.info.id : undefined;
}

export function registerCommands(s: Services): void {
  const { context, log } = s;
  const register = (name: string, body: (...args: never[]) => Promise<unknown>): void => {
    context.subscriptions.push(vscode.commands.registerCommand(`glacierBackup.${name}`, guarded(log, body as (...args: unknown[]) => Promise<unknown>)));
  };

  register('backup', async (uri?: vscode.Uri, uris?: vscode.Uri[]) => {
    const selected = (uris?.length ? uris : uri ? [uri] : []).filter((u) => u.scheme === 'file');
    if (selected.length === 0) {
      const picked = await vscode.window.showOpenDialog({ canSelectFiles: true, canSelectFolders: true, canSelectMany: true, title: 'Back up to Glacier' });
      if (!picked?.length) return;
      selected.push(...picked);
    }
    await backupPaths(s, selected.map((u) => u.fsPath), false);
  });

  register('backupWorkspaceFolder', async () => {
    const folders = vscode.workspace.workspaceFolders ?? [];
    if (folders.length === 0) {
      void vscode.window.showInformationMessage('Glacier Backup: open a folder first, or right-click files in the Explorer.');
      return;
    }
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
  });

  register('refresh', () => s.catalog.refresh());
  register('restore', async (arg?: unknown) => restoreFlow(s, idOf(arg)));
  register('requestRestore', async (arg?: unknown) => restoreFlow(s, idOf(arg)));
  register('download', async (arg?: unknown) => downloadFlow(s, idOf(arg) ?? (await pickArchive(s, 'Download & decrypt which archive?', (a) => a.state?.state === 'restored' || a.state?.state === 'available'))));
  register('copyS3Uri', async (arg?: unknown) => {
    const id = idOf(arg) ?? (await pickArchive(s, 'Copy the S3 URI of which archive?'));
    if (!id) return;
    const uri = `s3://${s.catalog.bucket}/${keys.archive(s.catalog.prefix, id)}`;
    await vscode.env.clipboard.writeText(uri);
    void vscode.window.setStatusBarMessage(`Copied ${uri}`, 4000);
  });
  register('showManifest', async (arg?: unknown) => {
    const id = idOf(arg) ?? (await pickArchive(s, 'Show the manifest of which archive?'));
    if (!id) return;
    const m = await s.catalog.manifest(id);
    const cap = 5000;
    const shown = m.entries.length > cap ? { ...m, entries: m.entries.slice(0, cap), note: `first ${cap} of ${m.entries.length} entries` } : m;
    const doc = await vscode.workspace.openTextDocument({ language: 'json', content: JSON.stringify(shown, null, 2) });
    await vscode.window.showTextDocument(doc, { preview: true });
  });
  register('delete', async (arg?: unknown) => deleteFlow(s, idOf(arg) ?? (await pickArchive(s, 'Delete which archive?'))));
  register('checkBucket', () => checkBucketFlow(s));
  register('checkArchives', () => checkArchivesFlow(s, stateDir(s)));
  register('verify', async (arg?: unknown) => verifyFlow(s, idOf(arg) ?? (await pickArchive(s, 'Verify which archive?', (a) => a.state?.state === 'restored' || a.state?.state === 'available'))));
  register('setUp', () => setUpFlow(s));
  register('unlock', async () => {
    const settings = s.connection.settings();
    const opened = await s.connection.decryption(settings, true, 'Enter the passphrase your archives were encrypted with.');
    if (opened?.fresh) await s.connection.secrets.rememberPassphrase(opened.fresh);
    await s.catalog.refresh();
  });
  register('setPassphrase', async () => {
    await s.connection.secrets.setPassphrase();
    void vscode.window.showInformationMessage('Glacier Backup: passphrase saved in SecretStorage. New archives use it; older ones still need the passphrase they were made with.');
    await s.catalog.refresh();
  });
  register('forgetPassphrase', async () => {
    await s.connection.secrets.forget('passphrase');
    void vscode.window.showInformationMessage('Glacier Backup: passphrase forgotten; you will be asked for it when needed.');
  });
  register('setAwsCredentials', async () => {
    await s.connection.secrets.setAwsCredentials();
    if (s.connection.settings().credentials !== 'secretStorage') {
      await vscode.workspace.getConfiguration(section).update('credentials', 'secretStorage', vscode.ConfigurationTarget.Global);
    }
    s.connection.reset();
    await s.catalog.refresh();
  });
  register('forgetAwsCredentials', async () => {
    await s.connection.secrets.forget('aws');
    s.connection.reset();
    void vscode.window.showInformationMessage('Glacier Backup: AWS access key forgotten.');
  });
  register('setPrivateKey', async () => {
    await s.connection.secrets.importPrivateKey();
    await s.connection.secrets.privateKeyDecryption(true);
    void vscode.window.showInformationMessage('Glacier Backup: private key saved in SecretStorage; you can now move the key file offline.');
    await s.catalog.refresh();
  });
  register('forgetPrivateKey', async () => {
    await s.connection.secrets.forget('privateKey');
    void vscode.window.showInformationMessage('Glacier Backup: private key forgotten.');
  });
  register('showJobs', () => s.jobs.showJobs());
  register('cancelJob', async (node?: Node) => {
    if (node?.type === 'job') s.jobs.cancel(node.job.key);
  });
  register('dismissJob', async (node?: Node) => {
    if (node?.type === 'job') s.jobs.dismiss(node.job.key);
  });
  register('showLog', async () => log.show(true));
}

async function backupPaths(s: Services, paths: string[], force: boolean): Promise<void> {
  const { client, store, settings } = await s.connection.connect();
  const encryption = await s.connection.encryption(settings);
  const dec = encryption.mode === 'passphrase' ? { passphrase: encryption.passphrase } : (await s.connection.decryption(settings, false, ''))?.dec;
  const label = paths.map((p) => path.basename(p)).join(', ');
  const result = await s.jobs.run(`Back up ${label}`, (job) =>
    backup({
      client,
      store,
      paths,
      encryption,
      ...(dec ? { decryption: dec } : {}),
      force,
      exclude: settings.exclude,
      followSymlinks: settings.followSymlinks,
      concurrency: settings.uploadConcurrency,
      compression: settings.compression,
      stateDir: stateDir(s),
      signal: job.signal,
      onProgress: (p) => job.report(p.bytesRead, p.bytesTotal, p.phase === 'uploading' ? undefined : `${p.phase}…`),
      onNotice: (m) => s.log.info(`${label}: ${m}`),
      onResume: (e) =>
        void vscode.window.showInformationMessage(
          e.kind === 'resumed'
            ? `Glacier Backup: resumed the interrupted upload of ${label} at part ${e.part} of about ${e.parts} (${formatBytes(e.storedBytes)} were already stored).`
            : `Glacier Backup: the interrupted upload of ${label} was abandoned (${e.reason}); uploading anew.`,
        ),
      confirm: (scan) => confirmLargeUpload(scan, store.storageClass, settings.confirmLargeUploads, settings.largeUploadThresholdMB),
    }),
  );
  if (!result) return;
  for (const k of result.skipped) s.log.warn(`${label}: skipped (${k.reason}: ${k.detail}): ${k.path}`);
  await s.catalog.refresh();
  if (result.status === 'unchanged') {
    const pick = await vscode.window.showInformationMessage(`Glacier Backup: ${label} is unchanged since archive ${result.id}; nothing was uploaded.`, 'Show in Archives', 'Back Up Anyway');
    if (pick === 'Show in Archives') await s.revealArchive(result.id);
    if (pick === 'Back Up Anyway') await backupPaths(s, paths, true);
    return;
  }
  const m = result.manifest!;
  const skipped = result.skipped.length ? ` ${result.skipped.length} entries were skipped (see the log).` : '';
  const pick = await vscode.window.showInformationMessage(
    `Glacier Backup: backed up ${m.label} as archive ${m.id}: ${m.fileCount} files, ${formatBytes(m.archive.size)} in ${m.archive.storageClass}.${skipped}`,
    'Show in Archives',
  );
  if (pick) await s.revealArchive(m.id);
}

/** The engine's local state (last backups, upload journals), as the CLI keeps it in its state folder. */
function stateDir(s: Services): string {
  return path.join(s.context.globalStorageUri.fsPath, 'state');
}

/**
 * At start-up: backups whose upload was interrupted (a window closed, VS Code quit) are offered
 * to be resumed from the parts already stored, or discarded (the upload aborted).
 */
export async function offerInterruptedBackups(s: Services): Promise<void> {
  let store: ReturnType<typeof storeSettings>;
  try {
    store = storeSettings(s.connection.settings());
  } catch {
    return; // not set up
  }
  for (const { journal, paths } of await interruptedUploads(stateDir(s), store)) {
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
      const { client, store: connected } = await s.connection.connect();
      await discardInterrupted(client, connected, stateDir(s), journal);
      void vscode.window.showInformationMessage(`Glacier Backup: the interrupted upload of ${label} was discarded.`);
    }
  }
}

async function confirmLargeUpload(scan: { files: number; bytes: number }, storageClass: string, enabled: boolean, thresholdMB: number): Promise<boolean> {
  if (!enabled || scan.bytes < thresholdMB * 1024 * 1024) return true;
  const minimum = prices.minimumDays[storageClass];
  const monthly = monthlyCost(scan.bytes, storageClass);
  const minNote = minimum ? ` ${storageClass} bills at least ${minimum} days (about ${dollars((monthly / 30) * minimum)}) even if deleted sooner.` : '';
  const pick = await vscode.window.showWarningMessage(
    `Upload ${formatBytes(scan.bytes)} (${scan.files} files) to ${storageClass}?`,
    { modal: true, detail: `Storage costs about ${dollars(monthly)} per month.${minNote}` },
    'Back Up',
    "Back Up, Don't Ask Again",
  );
  if (pick === "Back Up, Don't Ask Again") {
    await vscode.workspace.getConfiguration(section).update('confirmLargeUploads', false, vscode.ConfigurationTarget.Global);
  }
  return pick !== undefined;
}

type ArchivePick = vscode.QuickPickItem & { id: string; file?: string };

function archiveItem(a: ArchiveInfo): ArchivePick {
  return {
    id: a.id,
    label: a.summary?.label ?? a.id,
    description: [a.summary ? shortDate(a.summary.created) : undefined, a.size === undefined ? undefined : formatBytes(a.size), stateText(a)].filter(Boolean).join(' · '),
    detail: a.summary ? `${a.summary.fileCount} files from ${a.summary.sources.join(', ')}` : a.id,
  };
}

async function ensureListed(s: Services): Promise<void> {
  if (s.catalog.archives.length === 0 || s.catalog.status.kind !== 'ready') await s.catalog.refresh();
  if (s.catalog.status.kind === 'error') throw new GlacierError('s3', s.catalog.status.message);
  if (s.catalog.status.kind === 'not-configured') throw new GlacierError('config', 'no bucket configured: run "Glacier Backup: Set up…"');
}

async function pickArchive(s: Services, title: string, filter: (a: ArchiveInfo) => boolean = () => true): Promise<string | undefined> {
  await ensureListed(s);
  const items = s.catalog.archives.filter((a) => !a.problem && filter(a)).map(archiveItem);
  if (items.length === 0) {
    void vscode.window.showInformationMessage('Glacier Backup: no archive fits.');
    return undefined;
  }
  return (await vscode.window.showQuickPick(items, { title, matchOnDescription: true, matchOnDetail: true }))?.id;
}

/** Restore…: pick an archive (or a file inside one), then tier and days; the poller takes it from there. */
async function restoreFlow(s: Services, givenId?: string): Promise<void> {
  await ensureListed(s);
  const picked = givenId ? { id: givenId } : await pickArchiveOrFile(s);
  if (!picked) return;
  const info = s.catalog.get(picked.id);
  const { client, store, settings } = await s.connection.connect();
  const status = await archiveStatus(client, store, picked.id);
  const label = info?.summary?.label ?? picked.id;
  if (status.glacier.state === 'available') {
    const go = await vscode.window.showInformationMessage(`Glacier Backup: ${label} is in ${status.storageClass} and needs no restore.`, 'Download…');
    if (go) await downloadFlow(s, picked.id, picked.file);
    return;
  }
  if (status.glacier.state === 'restoring') {
    await s.poller.add(picked.id, { tier: settings.restoreTier, days: settings.restoreDays });
    await rememberFile(s, picked.id, picked.file);
    void vscode.window.showInformationMessage(`Glacier Backup: a restore of ${label} is already in progress; you will be told when it is ready.`);
    return;
  }
  const tiers = restoreTiers.filter((t) => restoreTimes[status.storageClass]?.[t]);
  const tierPick = await vscode.window.showQuickPick(
    tiers.map((t) => ({
      label: t,
      description: restoreTimes[status.storageClass]?.[t],
      detail: `About ${dollars(retrievalCost(status.size, status.storageClass, t))} to retrieve ${formatBytes(status.size)}${t === settings.restoreTier ? ' · your default' : ''}`,
      picked: t === settings.restoreTier,
      tier: t as RestoreTier,
    })).sort((a, b) => Number(b.picked) - Number(a.picked)),
    { title: `Restore ${label}: how fast?`, placeHolder: 'Bulk is cheapest; Standard is faster' },
  );
  if (!tierPick) return;
  const stdDay = (monthlyCost(status.size, 'STANDARD') / 30);
  const daysText = await vscode.window.showInputBox({
    title: `Restore ${label}: for how many days?`,
    prompt: `The restored copy can be downloaded for this many days; it costs about ${dollars(stdDay)} per day while it exists.`,
    value: String(settings.restoreDays),
    validateInput: (v) => (/^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 365 ? undefined : 'A whole number of days from 1 to 365'),
  });
  if (daysText === undefined) return;
  const days = Number(daysText);
  const result = await requestRestore(client, store, picked.id, { tier: tierPick.tier, days });
  await s.poller.add(picked.id, { tier: tierPick.tier, days });
  await rememberFile(s, picked.id, picked.file);
  s.catalog.setState(picked.id, result.status.glacier);
  s.log.info(`restore of ${picked.id} (${tierPick.tier}, ${days} days): ${result.outcome}`);
  const when = restoreTimes[status.storageClass]?.[tierPick.tier] ?? '';
  const what = result.outcome === 'extended' ? `Extended the restored copy of ${label} to ${days} days.` : `Restore of ${label} requested (${tierPick.tier}: ready ${when}).`;
  void vscode.window.showInformationMessage(`Glacier Backup: ${what} You will be told when it can be downloaded.`);
  void s.poller.tick();
}

/** The archive quick pick, which also finds files by name in the manifests it can read. */
async function pickArchiveOrFile(s: Services): Promise<{ id: string; file?: string } | undefined> {
  const archives = s.catalog.archives.filter((a) => !a.problem).map(archiveItem);
  if (archives.length === 0) {
    void vscode.window.showInformationMessage('Glacier Backup: no archives yet.');
    return undefined;
  }
  const qp = vscode.window.createQuickPick<ArchivePick>();
  qp.title = 'Glacier Backup: Restore…';
  qp.placeholder = 'Pick an archive, or type a file name to find the archives that hold it';
  qp.matchOnDescription = true;
  qp.matchOnDetail = true;
  qp.items = archives;
  const loaded: { id: string; label: string; entries: readonly ManifestEntry[] }[] = [];
  let closed = false;
  const update = (): void => {
    const hits = searchFiles(loaded, qp.value).map(
      (h): ArchivePick => ({ id: h.id, file: h.path, label: `$(file) ${path.posix.basename(h.path)}`, description: h.path, detail: `in ${h.label}`, alwaysShow: true }),
    );
    qp.items = [...archives, ...hits];
  };
  qp.onDidChangeValue(update);
  // Read the manifests in the background (newest first) so file names can be searched.
  const opened = await s.connection.decryption(s.connection.settings(), false, '');
  if (opened) {
    qp.busy = true;
    void (async () => {
      for (const a of s.catalog.archives.filter((x) => !x.problem && x.summary).slice(0, 50)) {
        if (closed) break;
        try {
          const m = await s.catalog.manifest(a.id);
          loaded.push({ id: m.id, label: m.label, entries: m.entries });
          if (qp.value) update();
        } catch {
          // An unreadable manifest is shown in the tree already.
        }
      }
      qp.busy = false;
    })();
  }
  const choice = await new Promise<ArchivePick | undefined>((resolve) => {
    qp.onDidAccept(() => resolve(qp.selectedItems[0]));
    qp.onDidHide(() => resolve(undefined));
    qp.show();
  });
  closed = true;
  qp.dispose();
  return choice ? { id: choice.id, ...(choice.file ? { file: choice.file } : {}) } : undefined;
}

/** The file a user searched for in Restore…, offered again when the archive can be downloaded. */
const wantedFilesKey = 'glacierBackup.wantedFiles';

async function rememberFile(s: Services, id: string, file: string | undefined): Promise<void> {
  if (!file) return;
  const wanted = s.context.globalState.get<Record<string, string>>(wantedFilesKey, {});
  await s.context.globalState.update(wantedFilesKey, { ...wanted, [id]: file });
}

async function forgetFile(s: Services, id: string): Promise<void> {
  const { [id]: _, ...rest } = s.context.globalState.get<Record<string, string>>(wantedFilesKey, {});
  await s.context.globalState.update(wantedFilesKey, rest);
}

async function downloadFlow(s: Services, id: string | undefined, file?: string): Promise<void> {
  if (!id) return;
  const wanted = file ?? s.context.globalState.get<Record<string, string>>(wantedFilesKey, {})[id];
  const { client, store, settings } = await s.connection.connect();
  const status = await archiveStatus(client, store, id);
  if (status.glacier.state === 'archived' || status.glacier.state === 'restoring') {
    const go = await vscode.window.showWarningMessage(
      `Glacier Backup: this archive is ${status.glacier.state} in ${status.storageClass}; it can be downloaded once a restore is ready.`,
      ...(status.glacier.state === 'archived' ? ['Request Restore…'] : []),
    );
    if (go) await restoreFlow(s, id);
    return;
  }
  const label = s.catalog.get(id)?.summary?.label ?? id;
  const ws = vscode.workspace.workspaceFolders?.[0];
  const choices = [
    ...(ws ? [{ label: `$(folder) New folder in ${ws.name}`, description: ws.uri.fsPath, dest: ws.uri.fsPath }] : []),
    { label: '$(folder-opened) Choose a folder…', description: '', dest: '' },
  ];
  const where = choices.length === 1 ? choices[0] : await vscode.window.showQuickPick(choices, { title: `Download & decrypt ${label} into…` });
  if (!where) return;
  let dest = where.dest;
  if (!dest) {
    const picked = await vscode.window.showOpenDialog({ canSelectFiles: false, canSelectFolders: true, title: 'A new folder is created inside this one', openLabel: 'Restore Here' });
    if (!picked?.[0]) return;
    dest = picked[0].fsPath;
  }
  let only: string[] | undefined;
  if (wanted) {
    const what = await vscode.window.showQuickPick(
      [
        { label: `Only ${path.posix.basename(wanted)}`, description: wanted, only: [wanted] },
        { label: `All of ${label}`, description: '', only: undefined },
      ],
      { title: `Download & decrypt ${label}: everything, or the file you looked for?` },
    );
    if (!what) return;
    only = what.only;
  }
  const opened = await s.connection.decryption(settings, true, `Enter the passphrase of ${label}.`);
  const result = await s.jobs.run(`Download ${label}`, (job) =>
    download({
      client,
      store,
      id,
      decryption: opened!.dec,
      dest,
      ...(only ? { only } : {}),
      signal: job.signal,
      onProgress: (p) => job.report(p.bytesDownloaded, p.bytesTotal),
      onResume: (offset) => s.log.info(`${id}: connection dropped; resuming at byte ${offset}`),
    }),
  );
  if (!result) return;
  if (opened!.fresh) await s.connection.secrets.rememberPassphrase(opened!.fresh);
  await s.poller.remove(id);
  await forgetFile(s, id);
  s.log.info(`restored ${id} into ${result.path}`);
  const uri = vscode.Uri.file(result.path);
  const inside = vscode.workspace.getWorkspaceFolder(uri);
  if (inside) await vscode.commands.executeCommand('revealInExplorer', uri);
  const pick = await vscode.window.showInformationMessage(
    `Glacier Backup: restored ${only ? `${result.entries.filter((e) => e.type === 'file').length} of ${result.manifest.fileCount}` : result.manifest.fileCount} files of ${label} into ${path.basename(result.path)}; every file's checksum matched.`,
    ...(inside ? [] : ['Open Folder']),
  );
  if (pick === 'Open Folder') await vscode.commands.executeCommand('vscode.openFolder', uri, { forceNewWindow: true });
}

async function deleteFlow(s: Services, id: string | undefined): Promise<void> {
  if (!id) return;
  const info = s.catalog.get(id);
  const label = info?.summary?.label ?? id;
  const size = info?.size ?? 0;
  const cls = info?.storageClass ?? 'DEEP_ARCHIVE';
  const fee = earlyDeletionFee(size, cls, info?.lastModified);
  const feeText = fee > 0 ? `Deleting it now costs an early-deletion fee of about ${dollars(fee)} (${cls} bills at least ${prices.minimumDays[cls]} days).` : 'No early-deletion fee applies.';
  const sure = await vscode.window.showWarningMessage(
    `Delete archive "${label}" (${formatBytes(size)})? This cannot be undone.`,
    { modal: true, detail: `${feeText}\n\nId: ${id}` },
    'Delete',
  );
  if (sure !== 'Delete') return;
  const { client, store } = await s.connection.connect();
  await deleteArchive({ client, store, id, stateDir: stateDir(s), pending: s.poller.store });
  const markers = await keepsOldVersions(client, store);
  await s.poller.remove(id).catch(() => undefined);
  s.catalog.forgetArchive(id);
  // A versioned (or Object-Locked) bucket only hides the objects behind delete markers.
  const kept = markers ? ' The bucket keeps versions: its data stays as an old version, billed until a lifecycle rule expires it.' : '';
  s.log.info(`deleted archive ${id}${markers ? ' (delete markers: old versions stay)' : ''}`);
  void vscode.window.showInformationMessage(`Glacier Backup: deleted ${label}.${kept}`);
}

async function checkBucketFlow(s: Services): Promise<void> {
  const { client, store } = await s.connection.connect();
  const report = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Glacier Backup: checking the bucket…' }, () => checkBucket(client, store));
  const doc = await vscode.workspace.openTextDocument({ language: 'markdown', content: bucketReportMarkdown(report) });
  await vscode.window.showTextDocument(doc, { preview: true });
  s.log.info(`bucket check: list=${report.canList} versioning=${report.versioning} abortDays=${report.abortIncompleteDays ?? 'none'}`);
  if (report.abortIncompleteDays === undefined && !report.lifecycleUnknown) {
    const add = await vscode.window.showWarningMessage(
      'Glacier Backup: no lifecycle rule aborts incomplete multipart uploads in this bucket. Add one (after 7 days, for this prefix only)?',
      'Add Rule',
    );
    if (add) {
      await addAbortRule(client, store, 7);
      void vscode.window.showInformationMessage('Glacier Backup: lifecycle rule added: incomplete uploads are aborted after 7 days.');
    }
  } else {
    void vscode.window.showInformationMessage(`Glacier Backup: bucket ${store.bucket} is ready${report.canList ? '' : ' (but listing failed: see the report)'}.`);
  }
}

/** First-run set-up: bucket, region, endpoint, credentials, encryption. */
async function setUpFlow(s: Services): Promise<void> {
  const config = vscode.workspace.getConfiguration(section);
  const set = (k: string, v: unknown): Thenable<void> => config.update(k, v, vscode.ConfigurationTarget.Global);
  const bucket = await vscode.window.showInputBox({
    title: 'Glacier Backup set-up (1/5): bucket',
    prompt: 'The S3 bucket that receives the archives (it must exist).',
    value: config.get<string>('bucket', ''),
    ignoreFocusOut: true,
    validateInput: (v) => (/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(v.trim()) ? undefined : 'A bucket name: 3–63 lowercase letters, digits, dots and hyphens'),
  });
  if (bucket === undefined) return;
  const region = await vscode.window.showInputBox({
    title: 'Glacier Backup set-up (2/5): region',
    prompt: 'The bucket\'s AWS region, e.g. eu-central-1 (empty: from your AWS configuration).',
    value: config.get<string>('region', ''),
    ignoreFocusOut: true,
  });
  if (region === undefined) return;
  const endpoint = await vscode.window.showInputBox({
    title: 'Glacier Backup set-up (3/5): endpoint (optional)',
    prompt: 'Only for S3-compatible stores (e.g. https://s3.example.com); leave empty for AWS.',
    value: config.get<string>('endpoint', ''),
    ignoreFocusOut: true,
    validateInput: (v) => (v.trim() === '' || /^https?:\/\/\S+$/.test(v.trim()) ? undefined : 'A URL starting with https:// (or empty)'),
  });
  if (endpoint === undefined) return;
  const cred = await vscode.window.showQuickPick(
    [
      { label: 'AWS profile or default credential chain', description: 'environment, ~/.aws, SSO, instance role', value: 'awsChain' },
      { label: 'Access key kept in VS Code SecretStorage', description: 'entered once, never written to settings', value: 'secretStorage' },
    ],
    { title: 'Glacier Backup set-up (4/5): credentials', ignoreFocusOut: true },
  );
  if (!cred) return;
  const mode = await vscode.window.showQuickPick(
    [
      { label: 'Passphrase', description: 'one secret opens everything; kept in SecretStorage', value: 'passphrase' },
      { label: 'Public keys', description: 'this machine can back up what it cannot read', value: 'publicKey' },
    ],
    { title: 'Glacier Backup set-up (5/5): encryption', ignoreFocusOut: true },
  );
  if (!mode) return;
  await set('bucket', bucket.trim());
  await set('region', region.trim());
  await set('endpoint', endpoint.trim());
  await set('credentials', cred.value);
  await set('encryption', mode.value);
  s.connection.reset();
  if (cred.value === 'secretStorage' && !(await s.connection.secrets.awsCredentials(false))) await s.connection.secrets.setAwsCredentials();
  if (mode.value === 'passphrase' && !(await s.connection.secrets.storedPassphrase())) await s.connection.secrets.setPassphrase();
  if (mode.value === 'publicKey') {
    const files = await vscode.window.showOpenDialog({ title: 'Recipient public keys (armored .asc)', canSelectMany: true, filters: { 'OpenPGP keys': ['asc', 'pub', 'key'] } });
    if (files?.length) await set('recipients', files.map((f) => f.fsPath));
  }
  await s.catalog.refresh();
  const next = await vscode.window.showInformationMessage('Glacier Backup is set up. Check the bucket now (access, versioning, lifecycle rule)?', 'Check Bucket');
  if (next) await checkBucketFlow(s);
}

/** Verify: download a restored archive and check it end to end without writing a file. */
async function verifyFlow(s: Services, id: string | undefined): Promise<void> {
  if (!id) return;
  const { client, store, settings } = await s.connection.connect();
  const label = s.catalog.get(id)?.summary?.label ?? id;
  const opened = await s.connection.decryption(settings, true, `Enter the passphrase of ${label}.`);
  const result = await s.jobs.run(`Verify ${label}`, (job) =>
    verifyArchive({ client, store, id, decryption: opened!.dec, signal: job.signal, onProgress: (p) => job.report(p.bytesDownloaded, p.bytesTotal) }),
  );
  if (!result) return;
  if (opened!.fresh) await s.connection.secrets.rememberPassphrase(opened!.fresh);
  s.log.info(`verified ${id}: ${result.files} files, ${result.bytes} bytes`);
  void vscode.window.showInformationMessage(
    `Glacier Backup: ${label} is intact: the OpenPGP integrity check passed and all ${result.files} files (${formatBytes(result.bytes)}) match the manifest. Nothing was written.`,
  );
}
