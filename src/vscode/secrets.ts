/**
 * Every secret the extension uses lives only in VS Code's SecretStorage: the passphrase, AWS access
 * keys (when not taken from the AWS credential chain), and in public-key mode the private key and
 * its passphrase (needed only to read manifests and restore). A secret that is missing — never set,
 * forgotten, or lost by the keyring — is asked for again; nothing here throws for a missing secret
 * except when the user cancels the prompt.
 */
import * as vscode from 'vscode';
import type * as OpenPGP from 'openpgp';
import type { StaticCredentials } from '../core/config';
import { maxPassphrases, privateKeyDecryption, type Decryption } from '../core/jobs/keys';
import { GlacierError } from '../core/errors';
import type { Log } from './log';

const key = {
  passphrase: 'glacierBackup.passphrase',
  aws: 'glacierBackup.awsCredentials',
  privateKey: 'glacierBackup.privateKey',
  privateKeyPassphrase: 'glacierBackup.privateKeyPassphrase',
  /** Earlier or other passphrases, tried after `passphrase` for reading only: a JSON array. */
  otherPassphrases: 'glacierBackup.otherPassphrases',
  /** More private keys for reading (public-key mode): a JSON array of { armored, passphrase? }. */
  otherPrivateKeys: 'glacierBackup.otherPrivateKeys',
} as const;

export const minPassphraseLength = 8;

export function cancelled(what: string): GlacierError {
  return new GlacierError('cancelled', `${what} cancelled`);
}

/**
 * A new secret, typed twice (a typo in a passphrase nobody can see would lock out every archive
 * made with it); `what` names the step in the cancellation.
 */
export async function askNewSecret(o: { title: string; prompt: string; confirmTitle: string; minLength: number; what: string }): Promise<string> {
  const first = await vscode.window.showInputBox({
    title: o.title,
    prompt: o.prompt,
    password: true,
    ignoreFocusOut: true,
    validateInput: (v) => (v.length < o.minLength ? `At least ${o.minLength} characters` : undefined),
  });
  if (first === undefined) throw cancelled(o.what);
  const second = await vscode.window.showInputBox({
    title: o.confirmTitle,
    prompt: 'Type it again.',
    password: true,
    ignoreFocusOut: true,
    validateInput: (v) => (v === first ? undefined : 'The passphrases do not match'),
  });
  if (second === undefined) throw cancelled(o.what);
  return first;
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
    const names = what === 'privateKey' ? [key.privateKey, key.privateKeyPassphrase, key.otherPrivateKeys] : what === 'passphrase' ? [key.passphrase, key.otherPassphrases] : [key[what]];
    for (const n of names) await Promise.resolve(this.storage.delete(n)).catch(() => undefined);
  }

  async storedPassphrase(): Promise<string | undefined> {
    return this.get(key.passphrase);
  }

  /**
   * Asks for a new passphrase twice (a typo would make every archive unreadable) and stores it. When
   * one is stored already, it asks first whether to replace it for new backups; the old one stays
   * for reading, so archives made under it still open.
   */
  async setPassphrase(): Promise<string> {
    const current = await this.storedPassphrase();
    if (current) {
      const others = await this.otherPassphrases();
      if (others.length + 1 >= maxPassphrases) {
        throw new GlacierError('usage', `${others.length + 1} passphrases are stored, the most tried: run "Forget Encryption Passphrase" and store the ones still needed again`);
      }
      const replace = 'Replace for New Backups';
      const answer = await vscode.window.showWarningMessage(
        'Glacier Backup: a passphrase is stored already. Replace it for new backups? The old one is kept for reading the archives made with it.',
        { modal: true },
        replace,
      );
      if (answer !== replace) throw cancelled('passphrase change');
    }
    const first = await askNewSecret({
      title: 'Glacier Backup: encryption passphrase',
      prompt: 'Archives are encrypted with this passphrase. Without it nobody, including you, can restore them: keep a copy somewhere safe.',
      confirmTitle: 'Glacier Backup: confirm the passphrase',
      minLength: minPassphraseLength,
      what: 'passphrase entry',
    });
    if (current && current !== first) await this.putOthers([current, ...(await this.otherPassphrases()).filter((p) => p !== first)]);
    await this.put(key.passphrase, first);
    this.log.info(current ? 'passphrase for new backups replaced in SecretStorage; the old one is kept for reading' : 'passphrase stored in SecretStorage');
    return first;
  }

  /** The passphrases kept for reading only, in the order they are tried (after the stored one). */
  async otherPassphrases(): Promise<string[]> {
    const raw = await this.get(key.otherPassphrases);
    try {
      const parsed = raw ? (JSON.parse(raw) as unknown) : [];
      return Array.isArray(parsed) ? parsed.filter((p): p is string => typeof p === 'string' && p !== '') : [];
    } catch {
      this.log.warn('the stored extra passphrases were unreadable; they are ignored');
      return [];
    }
  }

  private async putOthers(list: string[]): Promise<void> {
    await this.put(key.otherPassphrases, JSON.stringify(list.slice(0, maxPassphrases - 1)));
  }

  /** What opens archives with the stored passphrases, without asking: the one for new backups first, then those kept for reading. */
  async storedDecryption(): Promise<Decryption | undefined> {
    const first = await this.storedPassphrase();
    if (!first) return undefined;
    const others = await this.otherPassphrases();
    return { passphrase: first, ...(others.length ? { otherPassphrases: others } : {}) };
  }

  /**
   * Keeps a passphrase that opened an archive no stored one opens: for reading only, after the
   * stored ones (or as the passphrase itself when none is stored). Refused past the number a
   * reader tries.
   */
  async addReadingPassphrase(passphrase: string): Promise<void> {
    const current = await this.storedPassphrase();
    if (!current) return this.put(key.passphrase, passphrase);
    const others = await this.otherPassphrases();
    if (passphrase === current || others.includes(passphrase)) return;
    if (others.length + 1 >= maxPassphrases) {
      throw new GlacierError('usage', `${others.length + 1} passphrases are stored, the most tried: run "Forget Encryption Passphrase" and store the ones still needed again`);
    }
    await this.putOthers([...others, passphrase]);
    this.log.info('another passphrase stored in SecretStorage for reading');
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
      const dec = await privateKeyDecryption(armored, keyPassphrase);
      return { privateKeys: [...(dec.privateKeys ?? []), ...(await this.otherPrivateKeys())] };
    } catch (err) {
      if (!ask || !(err instanceof GlacierError) || err.code !== 'bad-key' || !/passphrase/i.test(err.message)) throw err;
      keyPassphrase = await vscode.window.showInputBox({ title: 'Glacier Backup: private key passphrase', password: true, ignoreFocusOut: true });
      if (keyPassphrase === undefined) throw cancelled('key passphrase entry');
      const dec = await privateKeyDecryption(armored, keyPassphrase);
      await this.put(key.privateKeyPassphrase, keyPassphrase);
      return { privateKeys: [...(dec.privateKeys ?? []), ...(await this.otherPrivateKeys())] };
    }
  }

  /** The private keys kept for reading only (each opened an archive when it was added); one that no longer loads is skipped. */
  private async otherPrivateKeys(): Promise<OpenPGP.PrivateKey[]> {
    const found: OpenPGP.PrivateKey[] = [];
    for (const k of await this.otherPrivateKeyRecords()) {
      try {
        found.push(...((await privateKeyDecryption(k.armored, k.passphrase)).privateKeys ?? []));
      } catch (err) {
        this.log.warn(`a stored extra private key could not be loaded: ${(err as Error).message}`);
      }
    }
    return found;
  }

  private async otherPrivateKeyRecords(): Promise<{ armored: string; passphrase?: string }[]> {
    try {
      const parsed = JSON.parse((await this.get(key.otherPrivateKeys)) ?? '[]') as unknown;
      return Array.isArray(parsed) ? parsed.filter((k): k is { armored: string; passphrase?: string } => typeof k?.armored === 'string') : [];
    } catch {
      return [];
    }
  }

  /** Keeps another private key (armored, with its passphrase if it has one) for reading, after the main one. */
  async addPrivateKey(armored: string, passphrase: string | undefined): Promise<void> {
    if (!(await this.get(key.privateKey))) {
      await this.put(key.privateKey, armored);
      if (passphrase) await this.put(key.privateKeyPassphrase, passphrase);
      return;
    }
    const records = await this.otherPrivateKeyRecords();
    if (records.some((r) => r.armored === armored)) return;
    await this.put(key.otherPrivateKeys, JSON.stringify([...records, { armored, ...(passphrase ? { passphrase } : {}) }]));
    this.log.info('another private key stored in SecretStorage for reading');
  }

  /**
   * Public-key mode set-up: a generated private key becomes the one kept, with its passphrase; a key
   * stored before stays for reading the archives made for it.
   */
  async storePrivateKey(armored: string, passphrase: string): Promise<void> {
    const previous = await this.get(key.privateKey);
    if (previous && previous !== armored) {
      const records = await this.otherPrivateKeyRecords();
      const kept = await this.get(key.privateKeyPassphrase);
      await this.put(key.otherPrivateKeys, JSON.stringify([{ armored: previous, ...(kept ? { passphrase: kept } : {}) }, ...records]));
    }
    await this.put(key.privateKey, armored);
    await this.put(key.privateKeyPassphrase, passphrase);
    this.log.info('private key stored in SecretStorage');
  }

  /** The main private key as stored (armored, under its own passphrase), for escrow; undefined if none. */
  async storedPrivateKey(): Promise<string | undefined> {
    return this.get(key.privateKey);
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
