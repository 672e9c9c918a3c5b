/**
 * The end of Set Up: the store is checked live (core/jobs/storeCheck.ts: credentials, the bucket
 * or folder, listing and upload rights) and the outcome said plainly. A failure comes with the
 * actions that fix it (create the bucket, set the access key, open the settings, retry), and the
 * check runs again after each fix until it passes or the user stops.
 */
import * as vscode from 'vscode';
import { describeError } from '../../core/errors';
import type { ArchiveStore } from '../../core/jobs/openStore';
import { checkStore, type StoreCheck } from '../../core/jobs/storeCheck';
import { recordCheck } from '../contextKeys';
import { section } from '../settings';
import { checkBucketFlow } from './checkBucketFlow';
import type { Services } from './services';

const createBucketHelp = 'https://docs.aws.amazon.com/AmazonS3/latest/userguide/create-bucket-overview.html';

const fix = {
  retry: 'Retry',
  create: 'Create Bucket',
  credentials: 'Set AWS Access Key…',
  settings: 'Open Settings',
  setUp: 'Set Up Again…',
  report: 'Check Bucket',
  help: 'How to Create a Bucket',
} as const;

/** Checks the configured store until it passes or the user stops; says the outcome either way. */
export async function checkSetUp(s: Services, kind: 's3' | 'file'): Promise<void> {
  for (;;) {
    const { store } = await s.connection.connect();
    const result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Glacier Backup: checking ${store.name}…` }, () => checkStore(store));
    recordCheck(result);
    s.log.info(`set-up check of ${store.name}: ${result.ok ? 'passed' : `failed (${result.problem})`}: ${result.message}`);
    if (result.ok) {
      await s.catalog.refresh();
      const next = await vscode.window.showInformationMessage(`Glacier Backup is set up and checked: ${result.message}.`, 'Back Up Workspace Folder', ...(kind === 's3' ? [fix.report] : []));
      if (next === fix.report) await checkBucketFlow(s);
      else if (next) await vscode.commands.executeCommand('glacierBackup.backupWorkspaceFolder');
      return;
    }
    const pick = await vscode.window.showErrorMessage(`Glacier Backup: the settings are saved, but the check failed: ${result.message}`, ...fixesFor(result, kind));
    switch (pick) {
      case fix.retry:
        continue;
      case fix.create:
        if (await createBucket(s, store)) continue;
        return;
      case fix.credentials:
        await s.connection.secrets.setAwsCredentials();
        await setCredentialsSetting();
        s.connection.reset();
        continue;
      case fix.settings:
        await vscode.commands.executeCommand('workbench.action.openSettings', 'glacierBackup.');
        return;
      case fix.setUp:
        await vscode.commands.executeCommand('glacierBackup.setUp');
        return;
      case fix.report:
        await checkBucketFlow(s);
        return;
      case fix.help:
        await vscode.env.openExternal(vscode.Uri.parse(createBucketHelp));
        return;
      default:
        return;
    }
  }
}

function fixesFor(result: StoreCheck & { ok: false }, kind: 's3' | 'file'): string[] {
  switch (result.problem) {
    case 'no-store':
      if (kind === 'file') return [fix.setUp, fix.retry];
      return result.canCreate ? [fix.create, fix.settings, fix.retry] : [fix.help, fix.settings, fix.retry];
    case 'no-credentials':
      return [fix.credentials, fix.settings, fix.retry];
    case 'refused':
      return kind === 's3' ? [fix.report, fix.credentials, fix.retry] : [fix.setUp, fix.retry];
    case 'unreachable':
      return [fix.settings, fix.retry];
    case 'other':
      return [fix.settings, fix.setUp, fix.retry];
  }
}

/** Create Bucket: says what it sets up, creates it, and tells whether it worked (the check then runs again). */
async function createBucket(s: Services, store: ArchiveStore): Promise<boolean> {
  if (!store.createBucket) return false;
  try {
    await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Glacier Backup: creating ${store.name} (public access blocked, incomplete uploads aborted after 7 days)…` }, () => store.createBucket!());
    s.log.info(`created ${store.name}`);
    return true;
  } catch (err) {
    const message = describeError(err);
    s.log.error(`creating ${store.name}: ${message}`);
    const pick = await vscode.window.showErrorMessage(`Glacier Backup: could not create the bucket: ${message}`, fix.help, fix.settings);
    if (pick === fix.help) await vscode.env.openExternal(vscode.Uri.parse(createBucketHelp));
    if (pick === fix.settings) await vscode.commands.executeCommand('workbench.action.openSettings', 'glacierBackup.');
    return false;
  }
}

/** An access key typed in here is meant to be used: the setting follows. */
async function setCredentialsSetting(): Promise<void> {
  await vscode.workspace.getConfiguration(section).update('credentials', 'secretStorage', vscode.ConfigurationTarget.Global);
}
