/** The Archives view: jobs, then archives grouped by source, each expandable into its files. */
import * as vscode from 'vscode';
import type { ManifestEntry } from '../core/model/entry';
import { entryName } from '../core/model/rawNames';
import { describeError } from '../core/errors';
import type { ArchiveCatalog } from './archiveCatalog';
import type { JobQueue } from './jobQueue';
import { plural } from './when';
import { archiveLook, matchesFilter, entryLook, groupBySource, indexEntries, jobLook, type ArchiveInfo, type FolderIndex, type JobInfo, type SourceGroup } from './viewModel';

/** A folder shows at most this many children; the rest are one "… more" row (Restore… searches them all). */
const maxChildren = 2000;

export type Node =
  | { type: 'job'; job: JobInfo }
  | { type: 'hint'; label: string; icon: string; command?: vscode.Command; tooltip?: string }
  | { type: 'group'; group: SourceGroup }
  | { type: 'archive'; info: ArchiveInfo; group: SourceGroup }
  | { type: 'entry'; archiveId: string; entry: ManifestEntry; parent: Node }
  | { type: 'more'; count: number };

export class ArchivesView implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private groups: SourceGroup[] = [];
  /** The "Filter…" text: only archives matching it are shown (matchesFilter). */
  private filter = '';
  private readonly archiveNodes = new Map<string, Node & { type: 'archive' }>();
  private readonly indexes = new Map<string, FolderIndex>();
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(
    private readonly catalog: ArchiveCatalog,
    private readonly jobs: JobQueue,
  ) {
    this.subscriptions.push(
      catalog.onDidChange(() => this.rebuild()),
      jobs.onDidChange(() => this.changed.fire(undefined)),
    );
    // Relative dates and times left ("3 min ago", "~11 h left") age: redraw once a minute.
    const timer = setInterval(() => this.changed.fire(undefined), 60_000);
    this.subscriptions.push({ dispose: () => clearInterval(timer) });
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
    this.changed.dispose();
  }

  private rebuild(): void {
    this.groups = groupBySource(this.filter ? this.catalog.archives.filter((a) => matchesFilter(a, this.filter)) : this.catalog.archives);
    this.archiveNodes.clear();
    for (const g of this.groups) for (const a of g.archives) this.archiveNodes.set(a.id, { type: 'archive', info: a, group: g });
    for (const id of this.indexes.keys()) if (!this.archiveNodes.has(id)) this.indexes.delete(id);
    this.changed.fire(undefined);
  }

  get filterText(): string {
    return this.filter;
  }

  setFilter(text: string): void {
    this.filter = text.trim();
    this.rebuild();
  }

  archiveNode(id: string): Node | undefined {
    return this.archiveNodes.get(id);
  }

  getParent(node: Node): Node | undefined {
    if (node.type === 'archive') return { type: 'group', group: node.group };
    if (node.type === 'entry') return node.parent;
    return undefined;
  }

  getTreeItem(node: Node): vscode.TreeItem {
    switch (node.type) {
      case 'job': {
        const look = jobLook(node.job);
        const item = new vscode.TreeItem(look.label, vscode.TreeItemCollapsibleState.None);
        item.id = `job:${node.job.key}`;
        item.description = look.description;
        item.iconPath = new vscode.ThemeIcon(look.icon, look.icon === 'error' ? new vscode.ThemeColor('errorForeground') : undefined);
        item.contextValue = look.contextValue;
        item.tooltip = look.tooltip;
        return item;
      }
      case 'hint': {
        const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.None);
        item.iconPath = new vscode.ThemeIcon(node.icon);
        if (node.command) item.command = node.command;
        if (node.tooltip) item.tooltip = node.tooltip;
        item.contextValue = 'hint';
        return item;
      }
      case 'group': {
        const item = new vscode.TreeItem(node.group.label, vscode.TreeItemCollapsibleState.Expanded);
        item.id = `group:${node.group.key}`;
        item.description = [node.group.description, plural(node.group.archives.length, 'archive')].filter(Boolean).join(' · ');
        item.iconPath = new vscode.ThemeIcon(node.group.key === '?' ? 'lock' : 'folder-library');
        item.contextValue = 'group';
        return item;
      }
      case 'archive': {
        const look = archiveLook(node.info, this.catalog.bucket, this.catalog.archiveKey(node.info.id));
        const item = new vscode.TreeItem(look.label, node.info.summary ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
        item.id = `archive:${node.info.id}`;
        item.description = look.description;
        item.iconPath = new vscode.ThemeIcon(look.icon, look.color ? new vscode.ThemeColor(look.color) : undefined);
        item.contextValue = look.contextValue;
        item.tooltip = new vscode.MarkdownString(look.tooltip);
        return item;
      }
      case 'entry': {
        const look = entryLook(node.entry);
        const item = new vscode.TreeItem(look.label, look.collapsible ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
        // A name that is not UTF-8 is identified by its bytes: its readable path may be another's.
        item.id = node.entry.pathBytes === undefined ? `entry:${node.archiveId}:${node.entry.path}` : `entry-bytes:${node.archiveId}:${node.entry.pathBytes}`;
        item.description = look.description;
        item.iconPath = new vscode.ThemeIcon(look.icon);
        item.tooltip = node.entry.path;
        item.contextValue = `entry.${node.entry.type}`;
        if (node.entry.type === 'file') item.command = { command: 'glacierBackup.versionActions', title: 'Compare, Open or Restore…', arguments: [node] };
        return item;
      }
      case 'more':
        return new vscode.TreeItem(`… ${node.count} more (use "Glacier Backup: Restore…" to search)`, vscode.TreeItemCollapsibleState.None);
    }
  }

  async getChildren(node?: Node): Promise<Node[]> {
    if (!node) return this.roots();
    if (node.type === 'group') return node.group.archives.map((a) => this.archiveNodes.get(a.id) ?? { type: 'archive', info: a, group: node.group });
    if (node.type === 'archive') return this.entries(node, node.info.id, '');
    if (node.type === 'entry' && node.entry.type === 'directory') return this.entries(node, node.archiveId, entryName(node.entry));
    return [];
  }

  private roots(): Node[] {
    const nodes: Node[] = this.jobs.list().map((job) => ({ type: 'job', job }));
    const s = this.catalog.status;
    if (s.kind === 'not-configured') return nodes; // the viewsWelcome content takes over
    if (s.kind === 'error') {
      nodes.push({ type: 'hint', label: s.message, icon: 'error', tooltip: s.message });
      nodes.push({ type: 'hint', label: 'Check bucket…', icon: 'checklist', command: { command: 'glacierBackup.checkBucket', title: 'Check bucket' } });
      return nodes;
    }
    if (s.kind === 'loading' && this.catalog.archives.length === 0) nodes.push({ type: 'hint', label: 'Loading archives…', icon: 'loading~spin' });
    if (s.kind === 'ready' && s.needsKey) {
      nodes.push({
        type: 'hint',
        label: 'Enter the passphrase or private key to show labels and files',
        icon: 'key',
        command: { command: 'glacierBackup.unlock', title: 'Unlock' },
      });
    }
    for (const g of this.groups) nodes.push({ type: 'group', group: g });
    if (this.filter && this.groups.length === 0 && this.catalog.archives.length > 0) {
      nodes.push({ type: 'hint', label: `No archive matches "${this.filter}"`, icon: 'filter', command: { command: 'glacierBackup.clearFilter', title: 'Clear Filter' } });
    }
    return nodes;
  }

  private async entries(parent: Node, id: string, folder: string): Promise<Node[]> {
    let index = this.indexes.get(id);
    if (!index) {
      try {
        index = indexEntries((await this.catalog.manifest(id)).entries);
      } catch (err) {
        return [{ type: 'hint', label: describeError(err), icon: 'error' }];
      }
      this.indexes.set(id, index);
      while (this.indexes.size > 4) this.indexes.delete(this.indexes.keys().next().value!);
    }
    const children = index.children(folder);
    const nodes: Node[] = children.slice(0, maxChildren).map((entry) => ({ type: 'entry', archiveId: id, entry, parent }));
    if (children.length > maxChildren) nodes.push({ type: 'more', count: children.length - maxChildren });
    return nodes;
  }
}
