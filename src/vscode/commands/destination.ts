/** Where a download or a restored file goes: a new folder in the workspace folder, or in a folder the user picks. */
import * as vscode from 'vscode';

/**
 * The folder in which the download job creates its new folder; undefined when the user cancelled.
 * `near` is the workspace folder to offer (default: the first one); without one, the user picks.
 */
export async function pickDestination(title: string, near = vscode.workspace.workspaceFolders?.[0]): Promise<string | undefined> {
  const choices = [
    ...(near ? [{ label: `$(folder) New folder in ${near.name}`, description: near.uri.fsPath, dest: near.uri.fsPath }] : []),
    { label: '$(folder-opened) Choose a folder…', description: '', dest: '' },
  ];
  const where = choices.length === 1 ? choices[0] : await vscode.window.showQuickPick(choices, { title });
  if (!where) return undefined;
  if (where.dest) return where.dest;
  const picked = await vscode.window.showOpenDialog({ canSelectFiles: false, canSelectFolders: true, title: 'A new folder is created inside this one', openLabel: 'Restore Here' });
  return picked?.[0]?.fsPath;
}
