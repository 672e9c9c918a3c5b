/** The Delete… command. */
import * as vscode from 'vscode';
import { deleteArchive, deletionCostNote, findArchive, keepsOldVersions } from '../../core/jobs/delete';
import { deleteRefusal, dependentsOf, unreadableNote } from '../../core/jobs/dependents';
import { formatBytes } from '../../core/model/format';
import type { Services } from './services';

/**
 * Delete…: the core delete job, after a confirmation that states the early-deletion fee of the
 * archive as the store reports it now (as the CLI's `delete` does); says when a versioned bucket
 * keeps the data as old versions. Refused, with the CLI's line, while later snapshots of its
 * chain need the archive (jobs/dependents.ts).
 */
export async function deleteFlow(s: Services, id: string): Promise<void> {
  const label = s.catalog.get(id)?.summary?.label ?? id;
  const { store, settings } = await s.connection.connect();
  const { archive } = await findArchive(store, id);
  const open = async () => (await s.connection.decryption(settings, true, 'Enter the passphrase: deleting reads which later snapshots need this archive.'))?.dec;
  const deps = await dependentsOf(store, id, open);
  const refusal = deleteRefusal(id, deps);
  if (refusal) throw refusal;
  const unread = unreadableNote(id, deps);
  if (unread) s.log.info(`delete ${id}: ${unread}`);
  const cost = archive ? deletionCostNote(archive, new Date()) : 'its archive object is already gone; only the manifest is left';
  const note = unread ? `${cost}.\n\nNote: ${unread}` : cost;
  const sure = await vscode.window.showWarningMessage(
    `Delete archive "${label}"${archive ? ` (${formatBytes(archive.size)})` : ''}? This cannot be undone.`,
    { modal: true, detail: `${note[0]!.toUpperCase()}${note.slice(1)}.\n\nId: ${id}` },
    'Delete',
  );
  if (sure !== 'Delete') return;
  await deleteArchive({ store, id, stateDir: s.stateDir, pending: s.poller.store });
  const markers = await keepsOldVersions(store);
  await s.poller.remove(id).catch(() => undefined);
  s.catalog.forgetArchive(id);
  // A versioned (or Object-Locked) bucket only hides the objects behind delete markers.
  const kept = markers ? ' The bucket keeps versions: its data stays as an old version, billed until a lifecycle rule expires it.' : '';
  s.log.info(`deleted archive ${id}${markers ? ' (delete markers: old versions stay)' : ''}`);
  void vscode.window.showInformationMessage(`Glacier Backup: deleted ${label}.${kept}`);
}
