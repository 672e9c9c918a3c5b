/**
 * The context keys package.json reads: `when` clauses hide what makes no sense for the store
 * (Copy S3 URI and restores for a folder), and the walkthrough's steps are completed by
 * `onContext:` events, each set where the thing really happened (a check passed, a backup
 * finished), never by merely opening a command.
 */
import * as vscode from 'vscode';
import type { StoreCheck } from '../core/jobs/storeCheck';
import type { Connection } from './connection';
import { isConfigured } from './storeLocation';

export const contextKey = {
  /** 's3', 'file', or '' when no store is set up. */
  storeKind: 'glacierBackup.storeKind',
  /** A live check of the store (set-up's or Check Bucket's) passed in this window. */
  storeChecked: 'glacierBackup.storeChecked',
  /** The credentials reached the store (or a folder store needs none). */
  credentialsWork: 'glacierBackup.credentialsWork',
  /** New archives can be encrypted: a passphrase is stored, or recipient keys are set. */
  encryptionReady: 'glacierBackup.encryptionReady',
  /** A backup finished in this window. */
  backedUp: 'glacierBackup.backedUp',
} as const;

export function setContext(key: (typeof contextKey)[keyof typeof contextKey], value: boolean | string): void {
  void vscode.commands.executeCommand('setContext', key, value);
}

/** The keys that follow the settings and SecretStorage; run at start-up and when either changes. */
export async function updateSettingsContext(connection: Connection): Promise<void> {
  const settings = connection.settings();
  const kind = !isConfigured(settings) ? '' : /^file:/i.test(settings.store) ? 'file' : 's3';
  setContext(contextKey.storeKind, kind);
  const ready = settings.encryption === 'publicKey' ? settings.recipients.length > 0 : Boolean(await connection.secrets.storedPassphrase());
  setContext(contextKey.encryptionReady, ready);
}

/** After a live check (set-up's or Check Bucket's): what it proved, for the walkthrough. */
export function recordCheck(result: StoreCheck): void {
  setContext(contextKey.storeChecked, result.ok);
  if (result.ok) setContext(contextKey.credentialsWork, true);
  else if (result.problem === 'no-credentials') setContext(contextKey.credentialsWork, false);
}
