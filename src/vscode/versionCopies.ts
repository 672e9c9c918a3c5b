/**
 * Downloaded versions of files, shown read-only. A version opened or compared is downloaded once
 * into the extension's storage folder (a new folder per archive; never the workspace) and shown
 * through the `glacier-backup-version:` scheme, whose documents VS Code cannot edit or save. A
 * version restored into the workspace is shown the same way, from where it was restored.
 *
 * The copies are for this window's session: the storage folder is emptied at activation.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { FileVersion } from '../core/model/fileVersions';

export const versionScheme = 'glacier-backup-version';

export class VersionCopies implements vscode.TextDocumentContentProvider {
  private readonly copies = new Map<string, string>();

  constructor(readonly folder: string) {}

  /** Empties the storage folder; copies of an earlier session are not known any more. */
  async clear(): Promise<void> {
    await fs.rm(this.folder, { recursive: true, force: true });
    await fs.mkdir(this.folder, { recursive: true });
  }

  /** The downloaded copy of a version, if there is one still on disk. */
  async get(v: FileVersion): Promise<string | undefined> {
    const file = this.copies.get(keyOf(v));
    if (!file) return undefined;
    try {
      await fs.access(file);
      return file;
    } catch {
      this.copies.delete(keyOf(v));
      return undefined;
    }
  }

  set(v: FileVersion, file: string): void {
    this.copies.set(keyOf(v), file);
  }

  /** The read-only document of a version: its tab shows the file name and the archive's date. */
  uri(v: FileVersion, dateText: string): vscode.Uri {
    const name = path.posix.basename(v.archivePath);
    return vscode.Uri.from({ scheme: versionScheme, path: `/${dateText}/${name}`, query: new URLSearchParams({ id: v.snapshot, path: v.archivePath }).toString() });
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const q = new URLSearchParams(uri.query);
    const file = this.copies.get(`${q.get('id') ?? ''}\0${q.get('path') ?? ''}`);
    if (!file) return '(This version is not downloaded in this window any more: run "Show Backed-up Versions" again.)';
    return fs.readFile(file, 'utf8');
  }
}

function keyOf(v: FileVersion): string {
  return `${v.snapshot}\0${v.archivePath}`;
}
