/** The Copy S3 URI, Copy Archive Id and Show Manifest commands: what an archive is, without touching its data. */
import * as vscode from 'vscode';
import { keys } from '../../core/model/keys';
import { manifestText } from '../manifestText';
import type { Services } from './services';

export async function copyS3Uri(s: Services, id: string): Promise<void> {
  const uri = `s3://${s.catalog.bucket}/${s.catalog.prefix}${keys.archive(id)}`;
  await vscode.env.clipboard.writeText(uri);
  void vscode.window.setStatusBarMessage(`Copied ${uri}`, 4000);
}

export async function copyArchiveId(_s: Services, id: string): Promise<void> {
  await vscode.env.clipboard.writeText(id);
  void vscode.window.setStatusBarMessage(`Copied archive id ${id}`, 4000);
}

/** The manifest as a read-only listing (modes, sizes, local dates); a huge one shows its first 5,000 entries. */
export async function showManifest(s: Services, id: string): Promise<void> {
  const m = await s.catalog.manifest(id);
  // The id keeps two archives of the same label apart; the name is what the tab shows.
  await s.reports.showText(`${id}/Manifest of ${m.label.replace(/[/\\]/g, '_')}.txt`, manifestText(m));
}
