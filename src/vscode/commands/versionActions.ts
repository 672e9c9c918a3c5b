/**
 * What can be done with one version of a file: compare it with the current file, open it
 * read-only, or restore it into a new folder. Each needs the version's bytes: an archive in Deep
 * Archive is restored first (the Restore flow, with its time and cost, remembers the file so the
 * ready notification offers just it); a readable archive is read at once, only that path of it.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { fetchVersion } from '../../core/jobs/fileVersions';
import { archiveStatus } from '../../core/jobs/restoreRequest';
import type { FileVersion } from '../../core/model/fileVersions';
import { shortDate } from '../viewModel';
import { pickDestination } from './destination';
import { restoreFlow } from './restoreFlow';
import type { Services } from './services';

export type VersionAction = 'compare' | 'open' | 'restore';

export async function runVersionAction(s: Services, v: FileVersion, action: VersionAction, current: string | undefined): Promise<void> {
  if (!(await readable(s, v))) return;
  if (action === 'restore') return restoreVersion(s, v, current);
  const copy = (await s.versions.get(v)) ?? (await download(s, v, s.versions.folder));
  if (!copy) return;
  if (action === 'open') return openCopy(s, v, copy);
  await compare(s, v, copy, current!);
}

/** True when the archive holding the version can be read now; otherwise the Restore flow runs and this is false. */
async function readable(s: Services, v: FileVersion): Promise<boolean> {
  const { store } = await s.connection.connect();
  const status = await archiveStatus(store, v.holder.archive);
  s.catalog.setState(v.holder.archive, status.glacier);
  if (status.glacier.state === 'available' || status.glacier.state === 'restored') return true;
  // The flow asks for tier and days (an ongoing restore is watched instead) and remembers the file.
  const next = await restoreFlow(s, v.holder.archive, v.holder.path);
  return next !== undefined;
}

/** Downloads only the version's path into a new folder under `dest`; undefined when cancelled. */
async function download(s: Services, v: FileVersion, dest: string): Promise<string | undefined> {
  const { store, settings } = await s.connection.connect();
  const opened = await s.connection.decryption(settings, true, `Enter the passphrase of ${v.label}.`);
  const name = path.posix.basename(v.archivePath);
  const got = await s.jobs.run(`Download ${name} (${shortDate(v.time)})`, (job) =>
    fetchVersion({
      store,
      version: v,
      decryption: opened!.dec,
      dest,
      ...(dest === s.versions.folder ? { folderName: v.snapshot } : {}),
      signal: job.signal,
      onProgress: (p) => job.report(p.bytesDownloaded, p.bytesTotal),
      onResume: (offset) => s.log.info(`${v.holder.archive}: connection dropped; resuming at byte ${offset}`),
    }),
  );
  if (!got) return undefined;
  if (opened!.fresh) await s.connection.secrets.rememberPassphrase(opened!.fresh);
  s.versions.set(v, got.path);
  s.log.info(`downloaded ${v.archivePath} of ${v.snapshot} into ${got.path}`);
  return got.path;
}

function versionUri(s: Services, v: FileVersion): vscode.Uri {
  return s.versions.uri(v, shortDate(v.time).replace(/[ :]/g, (c) => (c === ' ' ? '_' : '-')));
}

/** A NUL in the first 8 KiB, as git decides: such a file is not shown as text. */
async function looksBinary(file: string): Promise<boolean> {
  const head = Buffer.alloc(8192);
  const fh = await fs.open(file, 'r');
  const { bytesRead } = await fh.read(head, 0, head.length, 0).finally(() => fh.close());
  return head.subarray(0, bytesRead).includes(0);
}

/** A text file opens as a read-only document; a binary one in VS Code's own viewer for it. */
async function openCopy(s: Services, v: FileVersion, copy: string): Promise<void> {
  if (await looksBinary(copy)) await vscode.commands.executeCommand('vscode.open', vscode.Uri.file(copy));
  // Its own document, not the diff's left side: VS Code would only reveal a diff editor showing that one.
  else await vscode.window.showTextDocument(versionUri(s, v).with({ fragment: 'open' }), { preview: true });
}

async function compare(s: Services, v: FileVersion, copy: string, current: string): Promise<void> {
  const name = path.basename(current);
  // A binary version is compared as the downloaded file (VS Code's binary diff), a text one read-only.
  const left = (await looksBinary(copy)) ? vscode.Uri.file(copy) : versionUri(s, v);
  await vscode.commands.executeCommand('vscode.diff', left, vscode.Uri.file(current), `${name} (${shortDate(v.time)}) ↔ current`);
}

/** Restore This File…: into a new folder (in the workspace folder, or one the user picks); the current file is never touched. */
async function restoreVersion(s: Services, v: FileVersion, current: string | undefined): Promise<void> {
  const name = path.posix.basename(v.archivePath);
  const near = (current && vscode.workspace.getWorkspaceFolder(vscode.Uri.file(current))) || vscode.workspace.workspaceFolders?.[0];
  const dest = await pickDestination(`Restore ${name} (${shortDate(v.time)}) into…`, near);
  if (!dest) return;
  const restored = await download(s, v, dest);
  if (!restored) return;
  await s.wanted.forget(v.holder.archive);
  const uri = vscode.Uri.file(restored);
  if (vscode.workspace.getWorkspaceFolder(uri)) await vscode.commands.executeCommand('revealInExplorer', uri);
  const file = v.entry.type === 'file';
  const next = await vscode.window.showInformationMessage(
    `Glacier Backup: restored ${name} as of ${shortDate(v.time)} into ${path.relative(dest, restored)}; ${file ? 'its checksum' : "every file's checksum"} matched${current ? ' and the current one is untouched' : ''}.`,
    ...(file && current ? ['Compare with Current'] : []),
    ...(file ? ['Open'] : []),
  );
  if (next === 'Compare with Current') await compare(s, v, restored, current!);
  else if (next === 'Open') await openCopy(s, v, restored);
}
