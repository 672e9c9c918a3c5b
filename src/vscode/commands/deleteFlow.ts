/** The Delete… command. */
import * as vscode from 'vscode';
import { deleteArchive, keepsOldVersions } from '../../core/jobs/delete';
import { formatBytes } from '../../core/model/format';
import { dollars, earlyDeletionFee, prices } from '../viewModel';
import type { Services } from './services';

/**
 * Delete…: the core delete job, after a confirmation that states the early-deletion fee; says
 * when a versioned bucket keeps the data as old versions.
 */
export async function deleteFlow(s: Services, id: string): Promise<void> {
  const info = s.catalog.get(id);
  const label = info?.summary?.label ?? id;
  const size = info?.size ?? 0;
  const cls = info?.storageClass ?? 'DEEP_ARCHIVE';
  const fee = earlyDeletionFee(size, cls, info?.lastModified);
  const feeText = fee > 0 ? `Deleting it now costs an early-deletion fee of about ${dollars(fee)} (${cls} bills at least ${prices.minimumDays[cls]} days).` : 'No early-deletion fee applies.';
  const sure = await vscode.window.showWarningMessage(
    `Delete archive "${label}" (${formatBytes(size)})? This cannot be undone.`,
    { modal: true, detail: `${feeText}\n\nId: ${id}` },
    'Delete',
  );
  if (sure !== 'Delete') return;
  const { store } = await s.connection.connect();
  await deleteArchive({ store, id, stateDir: s.stateDir, pending: s.poller.store });
  const markers = await keepsOldVersions(store);
  await s.poller.remove(id).catch(() => undefined);
  s.catalog.forgetArchive(id);
  // A versioned (or Object-Locked) bucket only hides the objects behind delete markers.
  const kept = markers ? ' The bucket keeps versions: its data stays as an old version, billed until a lifecycle rule expires it.' : '';
  s.log.info(`deleted archive ${id}${markers ? ' (delete markers: old versions stay)' : ''}`);
  void vscode.window.showInformationMessage(`Glacier Backup: deleted ${label}.${kept}`);
}
