/** The "Glacier Backup" log (a LogOutputChannel). It records operations and errors, never a secret. */
import * as vscode from 'vscode';

export type Log = Pick<vscode.LogOutputChannel, 'info' | 'warn' | 'error' | 'debug' | 'show'>;

export function createLog(): vscode.LogOutputChannel {
  return vscode.window.createOutputChannel('Glacier Backup', { log: true });
}
