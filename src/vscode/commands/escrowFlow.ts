/**
 * Escrow Private Key… and Recover Escrowed Key…: the private key of public-key mode kept in the
 * bucket under an escrow passphrase (core/jobs/keyEscrow.ts, as `glacier-backup key escrow` and
 * `key recover`). The escrow passphrase is typed each time and never stored: kept next to the
 * bucket credentials, it would be no escrow at all.
 */
import * as os from 'node:os';
import { promises as fs } from 'node:fs';
import * as vscode from 'vscode';
import { escrowPrivateKey, minEscrowPassphraseLength, normaliseFingerprint, recoverEscrowedKey } from '../../core/jobs/keyEscrow';
import { askNewSecret, cancelled } from '../secrets';
import { pickPrivateKey } from './privateKeyFile';
import type { Services } from './services';

export async function escrowKey(s: Services): Promise<void> {
  const { store } = await s.connection.connect();
  const stored = await s.connection.secrets.storedPrivateKey();
  const armored = stored ?? (await pickPrivateKey('the private key to escrow')).armored;
  const go = 'Escrow';
  const answer = await vscode.window.showWarningMessage(
    'Glacier Backup: the private key will be stored in the bucket, encrypted with an escrow passphrase you choose now. Anyone with the bucket and that passphrase can read every backup: choose a long one and keep it apart from the AWS credentials (on paper, in a password manager).',
    { modal: true },
    go,
  );
  if (answer !== go) throw cancelled('escrow');
  const first = await askNewSecret({
    title: 'Glacier Backup: escrow passphrase',
    prompt: `At least ${minEscrowPassphraseLength} characters; a few unrelated words are easy to keep and hard to guess. Never stored by VS Code.`,
    confirmTitle: 'Glacier Backup: confirm the escrow passphrase',
    minLength: minEscrowPassphraseLength,
    what: 'escrow',
  });
  const done = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Glacier Backup: escrowing the private key' }, () =>
    escrowPrivateKey(store, { armored, what: 'the private key', escrowPassphrase: first }),
  );
  s.log.info(`escrowed key ${done.fingerprint} as ${done.objectKey}`);
  void vscode.window.showInformationMessage(
    `Glacier Backup: private key ${done.fingerprint} escrowed as ${done.objectKey}. "Recover Escrowed Key…" (or gpg -d with the escrow passphrase) gets it back.`,
  );
}

export async function recoverKey(s: Services): Promise<void> {
  const { store } = await s.connection.connect();
  const fingerprint = await vscode.window.showInputBox({
    title: 'Glacier Backup: fingerprint of the escrowed key',
    prompt: 'As on the recovery kit (40 hex digits; spaces allowed).',
    ignoreFocusOut: true,
    validateInput: (v) => {
      try {
        normaliseFingerprint(v);
        return undefined;
      } catch {
        return 'A fingerprint is 40 hex digits';
      }
    },
  });
  if (fingerprint === undefined) throw cancelled('key recovery');
  const passphrase = await vscode.window.showInputBox({ title: 'Glacier Backup: escrow passphrase', password: true, ignoreFocusOut: true });
  if (passphrase === undefined) throw cancelled('key recovery');
  const got = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Glacier Backup: recovering the escrowed key' }, () =>
    recoverEscrowedKey(store, fingerprint, passphrase),
  );
  const keep = 'Keep in SecretStorage';
  const save = 'Save to File…';
  const answer = await vscode.window.showInformationMessage(`Glacier Backup: escrowed key ${got.fingerprint} recovered. It is still under its own passphrase, if it had one.`, keep, save);
  if (answer === keep) {
    await s.connection.secrets.addPrivateKey(got.armored, undefined);
    await s.catalog.refresh();
  } else if (answer === save) {
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri ?? vscode.Uri.file(os.homedir());
    const target = await vscode.window.showSaveDialog({ title: 'Glacier Backup: save the private key', defaultUri: vscode.Uri.joinPath(folder, `${got.fingerprint}.private.asc`), filters: { 'OpenPGP private key': ['asc'] } });
    if (!target) return;
    // Readable by its owner only; the save dialog has asked before replacing a file.
    await fs.writeFile(target.fsPath, got.armored, { mode: 0o600 });
    await fs.chmod(target.fsPath, 0o600);
    void vscode.window.showInformationMessage(`Glacier Backup: private key saved as ${target.fsPath} (readable by you only).`);
  }
}
