/** The Copy S3 URI and Show Manifest commands: what an archive is, without touching its data. */
import * as vscode from 'vscode';
import { keys } from '../../core/model/keys';
import type { Services } from './services';

export async function copyS3Uri(s: Services, id: string): Promise<void> {
  const uri = `s3://${s.catalog.bucket}/${s.catalog.prefix}${keys.archive(id)}`;
  await vscode.env.clipboard.writeText(uri);
  void vscode.window.setStatusBarMessage(`Copied ${uri}`, 4000);
}

/** The manifest as JSON in an editor; a huge one is cut to its first 5,000 entries. */
export async function showManifest(s: Services, id: string): Promise<void> {
  const m = await s.catalog.manifest(id);
  const cap = 5000;
  const shown = m.entries.length > cap ? { ...m, entries: m.entries.slice(0, cap), note: `first ${cap} of ${m.entries.length} entries` } : m;
  const doc = await vscode.workspace.openTextDocument({ language: 'json', content: JSON.stringify(shown, null, 2) });
  await vscode.window.showTextDocument(doc, { preview: true });
}
