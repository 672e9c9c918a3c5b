/**
 * Show Backed-up Versions (Explorer, editor) and the actions on one version of a file: Compare
 * with Current, Open (read-only) and Restore This File…. The snapshots that hold the path are found
 * by the engine (core/jobs/fileVersions.ts); an archive still in Deep Archive is restored first,
 * through the usual Restore flow with its time and cost.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import * as vscode from 'vscode';
import { GlacierError } from '../../core/errors';
import { findFileVersions, manifestReader } from '../../core/jobs/fileVersions';
import { formatBytes } from '../../core/model/format';
import { localPathOf, relativeTime, versionOfEntry, type FileVersion } from '../../core/model/fileVersions';
import type { Node } from '../archivesView';
import { archiveKind, shortDate } from '../viewModel';
import { ensureListed } from './archivePicks';
import type { Services } from './services';
import { runVersionAction, type VersionAction } from './versionActions';

/** What a version's archive needs before its bytes can be read, in the user's words. */
function readiness(s: Services, v: FileVersion): string {
  const a = s.catalog.get(v.holder.archive);
  switch (a ? archiveKind(a) : 'unknown') {
    case 'restored':
    case 'available':
      return 'ready';
    case 'restoring':
      return 'being restored';
    case 'archived':
      return 'in Deep Archive: restore first';
    default:
      return 'state unknown';
  }
}

type VersionPick = vscode.QuickPickItem & { version: FileVersion };

function versionItem(s: Services, v: FileVersion): VersionPick {
  const what = v.entry.type === 'file' ? formatBytes(v.entry.size) : v.entry.type;
  return {
    version: v,
    label: `$(history) ${relativeTime(v.time)}`,
    description: `${shortDate(v.time)} · ${what} · ${readiness(s, v)}`,
    detail: `${v.label}${v.host === os.hostname() ? '' : ` on ${v.host}`}${v.changed ? '' : ' · same content as the version before'}`,
  };
}

/** Explorer / editor: the snapshots that hold this file or folder, newest first; then what to do with the one picked. */
export async function showVersions(s: Services, uri?: vscode.Uri): Promise<void> {
  const target = uri instanceof vscode.Uri ? uri : vscode.window.activeTextEditor?.document.uri;
  if (!target || target.scheme !== 'file') throw new GlacierError('usage', 'Show Backed-up Versions works on a file or folder on this machine: right-click one in the Explorer');
  const name = path.basename(target.fsPath);
  await ensureListed(s);
  const { store, settings } = await s.connection.connect();
  const opened = await s.connection.decryption(settings, true, `Enter the passphrase to look for backed-up versions of ${name}.`);
  const ac = new AbortController();
  let unreadable = 0;
  const versions = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Glacier Backup: looking for versions of ${name}`, cancellable: true },
    async (progress, token) => {
      token.onCancellationRequested(() => ac.abort());
      let last = 0;
      try {
        return await findFileVersions({
          archives: s.catalog.archives.filter((a) => !a.problem).map((a) => ({ id: a.id, ...(a.summary ? { sources: a.summary.sources } : {}) })),
          localPath: target.fsPath,
          manifest: manifestReader(store, opened!.dec, (id) => s.catalog.loadedManifests().find((m) => m.id === id), ac.signal),
          signal: ac.signal,
          onUnreadable: (id, err) => {
            unreadable++;
            s.log.warn(`versions of ${target.fsPath}: cannot read the manifest of ${id}: ${err instanceof Error ? err.message : String(err)}`);
          },
          onProgress: (done, total) => {
            const pct = (done / total) * 100;
            progress.report({ increment: pct - last, message: `${done} of ${total} archives` });
            last = pct;
          },
        });
      } catch (err) {
        if (ac.signal.aborted) throw new GlacierError('cancelled', 'cancelled');
        throw err;
      }
    },
  );
  if (opened!.fresh && unreadable === 0) await s.connection.secrets.rememberPassphrase(opened!.fresh);
  const note = unreadable ? ` (${unreadable} archive${unreadable === 1 ? '' : 's'} could not be read: see the log)` : '';
  if (versions.length === 0) {
    void vscode.window.showInformationMessage(`Glacier Backup: no backup holds ${name}${note}.`);
    return;
  }
  const pick = await vscode.window.showQuickPick(
    versions.map((v) => versionItem(s, v)),
    { title: `Backed-up versions of ${name}: ${versions.length}${note}`, placeHolder: 'Pick a version to compare, open or restore it', matchOnDescription: true, matchOnDetail: true },
  );
  if (!pick) return;
  await versionMenu(s, pick.version, target.fsPath);
}

/** The actions on one version; `current` is the file on this machine it is a version of, when there is one. */
async function versionMenu(s: Services, v: FileVersion, current: string | undefined): Promise<void> {
  const file = v.entry.type === 'file';
  const items: (vscode.QuickPickItem & { action: VersionAction })[] = [
    ...(file && current ? [{ label: '$(diff) Compare with Current', action: 'compare' as const, description: 'in the diff editor' }] : []),
    ...(file ? [{ label: '$(go-to-file) Open', action: 'open' as const, description: 'read-only' }] : []),
    { label: `$(cloud-download) Restore This ${file ? 'File' : 'Folder'}…`, action: 'restore', description: 'into a new folder; nothing is overwritten' },
  ];
  const ready = readiness(s, v);
  const pick = await vscode.window.showQuickPick(items, {
    title: `${path.posix.basename(v.archivePath)} · ${shortDate(v.time)} (${relativeTime(v.time)})`,
    placeHolder: ready === 'ready' ? 'What to do with this version?' : `This version's archive is ${ready}; you see the time and cost before anything is requested`,
  });
  if (pick) await runVersionAction(s, v, pick.action, current);
}

/** The version a file node of the Archives tree is, and the file on this machine it was saved from (if it is still there). */
export async function versionOfNode(s: Services, node: Node | undefined): Promise<{ version: FileVersion; current?: string } | undefined> {
  if (node?.type !== 'entry') return undefined;
  const m = await s.catalog.manifest(node.archiveId);
  const version = versionOfEntry(m, node.entry);
  const local = m.host === os.hostname() ? localPathOf(m.sources, node.entry.path) : undefined;
  const exists = local !== undefined && (await fs.stat(local).then((st) => st.isFile() === (node.entry.type === 'file'), () => false));
  return { version, ...(exists ? { current: local } : {}) };
}

/** Clicking a file in the Archives tree: the same actions as on a version. */
export async function entryMenu(s: Services, node: Node | undefined): Promise<void> {
  const got = await versionOfNode(s, node);
  if (got) await versionMenu(s, got.version, got.current);
}

/** One action from a file node's context menu. */
export async function entryAction(s: Services, node: Node | undefined, action: VersionAction): Promise<void> {
  const got = await versionOfNode(s, node);
  if (!got) return;
  if (action === 'compare' && !got.current) throw new GlacierError('not-found', `${got.version.archivePath} is not on this machine any more: use Open or Restore This File…`);
  await runVersionAction(s, got.version, action, got.current);
}
