/**
 * The commands that set, use or forget secrets: unlock, passphrase, AWS access key, private key.
 * Each goes through the one door to SecretStorage (../secrets.ts via the connection).
 */
import * as vscode from 'vscode';
import { section } from '../settings';
import type { Services } from './services';

/** Unlock: asks for the passphrase that opens the archives' manifests, then lists again. */
export async function unlock(s: Services): Promise<void> {
  const settings = s.connection.settings();
  const opened = await s.connection.decryption(settings, true, 'Enter the passphrase your archives were encrypted with.');
  if (opened?.fresh) await s.connection.secrets.rememberPassphrase(opened.fresh);
  await s.catalog.refresh();
}

export async function setPassphrase(s: Services): Promise<void> {
  await s.connection.secrets.setPassphrase();
  void vscode.window.showInformationMessage('Glacier Backup: passphrase saved in SecretStorage. New archives use it; an earlier one stays stored for reading the archives made with it.');
  await s.catalog.refresh();
}

export async function forgetPassphrase(s: Services): Promise<void> {
  await s.connection.secrets.forget('passphrase');
  void vscode.window.showInformationMessage('Glacier Backup: passphrase forgotten; you will be asked for it when needed.');
}

/** Set AWS Credentials…: stores the access key and switches the credentials setting to SecretStorage. */
export async function setAwsCredentials(s: Services): Promise<void> {
  await s.connection.secrets.setAwsCredentials();
  if (s.connection.settings().credentials !== 'secretStorage') {
    await vscode.workspace.getConfiguration(section).update('credentials', 'secretStorage', vscode.ConfigurationTarget.Global);
  }
  s.connection.reset();
  await s.catalog.refresh();
}

export async function forgetAwsCredentials(s: Services): Promise<void> {
  await s.connection.secrets.forget('aws');
  s.connection.reset();
  void vscode.window.showInformationMessage('Glacier Backup: AWS access key forgotten.');
}

export async function setPrivateKey(s: Services): Promise<void> {
  await s.connection.secrets.importPrivateKey();
  await s.connection.secrets.privateKeyDecryption(true);
  void vscode.window.showInformationMessage('Glacier Backup: private key saved in SecretStorage; you can now move the key file offline.');
  await s.catalog.refresh();
}

export async function forgetPrivateKey(s: Services): Promise<void> {
  await s.connection.secrets.forget('privateKey');
  void vscode.window.showInformationMessage('Glacier Backup: private key forgotten.');
}
