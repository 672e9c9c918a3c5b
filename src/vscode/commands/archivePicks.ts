/** The quick picks that choose an archive (or a file inside one) for a command. */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { GlacierError } from '../../core/errors';
import type { ManifestEntry } from '../../core/model/entry';
import { formatBytes } from '../../core/model/format';
import { relativeTime } from '../../core/model/fileVersions';
import { searchFiles, shortDate, stateText, type ArchiveInfo } from '../viewModel';
import type { Services } from './services';

/** Archives whose data can be read now: restored from Glacier, or in a class that needs no restore. */
export function isReadable(a: ArchiveInfo): boolean {
  return a.state?.state === 'restored' || a.state?.state === 'available';
}

type ArchivePick = vscode.QuickPickItem & { id: string; file?: string };

function archiveItem(a: ArchiveInfo): ArchivePick {
  return {
    id: a.id,
    label: a.summary?.label ?? a.id,
    description: [a.summary ? shortDate(a.summary.created) : undefined, a.size === undefined ? undefined : formatBytes(a.size), stateText(a)].filter(Boolean).join(' · '),
    detail: a.summary ? `${a.summary.fileCount} files from ${a.summary.sources.join(', ')}` : a.id,
  };
}

export async function ensureListed(s: Services): Promise<void> {
  if (s.catalog.archives.length === 0 || s.catalog.status.kind !== 'ready') await s.catalog.refresh();
  if (s.catalog.status.kind === 'error') throw new GlacierError('s3', s.catalog.status.message);
  if (s.catalog.status.kind === 'not-configured') throw new GlacierError('config', 'no bucket configured: run "Glacier Backup: Set up…"');
}

export async function pickArchive(s: Services, title: string, filter: (a: ArchiveInfo) => boolean = () => true): Promise<string | undefined> {
  await ensureListed(s);
  const items = s.catalog.archives.filter((a) => !a.problem && filter(a)).map(archiveItem);
  if (items.length === 0) {
    void vscode.window.showInformationMessage('Glacier Backup: no archive fits.');
    return undefined;
  }
  return (await vscode.window.showQuickPick(items, { title, matchOnDescription: true, matchOnDetail: true }))?.id;
}

/** The archive quick pick, which also finds files by name in the manifests it can read. */
export async function pickArchiveOrFile(s: Services): Promise<{ id: string; file?: string } | undefined> {
  const archives = s.catalog.archives.filter((a) => !a.problem).map(archiveItem);
  if (archives.length === 0) {
    void vscode.window.showInformationMessage('Glacier Backup: no archives yet.');
    return undefined;
  }
  const qp = vscode.window.createQuickPick<ArchivePick>();
  qp.title = 'Glacier Backup: Restore…';
  qp.placeholder = 'Pick an archive, or type a file name to find the archives that hold it';
  qp.matchOnDescription = true;
  qp.matchOnDetail = true;
  qp.items = archives;
  const loaded: { id: string; label: string; entries: readonly ManifestEntry[] }[] = [];
  let closed = false;
  // The same file in several archives: the archive's date tells the hits apart.
  const hitDate = (id: string): string => {
    const created = s.catalog.get(id)?.summary?.created;
    return created ? ` · ${shortDate(created)} (${relativeTime(new Date(created))})` : '';
  };
  const update = (): void => {
    const hits = searchFiles(loaded, qp.value).map(
      (h): ArchivePick => ({ id: h.id, file: h.path, label: `$(file) ${path.posix.basename(h.path)}`, description: h.path, detail: `in ${h.label}${hitDate(h.id)}`, alwaysShow: true }),
    );
    qp.items = [...archives, ...hits];
  };
  qp.onDidChangeValue(update);
  // Read the manifests in the background (newest first) so file names can be searched.
  const opened = await s.connection.decryption(s.connection.settings(), false, '');
  if (opened) {
    qp.busy = true;
    void (async () => {
      for (const a of s.catalog.archives.filter((x) => !x.problem && x.summary).slice(0, 50)) {
        if (closed) break;
        try {
          const m = await s.catalog.manifest(a.id);
          loaded.push({ id: m.id, label: m.label, entries: m.entries });
          if (qp.value) update();
        } catch {
          // An unreadable manifest is shown in the tree already.
        }
      }
      qp.busy = false;
    })();
  }
  const choice = await new Promise<ArchivePick | undefined>((resolve) => {
    qp.onDidAccept(() => resolve(qp.selectedItems[0]));
    qp.onDidHide(() => resolve(undefined));
    qp.show();
  });
  closed = true;
  qp.dispose();
  return choice ? { id: choice.id, ...(choice.file ? { file: choice.file } : {}) } : undefined;
}
