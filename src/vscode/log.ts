/**
 * The "Glacier Backup" log. It records operations and errors, never a secret.
 *
 * Lines go to VS Code's LogOutputChannel and, the same lines, to a plain file in the extension's
 * log folder (`glacier-backup.log`). The channel's lines are written by the native @vscode/spdlog
 * module into `<log folder>/Glacier Backup.log`; where that module cannot load (code-server, as
 * npm installs it) the file never appears and the Output view stays empty. Show Log then opens the
 * plain file instead, so every "Show Log" button leads to the log.
 */
import { appendFileSync, existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { format } from 'node:util';
import * as vscode from 'vscode';

export interface Log {
  info(message: string, ...args: unknown[]): void;
  warn(message: string, ...args: unknown[]): void;
  error(message: string | Error, ...args: unknown[]): void;
  debug(message: string, ...args: unknown[]): void;
  /** Shows the log: the Output view's channel, or the plain file where the channel has nothing. */
  show(preserveFocus?: boolean): void;
}

/** The plain file is started afresh (the old one kept as .1) once it is this big. */
const maxFileBytes = 4 * 1024 * 1024;

export class ExtensionLog implements Log, vscode.Disposable {
  private readonly channel = vscode.window.createOutputChannel('Glacier Backup', { log: true });
  /** The plain copy of the log. */
  readonly file: string;
  private fileBroken = false;

  constructor(private readonly folder: string) {
    this.file = path.join(folder, 'glacier-backup.log');
  }

  info(message: string, ...args: unknown[]): void {
    this.channel.info(message, ...args);
    this.write('info', message, args);
  }

  warn(message: string, ...args: unknown[]): void {
    this.channel.warn(message, ...args);
    this.write('warning', message, args);
  }

  error(message: string | Error, ...args: unknown[]): void {
    this.channel.error(message, ...args);
    this.write('error', message instanceof Error ? message.message : message, args);
  }

  debug(message: string, ...args: unknown[]): void {
    this.channel.debug(message, ...args);
  }

  show(preserveFocus = false): void {
    // The channel's own file, named after the channel (VS Code's extHostOutput): absent when spdlog did not load.
    if (existsSync(path.join(this.folder, 'Glacier Backup.log')) || this.fileBroken) {
      this.channel.show(preserveFocus);
      return;
    }
    // Focused, so that the read-only switch applies to this editor and no other.
    void vscode.window.showTextDocument(vscode.Uri.file(this.file), { preview: true }).then(
      () => vscode.commands.executeCommand('workbench.action.files.setActiveEditorReadonlyInSession'),
      () => this.channel.show(preserveFocus),
    );
  }

  dispose(): void {
    this.channel.dispose();
  }

  private write(level: string, message: string, args: unknown[]): void {
    if (this.fileBroken) return;
    const line = `${new Date().toISOString()} [${level}] ${args.length ? format(message, ...args) : message}\n`;
    try {
      mkdirSync(this.folder, { recursive: true });
      if (existsSync(this.file) && statSync(this.file).size > maxFileBytes) renameSync(this.file, `${this.file}.1`);
      appendFileSync(this.file, line);
    } catch (err) {
      // The channel still has every line; say once why the file does not.
      this.fileBroken = true;
      this.channel.warn(`the plain log file ${this.file} cannot be written: ${(err as Error).message}`);
    }
  }
}

export function createLog(folder: string): ExtensionLog {
  return new ExtensionLog(folder);
}
