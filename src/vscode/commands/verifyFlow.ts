/** The Verify… command. */
import * as vscode from 'vscode';
import { verifyArchive } from '../../core/jobs/verify';
import { formatBytes } from '../../core/model/format';
import type { Services } from './services';

/** Verify: download a restored archive and check it end to end without writing a file. */
export async function verifyFlow(s: Services, id: string): Promise<void> {
  const { store, settings } = await s.connection.connect();
  const label = s.catalog.get(id)?.summary?.label ?? id;
  const opened = await s.connection.decryption(settings, true, `Enter the passphrase of ${label}.`);
  const result = await s.jobs.run(`Verify ${label}`, (job) =>
    verifyArchive({ store, id, decryption: opened!.dec, signal: job.signal, onProgress: (p) => job.report(p.bytesDownloaded, p.bytesTotal) }),
  );
  if (!result) return;
  if (opened!.fresh) await s.connection.secrets.rememberPassphrase(opened!.fresh);
  s.log.info(`verified ${id}: ${result.files} files, ${result.bytes} bytes`);
  void vscode.window.showInformationMessage(
    `Glacier Backup: ${label} is intact: the OpenPGP integrity check passed and all ${result.files} files (${formatBytes(result.bytes)}) match the manifest. Nothing was written.`,
  );
}
