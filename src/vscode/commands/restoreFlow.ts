/** The Restore… (and Request Restore…) command: ask Glacier for a temporary copy of a snapshot, or of some of its files. */
import * as vscode from 'vscode';
import { restoreTime } from '../../core/model/restoreTimes';
import { archivesToRestore, archiveStatus, planRestore, requestRestore, type RestorePlan } from '../../core/jobs/restoreRequest';
import type { ArchiveStore } from '../../core/jobs/openStore';
import type { Settings } from '../settings';
import { openWithPassphrase } from '../passphraseRetry';
import { ensureListed, pickArchiveOrFile } from './archivePicks';
import { onlyText } from '../wantedRestores';
import { askDays, pickScope, pickTier } from './restorePicks';
import type { Services } from './services';

/**
 * Restore…: pick a snapshot (or a file inside one), the whole of it or some paths, then tier and
 * days, shown with the plan: only the archives those paths read are requested, and only those not
 * back already; the watcher offers the download (of just those paths) once all are ready. A
 * snapshot that needs no restore, or whose archives are all restored already, is offered for
 * download instead: the result is then the snapshot (and paths) to download, which retrieve.ts
 * hands to the download flow.
 */
export async function restoreFlow(s: Services, givenId?: string, givenFile?: string): Promise<{ id: string; paths?: string[] } | undefined> {
  await ensureListed(s);
  const picked = givenId ? { id: givenId, ...(givenFile ? { file: givenFile } : {}) } : await pickArchiveOrFile(s);
  if (!picked) return undefined;
  const { store, settings } = await s.connection.connect();
  const label = s.catalog.get(picked.id)?.summary?.label ?? picked.id;
  const own = await archiveStatus(store, picked.id);
  if (own.glacier.state === 'available') {
    const go = await vscode.window.showInformationMessage(`Glacier Backup: ${label} is in ${own.storageClass} and needs no restore.`, 'Download…');
    return go ? { id: picked.id, ...(picked.file ? { paths: [picked.file] } : {}) } : undefined;
  }
  const paths = picked.file ? [picked.file] : await pickScope(s, picked.id, label);
  if (!paths) return undefined;
  const what = paths.length ? `${label} (${onlyText(paths)})` : label;
  const archives = await snapshotArchives(s, store, settings, picked.id, label, paths);
  const plan = await planRestore(store, archives);
  for (const a of plan.archives) s.catalog.setState(a.id, a.state);
  const wanted = { ...(paths.length ? { paths } : {}), archives };
  const cold = plan.archives.filter((a) => a.state.state === 'archived');
  if (cold.length === 0) return backAlready(s, picked.id, what, plan, wanted);

  const tier = await pickTier(plan, what, settings.restoreTier);
  if (!tier) return undefined;
  const days = await askDays(what, plan.toRetrieve, settings.restoreDays);
  if (days === undefined) return undefined;
  await s.wanted.remember(picked.id, wanted);
  // The others first: the watcher may look in between, and must not take the snapshot for ready before the last is asked for.
  await watchOthers(s, plan, cold.map((a) => a.id));
  for (const a of cold) {
    const r = await requestRestore(store, a.id, { tier, days });
    await s.poller.add(a.id, { tier, days, storageClass: a.storageClass });
    s.catalog.setState(a.id, r.status.glacier);
    s.log.info(`restore of ${a.id}${a.id === picked.id ? '' : `, which ${picked.id} reads`} (${tier}, ${days} days): ${r.outcome}`);
  }
  const when = restoreTime(cold[0]!.storageClass, tier)?.text ?? '';
  const some = paths.length ? `, ${onlyText(paths)}` : '';
  void vscode.window.showInformationMessage(`Glacier Backup: Restore of ${label} requested (${tier}: ready ${when})${some}. You will be told when it can be downloaded.`);
  void s.poller.tick();
  return undefined;
}

/**
 * The archives the restore reads: for some paths, read from the manifest (asking for the
 * passphrase if none is stored); for the whole snapshot, from the manifest when it can be opened
 * without asking, else its own archive (a download then names any other it needs).
 */
async function snapshotArchives(s: Services, store: ArchiveStore, settings: Settings, id: string, label: string, paths: string[]): Promise<string[]> {
  if (paths.length) {
    const got = await openWithPassphrase(s.connection, settings, label, `Enter the passphrase to open the manifest of ${label}.`, (dec) => archivesToRestore(store, id, dec, undefined, { paths }));
    return got.value;
  }
  const dec = await s.connection.decryption(settings, false, '').catch(() => undefined);
  return archivesToRestore(store, id, dec?.dec).catch((err: unknown) => {
    s.log.warn(`the manifest of ${id} could not be read (${(err as Error).message}): only its own archive is restored`);
    return [id];
  });
}

/** Nothing to request: every archive is restored (then the download is offered) or some are on their way (then watched). */
async function backAlready(s: Services, id: string, what: string, plan: RestorePlan, wanted: { paths?: string[]; archives: string[] }): Promise<{ id: string; paths?: string[] } | undefined> {
  await s.wanted.remember(id, wanted);
  if (plan.archives.some((a) => a.state.state === 'restoring')) {
    await watchOthers(s, plan, []);
    void vscode.window.showInformationMessage(`Glacier Backup: a restore of ${what} is already in progress; you will be told when it is ready.`);
    return undefined;
  }
  const go = await vscode.window.showInformationMessage(`Glacier Backup: ${what} is restored already; nothing needs to be requested.`, 'Download…');
  return go ? { id, ...(wanted.paths ? { paths: wanted.paths } : {}) } : undefined;
}

/** Archives restored or being restored already (not requested again) are watched too, so the download is offered when all are ready. */
async function watchOthers(s: Services, plan: RestorePlan, requested: readonly string[]): Promise<void> {
  const settings = s.connection.settings();
  const watched = new Set((await s.poller.pending()).map((p) => p.id));
  for (const a of plan.archives) {
    if (requested.includes(a.id) || watched.has(a.id) || a.state.state === 'available') continue;
    await s.poller.add(a.id, { tier: settings.restoreTier, days: settings.restoreDays, storageClass: a.storageClass });
  }
}
