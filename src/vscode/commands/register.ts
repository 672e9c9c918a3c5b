/**
 * Registers every command of package.json's `contributes.commands` into the extension's
 * subscriptions. Each command's body lives in its own file here and gets the collaborators
 * (services.ts) as its first argument; this file only maps ids to bodies and arguments to ids.
 */
import * as vscode from 'vscode';
import { describeError, GlacierError } from '../../core/errors';
import type { Node } from '../archivesView';
import type { Log } from '../log';
import { copyArchiveId, copyS3Uri, showManifest } from './archiveDetails';
import { isReadable, pickArchive } from './archivePicks';
import { backupSelection, backupWorkspaceFolders } from './backupFlow';
import { checkArchivesFlow } from './checkArchivesFlow';
import { checkBucketFlow } from './checkBucketFlow';
import { deleteFlow } from './deleteFlow';
import { retrieve } from './retrieve';
import { forgetAwsCredentials, forgetPassphrase, forgetPrivateKey, setAwsCredentials, setPassphrase, setPrivateKey } from './secretCommands';
import type { Services } from './services';
import { setUpFlow } from './setUpFlow';
import { unlockArchives, unlockWithAnother } from './unlockAnother';
import { createRecoveryKit } from './recoveryKitFlow';
import { testPassphrase } from './testPassphraseFlow';
import { generateKeyPair } from './keyPairFlow';
import { escrowKey, recoverKey } from './escrowFlow';
import { startPassphraseReminder } from '../passphraseReminder';
import { showRestores } from './showRestores';
import { verifyFlow } from './verifyFlow';
import { entryAction, entryMenu, showVersions } from './versionsFlow';

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

export function registerCommands(subscriptions: vscode.Disposable[], s: Services): void {
  const register = (name: string, body: (...args: never[]) => Promise<unknown>): void => {
    subscriptions.push(vscode.commands.registerCommand(`glacierBackup.${name}`, guarded(s.log, body as (...args: unknown[]) => Promise<unknown>)));
  };
  /** A command on one archive: the one clicked or passed, else the one the user picks. */
  const onArchive = (name: string, title: string, body: (s: Services, id: string) => Promise<unknown>, filter?: Parameters<typeof pickArchive>[2]): void => {
    register(name, async (arg?: unknown) => {
      const id = idOf(arg) ?? (await pickArchive(s, title, filter));
      if (id) await body(s, id);
    });
  };

  register('backup', (uri?: vscode.Uri, uris?: vscode.Uri[]) => backupSelection(s, uri, uris));
  register('backupWorkspaceFolder', () => backupWorkspaceFolders(s));
  register('refresh', () => s.catalog.refresh());
  register('restore', async (arg?: unknown) => retrieve(s, { restore: idOf(arg) }));
  register('requestRestore', async (arg?: unknown) => retrieve(s, { restore: idOf(arg) }));
  onArchive('download', 'Download & decrypt which archive?', (_, id) => retrieve(s, { download: id }), isReadable);
  onArchive('copyS3Uri', 'Copy the S3 URI of which archive?', copyS3Uri);
  onArchive('copyArchiveId', 'Copy the id of which archive?', copyArchiveId);
  onArchive('showManifest', 'Show the manifest of which archive?', showManifest);
  onArchive('delete', 'Delete which archive?', deleteFlow);
  register('checkBucket', () => checkBucketFlow(s));
  register('checkArchives', () => checkArchivesFlow(s));
  onArchive('verify', 'Verify which archive?', verifyFlow, isReadable);
  register('setUp', () => setUpFlow(s));
  register('unlock', () => unlockArchives(s));
  register('unlockWithAnother', (arg?: unknown) => unlockWithAnother(s, arg));
  register('testPassphrase', () => testPassphrase(s));
  register('createRecoveryKit', () => createRecoveryKit(s));
  register('generateKeyPair', () => generateKeyPair(s));
  register('escrowPrivateKey', () => escrowKey(s));
  register('recoverEscrowedKey', () => recoverKey(s));
  register('setPassphrase', () => setPassphrase(s));
  register('forgetPassphrase', () => forgetPassphrase(s));
  register('setAwsCredentials', () => setAwsCredentials(s));
  register('forgetAwsCredentials', () => forgetAwsCredentials(s));
  register('setPrivateKey', () => setPrivateKey(s));
  register('forgetPrivateKey', () => forgetPrivateKey(s));
  register('showJobs', () => s.jobs.showJobs());
  register('cancelJob', async (node?: Node) => {
    if (node?.type === 'job') s.jobs.cancel(node.job.key);
  });
  register('dismissJob', async (node?: Node) => {
    if (node?.type === 'job') s.jobs.dismiss(node.job.key);
  });
  register('showLog', async () => s.log.show(true));
  subscriptions.push(startPassphraseReminder(s.stateDir, s.log));
  register('showRestores', (id?: string) => showRestores(s, typeof id === 'string' ? id : undefined));
  register('showVersions', (uri?: vscode.Uri) => showVersions(s, uri));
  register('versionActions', (node?: Node) => entryMenu(s, node));
  register('compareVersion', (node?: Node) => entryAction(s, node, 'compare'));
  register('openVersion', (node?: Node) => entryAction(s, node, 'open'));
  register('restoreVersion', (node?: Node) => entryAction(s, node, 'restore'));
}
