/**
 * Settings + secrets → what the engine needs: the configured store (an ArchiveStore), the
 * encryption for new archives and the decryption for reading them.
 */
import { createHash } from 'node:crypto';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { StoreLocation } from '../core/config';
import { recipientEncryption, type Decryption, type Encryption } from '../core/jobs/keys';
import { GlacierError } from '../core/errors';
import { openStore, type ArchiveStore } from '../core/jobs/openStore';
import type { Log } from './log';
import type { Secrets } from './secrets';
import { readSettings, type Settings } from './settings';
import { storeLocation } from './storeLocation';

export interface Connected {
  store: ArchiveStore;
  /** Where `store` is, as the settings name it (credentials included for S3 when they come from SecretStorage). */
  location: StoreLocation;
  settings: Settings;
}

export class Connection {
  private cached?: { key: string; value: Connected };

  constructor(
    readonly secrets: Secrets,
    private readonly log: Log,
  ) {}

  settings(): Settings {
    return readSettings();
  }

  /** The store for the current settings (re-opened when they or the stored keys change); 'config' when none is set up. */
  async connect(askForCredentials = true): Promise<Connected> {
    const settings = readSettings();
    const base = storeLocation(settings);
    const location = base.kind === 's3' ? await this.withCredentials(base, settings, askForCredentials) : base;
    const credentials = location.kind === 's3' ? location.credentials : undefined;
    const key = JSON.stringify([base, credentials?.accessKeyId ?? null, credentials ? hashOf(credentials.secretAccessKey + (credentials.sessionToken ?? '')) : null]);
    if (this.cached?.key !== key) {
      this.cached?.value.store.close?.();
      const store = openStore(location);
      this.cached = { key, value: { store, location, settings } };
      this.log.info(`using ${store.name}${location.kind === 's3' && location.endpoint ? ` at ${location.endpoint}` : ''} (${store.archiveClass})`);
    }
    return { ...this.cached.value, settings };
  }

  private async withCredentials(base: StoreLocation & { kind: 's3' }, settings: Settings, ask: boolean): Promise<StoreLocation> {
    if (settings.credentials !== 'secretStorage') return base;
    const credentials = await this.secrets.awsCredentials(ask);
    if (!credentials) throw new GlacierError('config', 'no AWS access key stored: run "Glacier Backup: Set AWS Access Key…"');
    return { ...base, credentials };
  }

  /** Forgets the store, e.g. after the credentials were changed or forgotten. */
  reset(): void {
    this.cached?.value.store.close?.();
    this.cached = undefined;
  }

  async encryption(settings: Settings): Promise<Encryption> {
    if (settings.encryption === 'publicKey') {
      if (settings.recipients.length === 0) {
        throw new GlacierError('config', 'public-key mode needs at least one recipient key in glacierBackup.recipients');
      }
      const keys = await Promise.all(settings.recipients.map(readRecipient));
      return recipientEncryption(keys);
    }
    return { mode: 'passphrase', passphrase: await this.secrets.passphraseForBackup() };
  }

  /**
   * What opens manifests and archives. With ask=false, only what is stored (undefined when nothing
   * is); with ask=true the user is asked. `fresh` tells the caller the passphrase was typed now and
   * should be remembered once it has opened something.
   */
  async decryption(settings: Settings, ask: boolean, reason: string): Promise<{ dec: Decryption; fresh?: string } | undefined> {
    if (settings.encryption === 'publicKey') {
      const dec = await this.secrets.privateKeyDecryption(ask);
      return dec ? { dec } : undefined;
    }
    // Every stored passphrase, tried in order: the one for new backups, then those kept for reading.
    const stored = await this.secrets.storedDecryption();
    if (stored || !ask) return stored ? { dec: stored } : undefined;
    const got = await this.secrets.passphraseForReading(reason);
    return { dec: { passphrase: got.passphrase }, ...(got.stored ? {} : { fresh: got.passphrase }) };
  }
}

/** A recipient is an armored public key inline, or a path to one (absolute, ~/…, or relative to the first workspace folder). */
async function readRecipient(entry: string): Promise<{ name: string; data: string }> {
  const text = entry.trim();
  if (text.includes('BEGIN PGP PUBLIC KEY BLOCK')) return { name: 'recipient key from settings', data: text };
  let file = text.startsWith('~/') ? path.join(os.homedir(), text.slice(2)) : text;
  if (!path.isAbsolute(file)) {
    const ws = vscode.workspace.workspaceFolders?.[0];
    if (!ws) throw new GlacierError('config', `recipient key path "${text}" is relative but no folder is open`);
    file = path.join(ws.uri.fsPath, file);
  }
  try {
    return { name: file, data: Buffer.from(await vscode.workspace.fs.readFile(vscode.Uri.file(file))).toString('utf8') };
  } catch {
    throw new GlacierError('not-found', `recipient key file not found: ${file}`);
  }
}

/** Only to notice that the stored keys changed; kept in memory, never stored or logged. */
function hashOf(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
