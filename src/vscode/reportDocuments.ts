/**
 * Reports (Check Bucket, Show Manifest) as read-only documents of their own scheme: no "Save
 * changes?" on close, nothing to save by mistake, and a report shown again (after "Add Rule")
 * updates in place rather than opening another tab.
 */
import * as vscode from 'vscode';

export const reportScheme = 'glacier-backup';

export class ReportDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly contents = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private readonly registration: vscode.Disposable;

  constructor() {
    this.registration = vscode.workspace.registerTextDocumentContentProvider(reportScheme, this);
  }

  dispose(): void {
    this.registration.dispose();
    this.changed.dispose();
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.contents.get(uri.toString()) ?? 'This report is no longer available: run its command again.\n';
  }

  /** The document for `name` (its extension sets the language), with `content`; open ones update. */
  set(name: string, content: string): vscode.Uri {
    const uri = vscode.Uri.from({ scheme: reportScheme, path: `/${name}` });
    this.contents.set(uri.toString(), content);
    this.changed.fire(uri);
    return uri;
  }

  /** Shows a plain-text report in an editor. */
  async showText(name: string, content: string): Promise<void> {
    const doc = await vscode.workspace.openTextDocument(this.set(name, content));
    await vscode.window.showTextDocument(doc, { preview: true });
  }

  /** Shows a Markdown report rendered (the Markdown preview of the read-only document). */
  async showMarkdown(name: string, content: string): Promise<void> {
    await vscode.commands.executeCommand('markdown.showPreview', this.set(name, content));
  }
}
