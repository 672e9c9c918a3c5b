/**
 * Create Recovery Kit…: the printable page of core/model/recoveryKit.ts (the same as
 * `glacier-backup recovery-kit`): where the backups are, the key fingerprints, the by-hand restore
 * commands, and a blank line for the passphrase. VS Code never writes the passphrase on it.
 */
import * as os from 'node:os';
import * as vscode from 'vscode';
import { recoveryKitHtml, recoveryKitMarkdown, type KitStore, type RecoveryKitInput } from '../../core/model/recoveryKit';
import { storeLocation } from '../storeLocation';
import type { Services } from './services';

declare const PACKAGE_VERSION: string;

export async function createRecoveryKit(s: Services): Promise<void> {
  const settings = s.connection.settings();
  const where = storeLocation(settings);
  const store: KitStore =
    where.kind === 'file'
      ? where
      : { kind: 's3', bucket: where.bucket, prefix: where.prefix, storageClass: where.storageClass, ...(where.region ? { region: where.region } : {}), ...(where.endpoint ? { endpoint: where.endpoint } : {}) };
  const enc = settings.encryption === 'publicKey' ? await s.connection.encryption(settings) : undefined;
  const input: RecoveryKitInput = {
    store,
    encryption:
      enc?.mode === 'public-key'
        ? { mode: 'public-key', recipients: enc.recipients.map((k) => ({ fingerprint: k.getFingerprint().toUpperCase(), userIds: k.getUserIDs() })) }
        : { mode: 'passphrase' },
    created: new Date(),
    host: os.hostname(),
    toolVersion: typeof PACKAGE_VERSION === 'string' ? PACKAGE_VERSION : 'dev',
  };
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri ?? vscode.Uri.file(os.homedir());
  const target = await vscode.window.showSaveDialog({
    title: 'Glacier Backup: save the recovery kit (print it, write the passphrase on the paper)',
    defaultUri: vscode.Uri.joinPath(folder, `glacier-backup-recovery-kit-${store.kind === 's3' ? store.bucket : 'folder'}.html`),
    filters: { 'Web page (prints well)': ['html'], Markdown: ['md'] },
  });
  if (!target) return;
  const html = /\.html?$/i.test(target.path);
  await vscode.workspace.fs.writeFile(target, Buffer.from(html ? recoveryKitHtml(input) : recoveryKitMarkdown(input)));
  s.log.info(`recovery kit written to ${target.fsPath}`);
  const open = await vscode.window.showInformationMessage(
    `Glacier Backup: recovery kit saved as ${target.fsPath}. Print it, write the ${input.encryption.mode === 'passphrase' ? 'passphrase' : 'place of the private key'} on the paper by hand, and keep it away from this computer.`,
    'Open',
  );
  if (open && html) await vscode.env.openExternal(target);
  else if (open) await vscode.window.showTextDocument(target);
}
