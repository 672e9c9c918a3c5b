/**
 * Opening something encrypted with what the user has, and saying so in their terms when it does
 * not fit: "that passphrase does not open src", with Try Another Passphrase, rather than a
 * technical line naming the manifest's id. A passphrase typed now is remembered only once it has
 * opened something (secrets.ts), so a mistyped one is never kept.
 */
import * as vscode from 'vscode';
import type { Decryption } from '../core/jobs/keys';
import { GlacierError } from '../core/errors';
import type { Connection } from './connection';
import type { Settings } from './settings';

export function isWrongKey(err: unknown): boolean {
  return err instanceof GlacierError && err.code === 'crypto' && /wrong passphrase or key/.test(err.message);
}

/** Runs `open` with the stored or asked passphrase (or private key); on a wrong one, offers to try another. */
export async function openWithPassphrase<T>(connection: Connection, settings: Settings, label: string, reason: string, open: (dec: Decryption) => Promise<T>): Promise<{ value: T; dec: Decryption }> {
  let opened = (await connection.decryption(settings, true, reason))!;
  for (;;) {
    try {
      const value = await open(opened.dec);
      if (opened.fresh) await connection.secrets.rememberPassphrase(opened.fresh);
      return { value, dec: opened.dec };
    } catch (err) {
      if (!isWrongKey(err)) throw err;
      if (opened.dec.passphrase === undefined) throw new GlacierError('crypto', `your private key does not open ${label}: it was encrypted for another key`);
      const which = opened.fresh ? 'that passphrase' : 'the saved passphrase';
      const pick = await vscode.window.showErrorMessage(`Glacier Backup: ${which} does not open ${label}.`, 'Try Another Passphrase');
      if (!pick) throw new GlacierError('cancelled', 'wrong passphrase; not retried');
      const typed = await connection.secrets.askPassphrase(reason);
      opened = { dec: { passphrase: typed }, fresh: typed };
    }
  }
}
