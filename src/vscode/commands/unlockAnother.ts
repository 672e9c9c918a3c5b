/**
 * Unlock with Another Passphrase… (or, in public-key mode, another private key): for an archive
 * whose manifest none of the stored passphrases or keys opens (a ⚠ "locked" row), made by the CLI
 * or before the passphrase was changed. The passphrase or key typed is tried on that archive's
 * manifest and kept (for reading only, after the stored ones) only if it opens it, so a mistyped
 * one is never stored.
 */
import * as vscode from 'vscode';
import { openManifest } from '../../core/jobs/manifest';
import type { Decryption } from '../../core/jobs/keys';
import { GlacierError } from '../../core/errors';
import type { Node } from '../archivesView';
import { cancelled } from '../secrets';
import { unlock } from './secretCommands';
import { pickPrivateKey } from './privateKeyFile';
import type { Services } from './services';

/** Unlock Archives: with a passphrase or key stored and archives it does not open, unlocks those; else asks for the first one. */
export async function unlockArchives(s: Services): Promise<void> {
  const stored = await s.connection.decryption(s.connection.settings(), false, '');
  if (stored && lockedArchives(s).length > 0) return unlockWithAnother(s);
  return unlock(s);
}

export async function unlockWithAnother(s: Services, arg?: unknown): Promise<void> {
  // The locked row clicked (or an id passed), else the user picks among the locked ones.
  const node = arg as Node | undefined;
  const id = typeof arg === 'string' ? arg : node?.type === 'archive' ? node.info.id : await pickLocked(s);
  if (!id) return;
  const label = s.catalog.get(id)?.summary?.label ?? id;
  const { store, settings } = await s.connection.connect();
  const publicKey = settings.encryption === 'publicKey';
  const candidate = publicKey ? await askPrivateKey() : await askPassphrase(label);
  try {
    await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Glacier Backup: opening the manifest of ${label}`, cancellable: true }, (_, token) => {
      const stop = new AbortController();
      token.onCancellationRequested(() => stop.abort());
      return openManifest(store, id, candidate.dec, stop.signal);
    });
  } catch (err) {
    if (err instanceof GlacierError && err.code === 'crypto') {
      throw new GlacierError('bad-key', `that ${publicKey ? 'private key' : 'passphrase'} does not open the manifest of ${label} either; nothing was stored`);
    }
    throw err;
  }
  if (candidate.store) await candidate.store(s);
  s.log.info(`another ${publicKey ? 'private key' : 'passphrase'} opens ${id}; stored for reading`);
  await s.catalog.refresh();
  void vscode.window.showInformationMessage(
    `Glacier Backup: ${label} opens with that ${publicKey ? 'private key' : 'passphrase'}. It is kept in SecretStorage for reading, after the stored ones; new backups still use the current one.`,
  );
}

/** The archives listed as locked: intact manifests that nothing stored opens. */
function lockedArchives(s: Services): string[] {
  return s.catalog.archives.filter((a) => a.locked).map((a) => a.id);
}

async function pickLocked(s: Services): Promise<string | undefined> {
  if (s.catalog.archives.length === 0) await s.catalog.refresh();
  const locked = lockedArchives(s);
  if (locked.length === 0) {
    void vscode.window.showInformationMessage('Glacier Backup: every archive opens with what is stored; none is locked.');
    return undefined;
  }
  if (locked.length === 1) return locked[0];
  const picked = await vscode.window.showQuickPick(
    locked.map((id) => ({ label: id, description: 'locked' })),
    { title: 'Glacier Backup: unlock which archive?', placeHolder: 'Archives whose manifest no stored passphrase or key opens' },
  );
  return picked?.label;
}

interface Candidate {
  dec: Decryption;
  store?: (s: Services) => Promise<void>;
}

async function askPassphrase(label: string): Promise<Candidate> {
  const passphrase = await vscode.window.showInputBox({
    title: 'Glacier Backup: another passphrase',
    prompt: `None of the stored passphrases opens ${label}. Enter the passphrase it was made with; it is kept only if it opens it.`,
    password: true,
    ignoreFocusOut: true,
    validateInput: (v) => (v.length === 0 ? 'Enter the passphrase' : undefined),
  });
  if (passphrase === undefined) throw cancelled('passphrase entry');
  return { dec: { passphrase }, store: (s) => s.connection.secrets.addReadingPassphrase(passphrase) };
}

async function askPrivateKey(): Promise<Candidate> {
  const picked = await pickPrivateKey('another private key that may open this archive');
  return { dec: { privateKeys: picked.keys }, store: (s) => s.connection.secrets.addPrivateKey(picked.armored, picked.passphrase) };
}
