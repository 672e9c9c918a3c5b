/**
 * The file a user searched for in Restore…, offered again when the archive can be downloaded.
 * Kept in globalState (archive ids and paths inside archives; nothing secret), so it survives the
 * hours a restore takes and the reloads between.
 */
import type * as vscode from 'vscode';

const wantedFilesKey = 'glacierBackup.wantedFiles';

export class WantedFiles {
  constructor(private readonly memento: vscode.Memento) {}

  get(id: string): string | undefined {
    return this.memento.get<Record<string, string>>(wantedFilesKey, {})[id];
  }

  async remember(id: string, file: string | undefined): Promise<void> {
    if (!file) return;
    const wanted = this.memento.get<Record<string, string>>(wantedFilesKey, {});
    await this.memento.update(wantedFilesKey, { ...wanted, [id]: file });
  }

  async forget(id: string): Promise<void> {
    const { [id]: _, ...rest } = this.memento.get<Record<string, string>>(wantedFilesKey, {});
    await this.memento.update(wantedFilesKey, rest);
  }
}
