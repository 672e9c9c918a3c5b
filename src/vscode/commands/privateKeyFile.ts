/** A private key picked from a file and unlocked (its passphrase asked for when it has one): for unlocking an archive or a test. */
import * as vscode from 'vscode';
import type * as OpenPGP from 'openpgp';
import { privateKeyDecryption } from '../../core/jobs/keys';
import { GlacierError } from '../../core/errors';
import { cancelled } from '../secrets';

export interface PickedKey {
  armored: string;
  /** Its own passphrase, when it has one. */
  passphrase?: string;
  keys: OpenPGP.PrivateKey[];
}

export async function pickPrivateKey(title: string): Promise<PickedKey> {
  const picked = await vscode.window.showOpenDialog({ title: `Glacier Backup: ${title} (armored .asc)`, canSelectMany: false, filters: { 'OpenPGP keys': ['asc', 'key', 'gpg', 'pgp'], 'All files': ['*'] } });
  if (!picked?.[0]) throw cancelled('private key choice');
  const armored = Buffer.from(await vscode.workspace.fs.readFile(picked[0])).toString('utf8');
  try {
    return { armored, keys: (await privateKeyDecryption(armored)).privateKeys ?? [] };
  } catch (err) {
    if (!(err instanceof GlacierError && /is protected/.test(err.message))) throw err;
    const passphrase = await vscode.window.showInputBox({ title: 'Glacier Backup: passphrase of that private key', password: true, ignoreFocusOut: true });
    if (passphrase === undefined) throw cancelled('key passphrase entry');
    return { armored, passphrase, keys: (await privateKeyDecryption(armored, passphrase)).privateKeys ?? [] };
  }
}
