/**
 * Every secret the extension uses lives only in VS Code's SecretStorage: the passphrase, AWS access
 * keys (when not taken from the AWS credential chain), and in public-key mode the private key and
 * its passphrase (needed only to read manifests and restore). A secret that is missing — never set,
 * forgotten, or lost by the keyring — is asked for again; nothing here throws for a missing secret
 * except when the user cancels the prompt.
 */
import * as vscode from 'vscode';
import type { StaticCredentials } from '../core/config';
import { privateKeyDecryption, type Decryption } from '../core/jobs/keys';
import { GlacierError } from '../core/errors';
import type { Log } from './log';

const key = {
  passphrase: 'glacierBackup.passphrase',
  aws: 'glacierBackup.awsCredentials',
  privateKey: 'glacierBackup.privateKey',
  privateKeyPassphrase: 'glacierBackup.privateKeyPassphrase',
} as const;

export const minPassphraseLength = 8;

export function cancelled(what: string): GlacierError {
  return new GlacierError('cancelled', `${what} cancelled`);
}

export class Secrets {
  constructor(
    private readonly storage: vscode.SecretStorage,
    private readonly log: Log,
  ) {}

  private async get(name: string): Promise<string | undefined> {
    try {
      return (await this.storage.get(name)) || undefined;
    } catch (err) {
      // A keyring that fails to answer is treated as a lost secret: the user is asked again.
      this.log.warn(`SecretStorage could not read ${name}: ${(err as Error).message}`);
      return undefined;
    }
  }

  private async put(name: string, value: string): Promise<void> {
    try {
      await this.storage.store(name, value);
    } catch (err) {
      this.log.warn(`SecretStorage could not store ${name}: ${(err as Error).message}`);
      void vscode.window.showWarningMessage('Glacier Backup could not save the secret in SecretStorage; you will be asked again next time.');
    }
  }

  async forget(what: 'passphrase' | 'aws' | 'privateKey'): Promise<void> {
    const names = what === 'privateKey' ? [key.privateKey, key.privateKeyPassphrase] : [key[what]];
    for (const n of names) await Promise.resolve(this.storage.delete(n)).catch(() => undefined);
  }

  async storedPassphrase(): Promise<string | undefined> {
    return this.get(key.passphrase);
  }

  /** Asks for a new passphrase twice (a typo would make every archive unreadable) and stores it. */
  async setPassphrase(): Promise<string> {
    const first = await vscode.window.showInputBox({
      title: 'Glacier Backup: encryption passphrase',
      prompt: 'Archives are encrypted with this passphrase. Without it nobody, including you, can restore them: keep a copy somewhere safe.',
      password: true,
      ignoreFocusOut: true,
      validateInput: (v) => (v.length < minPassphraseLength ? `At least ${minPassphraseLength} characters` : undefined),
    });
    if (first === undefined) throw cancelled('passphrase entry');
    const second = await vscode.window.showInputBox({
      title: 'Glacier Backup: confirm the passphrase',
      prompt: 'Type the passphrase again.',
      password: true,
      ignoreFocusOut: true,
      validateInput: (v) => (v === first ? undefined : 'The passphrases do not match'),
    });
    if (second === undefined) throw cancelled('passphrase entry');
    await this.put(key.passphrase, first);
    this.log.info('passphrase stored in SecretStorage');
    return first;
  }

  /** For backing up: the stored passphrase, or a new one (asked twice and stored). */
  async passphraseForBackup(): Promise<string> {
    return (await this.storedPassphrase()) ?? (await this.setPassphrase());
  }

  /**
   * For reading: the stored passphrase, or one asked once. The caller stores an asked passphrase
   * only after it opened something (rememberPassphrase), so a mistyped one is never kept.
   */
  async passphraseForReading(reason: string): Promise<{ passphrase: string; stored: boolean }> {
    const stored = await this.storedPassphrase();
    if (stored) return { passphrase: stored, stored: true };
    return { passphrase: await this.askPassphrase(reason), stored: false };
  }

  async askPassphrase(reason: string): Promise<string> {
    const value = await vscode.window.showInputBox({
      title: 'Glacier Backup: passphrase',
      prompt: reason,
      password: true,
      ignoreFocusOut: true,
      validateInput: (v) => (v.length === 0 ? 'Enter the passphrase' : undefined),
    });
    if (value === undefined) throw cancelled('passphrase entry');
    return value;
  }

  async rememberPassphrase(passphrase: string): Promise<void> {
    if (!(await this.storedPassphrase())) await this.put(key.passphrase, passphrase);
  }

  /** AWS keys kept in SecretStorage (setting glacierBackup.credentials = "secretStorage"); asked for when missing. */
  async awsCredentials(ask: boolean): Promise<StaticCredentials | undefined> {
    const raw = await this.get(key.aws);
    if (raw) {
      try {
        const parsed = JSON.parse(raw) as StaticCredentials;
        if (parsed.accessKeyId && parsed.secretAccessKey) return parsed;
      } catch {
        this.log.warn('stored AWS credentials were unreadable; asking again');
      }
    }
    return ask ? this.setAwsCredentials() : undefined;
  }

  async setAwsCredentials(): Promise<StaticCredentials> {
    const accessKeyId = await vscode.window.showInputBox({
      title: 'Glacier Backup: AWS access key id (1/3)',
      prompt: 'Kept only in VS Code SecretStorage.',
      ignoreFocusOut: true,
      // AWS ids are 16+ characters (AKIA…); S3-compatible stores allow shorter ones (MinIO's minioadmin).
      validateInput: (v) => (/^[\x21-\x7e]{3,128}$/.test(v.trim()) ? undefined : 'An access key id: 3 to 128 letters, digits or symbols, no spaces (AWS: AKIA…)'),
    });
    if (accessKeyId === undefined) throw cancelled('credential entry');
    const secretAccessKey = await vscode.window.showInputBox({
      title: 'Glacier Backup: AWS secret access key (2/3)',
      password: true,
      ignoreFocusOut: true,
      validateInput: (v) => (v.trim().length >= 8 ? undefined : 'Enter the secret access key'),
    });
    if (secretAccessKey === undefined) throw cancelled('credential entry');
    const sessionToken = await vscode.window.showInputBox({
      title: 'Glacier Backup: AWS session token (3/3, optional)',
      prompt: 'Leave empty for long-term keys.',
      password: true,
      ignoreFocusOut: true,
    });
    if (sessionToken === undefined) throw cancelled('credential entry');
    const creds: StaticCredentials = { accessKeyId: accessKeyId.trim(), secretAccessKey: secretAccessKey.trim(), ...(sessionToken.trim() ? { sessionToken: sessionToken.trim() } : {}) };
    await this.put(key.aws, JSON.stringify(creds));
    this.log.info(`AWS credentials stored in SecretStorage (access key id ending ${creds.accessKeyId.slice(-4)})`);
    return creds;
  }

  /** Public-key mode: the private key that opens manifests and archives, from SecretStorage or a file the user picks. */
  async privateKeyDecryption(ask: boolean): Promise<Decryption | undefined> {
    let armored = await this.get(key.privateKey);
    if (!armored) {
      if (!ask) return undefined;
      armored = await this.importPrivateKey();
    }
    let keyPassphrase = await this.get(key.privateKeyPassphrase);
    try {
      return await privateKeyDecryption(armored, keyPassphrase);
    } catch (err) {
      if (!ask || !(err instanceof GlacierError) || err.code !== 'bad-key' || !/passphrase/i.test(err.message)) throw err;
      keyPassphrase = await vscode.window.showInputBox({ title: 'Glacier Backup: private key passphrase', password: true, ignoreFocusOut: true });
      if (keyPassphrase === undefined) throw cancelled('key passphrase entry');
      const dec = await privateKeyDecryption(armored, keyPassphrase);
      await this.put(key.privateKeyPassphrase, keyPassphrase);
      return dec;
    }
  }

  /** Reads an armored private key from a file into SecretStorage (the file can then be moved offline). */
  async importPrivateKey(): Promise<string> {
    const picked = await vscode.window.showOpenDialog({
      title: 'Glacier Backup: the private key that opens your archives (armored .asc)',
      canSelectMany: false,
      filters: { 'OpenPGP keys': ['asc', 'key', 'gpg', 'pgp'], 'All files': ['*'] },
    });
    if (!picked?.[0]) throw cancelled('private key import');
    const armored = Buffer.from(await vscode.workspace.fs.readFile(picked[0])).toString('utf8');
    if (!armored.includes('PRIVATE KEY BLOCK')) throw new GlacierError('bad-key', `${picked[0].fsPath} is not an armored OpenPGP private key`);
    await this.put(key.privateKey, armored);
    this.log.info('private key stored in SecretStorage');
    return armored;
  }
}
