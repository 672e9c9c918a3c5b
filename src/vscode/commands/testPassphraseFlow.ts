/**
 * Test Encryption Passphrase…: whether a typed passphrase (or, in public-key mode, a private key
 * file) opens the newest manifest, through core/jobs/keyTest.ts as `glacier-backup
 * test-passphrase` does. Nothing typed is stored: it is a drill, as password managers offer.
 */
import * as vscode from 'vscode';
import type { Decryption } from '../../core/jobs/keys';
import { GlacierError } from '../../core/errors';
import { testKeys } from '../../core/jobs/keyTest';
import { recordPassphraseTested } from '../passphraseReminder';
import { cancelled } from '../secrets';
import { pickPrivateKey } from './privateKeyFile';
import type { Services } from './services';

export async function testPassphrase(s: Services): Promise<void> {
  const { store, settings } = await s.connection.connect();
  const publicKey = settings.encryption === 'publicKey';
  const decryption: Decryption = publicKey ? { privateKeys: (await pickPrivateKey('the private key to test')).keys } : await typedPassphrase();
  const what = publicKey ? 'That private key' : 'That passphrase';
  const report = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Glacier Backup: testing against the newest manifest', cancellable: true }, (_, token) => {
    const stop = new AbortController();
    token.onCancellationRequested(() => stop.abort());
    return testKeys(store, [{ source: 'typed', decryption }], { all: false, signal: stop.signal });
  });
  const newest = report.tried[0]!;
  if (report.failed.length) throw new GlacierError('corrupt', `the newest manifest (${newest}) could not be read: ${report.failed[0]!.problem}`);
  if (report.candidates[0]!.opens.length) {
    s.log.info(`passphrase test: opens ${newest}`);
    await recordPassphraseTested(s.stateDir).catch((err: unknown) => s.log.warn(`could not note the passphrase test: ${(err as Error).message}`));
    void vscode.window.showInformationMessage(`Glacier Backup: ${what} opens the newest archive (${newest}). It was not stored.`);
  } else {
    s.log.info(`passphrase test: does not open ${newest}`);
    void vscode.window.showWarningMessage(`Glacier Backup: ${what} does NOT open the newest archive (${newest}). It was not stored; check your copy of it now, while the stored one still works.`);
  }
}

async function typedPassphrase(): Promise<Decryption> {
  const passphrase = await vscode.window.showInputBox({
    title: 'Glacier Backup: test a passphrase',
    prompt: 'Type the passphrase from your copy (the paper, the password manager). It is tried on the newest archive and not stored.',
    password: true,
    ignoreFocusOut: true,
    validateInput: (v) => (v.length === 0 ? 'Enter the passphrase' : undefined),
  });
  if (passphrase === undefined) throw cancelled('passphrase test');
  return { passphrase };
}
