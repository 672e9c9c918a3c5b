/**
 * Generate Key Pair…: public-key mode set up in one go. A key pair GnuPG 2.2 reads
 * (core/crypto/keyGen.ts, as `glacier-backup key generate`); the private key goes to
 * SecretStorage under a passphrase of its own (a key stored before stays for reading), the public
 * key is saved to a file for the machines that back up, and this machine switches to it if the
 * user agrees. Then escrow and the recovery kit are offered: a private key with no copy anywhere
 * else is one lost disk away from losing every backup.
 */
import * as os from 'node:os';
import * as vscode from 'vscode';
import { generateRecipientKey } from '../../core/jobs/keys';
import { askNewSecret, cancelled, minPassphraseLength } from '../secrets';
import { section } from '../settings';
import type { Services } from './services';

export async function generateKeyPair(s: Services): Promise<void> {
  const name = await vscode.window.showInputBox({
    title: 'Glacier Backup: new key pair (1/3): name',
    prompt: 'A name for the key, shown by gpg (e.g. "Backups of my laptop").',
    value: `Glacier Backup of ${os.hostname()}`,
    ignoreFocusOut: true,
    validateInput: (v) => (v.trim() === '' || /[<>\n]/.test(v) ? 'A name without < or >' : undefined),
  });
  if (name === undefined) throw cancelled('key generation');
  const passphrase = await askNewSecret({
    title: 'Glacier Backup: new key pair (2/3): passphrase of the private key',
    prompt: 'Protects the private key wherever a copy of it goes (escrow, a file). Restoring needs it.',
    confirmTitle: 'Glacier Backup: new key pair (3/3): the passphrase again',
    minLength: minPassphraseLength,
    what: 'key generation',
  });
  const key = await generateRecipientKey({ name, passphrase });
  await s.connection.secrets.storePrivateKey(key.privateArmored, passphrase);
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri ?? vscode.Uri.file(os.homedir());
  const target = await vscode.window.showSaveDialog({
    title: 'Glacier Backup: save the public key (the machines that back up need it; it is not secret)',
    defaultUri: vscode.Uri.joinPath(folder, `${key.fingerprint}.pub.asc`),
    filters: { 'OpenPGP public key': ['asc'] },
  });
  if (target) await vscode.workspace.fs.writeFile(target, Buffer.from(key.publicArmored));
  s.log.info(`generated key ${key.fingerprint}; private key stored in SecretStorage${target ? `, public key saved as ${target.fsPath}` : ''}`);
  const use = 'Use It for New Backups';
  const answer = await vscode.window.showInformationMessage(
    `Glacier Backup: key pair ${key.fingerprint} generated. The private key is in SecretStorage${target ? `; the public key is in ${target.fsPath}` : ''}. Encrypt new backups of this machine to it?`,
    use,
  );
  if (answer === use) {
    const c = vscode.workspace.getConfiguration(section);
    await c.update('encryption', 'publicKey', vscode.ConfigurationTarget.Global);
    await c.update('recipients', [target ? target.fsPath : key.publicArmored], vscode.ConfigurationTarget.Global);
  }
  const escrow = 'Escrow Private Key…';
  const kit = 'Create Recovery Kit…';
  const next = await vscode.window.showWarningMessage(
    'Glacier Backup: the private key exists only in this VS Code now. Keep a copy: escrow it in the bucket under a separate passphrase, and print a recovery kit.',
    escrow,
    kit,
  );
  if (next === escrow) await vscode.commands.executeCommand('glacierBackup.escrowPrivateKey');
  else if (next === kit) await vscode.commands.executeCommand('glacierBackup.createRecoveryKit');
}
