/** The Restore… (and Request Restore…) command: ask Glacier for a temporary copy of an archive. */
import * as vscode from 'vscode';
import { restoreTime } from '../../core/model/restoreTimes';
import { archivesToRestore, archiveStatus, requestRestore, restoreTiers, type RestoreTier } from '../../core/jobs/restoreRequest';
import { formatBytes } from '../../core/model/format';
import { dollars, monthlyCost, retrievalCost } from '../viewModel';
import { ensureListed, pickArchiveOrFile } from './archivePicks';
import type { Services } from './services';

/**
 * Restore…: pick an archive (or a file inside one), then tier and days; the poller takes it from
 * there. An archive that needs no restore is offered for download instead: the result is then the
 * archive (and file) to download, which retrieve.ts hands to the download flow.
 */
export async function restoreFlow(s: Services, givenId?: string, givenFile?: string): Promise<{ id: string; file?: string } | undefined> {
  await ensureListed(s);
  const picked = givenId ? { id: givenId, ...(givenFile ? { file: givenFile } : {}) } : await pickArchiveOrFile(s);
  if (!picked) return undefined;
  const info = s.catalog.get(picked.id);
  const { store, settings } = await s.connection.connect();
  const status = await archiveStatus(store, picked.id);
  const label = info?.summary?.label ?? picked.id;
  if (status.glacier.state === 'available') {
    const go = await vscode.window.showInformationMessage(`Glacier Backup: ${label} is in ${status.storageClass} and needs no restore.`, 'Download…');
    return go ? picked : undefined;
  }
  if (status.glacier.state === 'restoring') {
    await s.poller.add(picked.id, { tier: settings.restoreTier, days: settings.restoreDays });
    await s.wantedFiles.remember(picked.id, picked.file);
    void vscode.window.showInformationMessage(`Glacier Backup: a restore of ${label} is already in progress; you will be told when it is ready.`);
    return undefined;
  }
  const tiers = restoreTiers.filter((t) => restoreTime(status.storageClass, t));
  const tierPick = await vscode.window.showQuickPick(
    tiers.map((t) => ({
      label: t,
      description: restoreTime(status.storageClass, t)?.text,
      detail: `About ${dollars(retrievalCost(status.size, status.storageClass, t))} to retrieve ${formatBytes(status.size)}${t === settings.restoreTier ? ' · your default' : ''}`,
      picked: t === settings.restoreTier,
      tier: t as RestoreTier,
    })).sort((a, b) => Number(b.picked) - Number(a.picked)),
    { title: `Restore ${label}: how fast?`, placeHolder: 'Bulk is cheapest; Standard is faster' },
  );
  if (!tierPick) return undefined;
  const stdDay = (monthlyCost(status.size, 'STANDARD') / 30);
  const daysText = await vscode.window.showInputBox({
    title: `Restore ${label}: for how many days?`,
    prompt: `The restored copy can be downloaded for this many days; it costs about ${dollars(stdDay)} per day while it exists.`,
    value: String(settings.restoreDays),
    validateInput: (v) => (/^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 365 ? undefined : 'A whole number of days from 1 to 365'),
  });
  if (daysText === undefined) return undefined;
  const days = Number(daysText);
  const result = await requestRestore(store, picked.id, { tier: tierPick.tier, days });
  await s.poller.add(picked.id, { tier: tierPick.tier, days, storageClass: status.storageClass });
  await s.wantedFiles.remember(picked.id, picked.file);
  s.catalog.setState(picked.id, result.status.glacier);
  s.log.info(`restore of ${picked.id} (${tierPick.tier}, ${days} days): ${result.outcome}`);
  // An increment reads archives of its chain too: each is requested alike (read from its manifest, when the passphrase or key is at hand).
  const dec = await s.connection.decryption(settings, false, '').catch(() => undefined);
  for (const other of (await archivesToRestore(store, picked.id, dec?.dec).catch(() => [picked.id])).filter((x) => x !== picked.id)) {
    const r = await requestRestore(store, other, { tier: tierPick.tier, days });
    await s.poller.add(other, { tier: tierPick.tier, days });
    s.catalog.setState(other, r.status.glacier);
    s.log.info(`restore of ${other}, which ${picked.id} reads (${tierPick.tier}, ${days} days): ${r.outcome}`);
  }
  const when = restoreTime(status.storageClass, tierPick.tier)?.text ?? '';
  const what = result.outcome === 'extended' ? `Extended the restored copy of ${label} to ${days} days.` : `Restore of ${label} requested (${tierPick.tier}: ready ${when}).`;
  void vscode.window.showInformationMessage(`Glacier Backup: ${what} You will be told when it can be downloaded.`);
  void s.poller.tick();
  return undefined;
}
