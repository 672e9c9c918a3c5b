/**
 * `glacierBackup.retention` after a scheduled backup: prune (core/jobs/prune.ts, restic's
 * `forget` rules, deferring what Deep Archive's 180 days make pointless to delete) applied to the
 * source set of the folder just backed up, and to nothing else. The first time a policy would
 * delete something, a preview (what goes, what it saves, what is deferred and until when) is
 * offered and nothing is deleted until the user applies it; once applied, that policy prunes
 * without asking. A changed policy asks again. Nothing here is modal.
 */
import * as os from 'node:os';
import * as vscode from 'vscode';
import { describeError } from '../../core/errors';
import { executePrune, pruneTotals, type PruneSet } from '../../core/jobs/prune';
import { listSnapshots } from '../../core/jobs/snapshots';
import { formatBytes } from '../../core/model/format';
import { dollars } from '../../core/model/pricing';
import type { RetentionPolicy } from '../../core/model/retention';
import { folderPlan, previewText, retentionPolicy } from './retentionPlan';
import type { Services } from '../commands/services';
import type { Settings } from '../settings';
import { section } from '../settings';

export type AfterBackup = (folder: vscode.WorkspaceFolder, settings: Settings) => Promise<void>;

const confirmedKey = 'glacierBackup.retentionConfirmed';

export function afterScheduledBackup(s: Services, memento: vscode.Memento): AfterBackup {
  return async (folder, settings) => {
    let policy: RetentionPolicy | undefined;
    try {
      policy = retentionPolicy(vscode.workspace.getConfiguration(section).get<Record<string, unknown>>('retention'));
    } catch (err) {
      s.log.error(`retention: glacierBackup.retention: ${describeError(err)}; nothing pruned`);
      return;
    }
    if (!policy) return;
    const dec = (await s.connection.decryption(settings, false, ''))?.dec;
    if (!dec) {
      s.log.warn('retention: the manifests cannot be read without the passphrase or private key; nothing pruned');
      return;
    }
    const { store } = await s.connection.connect(false);
    const listing = await listSnapshots(store, dec);
    const plan = folderPlan(listing.snapshots, os.hostname(), folder.uri.fsPath, policy, new Date());
    const totals = pruneTotals(plan);
    if (totals.delete === 0) {
      if (totals.defer) s.log.info(`retention: ${folder.name}: ${totals.defer} archive(s) deferred until their minimum storage duration ends`);
      return;
    }
    const stamp = JSON.stringify(policy);
    if (memento.get<string>(confirmedKey) === stamp) {
      await prune(s, store, plan, folder.name);
      return;
    }
    // First time for this policy: a preview, and nothing deleted unless applied.
    const saves = `${formatBytes(totals.bytes)}, about ${dollars(totals.monthly)} per month`;
    const deferred = totals.defer ? `; ${totals.defer} more wait for their minimum storage duration` : '';
    void vscode.window
      .showInformationMessage(`Glacier Backup: the retention policy would delete ${totals.delete} old archive(s) of ${folder.name} (${saves})${deferred}.`, 'Preview', 'Apply')
      .then(async (pick) => {
        if (pick === 'Preview') {
          const doc = await vscode.workspace.openTextDocument({ language: 'markdown', content: previewText(folder.name, plan) });
          await vscode.window.showTextDocument(doc, { preview: true });
          const again = await vscode.window.showInformationMessage(`Glacier Backup: apply the retention policy to ${folder.name}? From now on it prunes after each scheduled backup without asking.`, 'Apply');
          if (again !== 'Apply') return;
        } else if (pick !== 'Apply') return;
        await memento.update(confirmedKey, stamp);
        await prune(s, store, plan, folder.name);
      });
  };
}

async function prune(s: Services, store: Parameters<typeof executePrune>[1]['store'], plan: PruneSet[], name: string): Promise<void> {
  await s.jobs.run(`Prune ${name}`, async (job) => {
    const result = await executePrune(plan, { store, stateDir: s.stateDir, pending: s.poller.store, signal: job.signal, onDeleted: (i) => s.log.info(`retention: deleted ${i.snapshot.id}`) });
    for (const f of result.failed) s.log.error(`retention: ${f.id}: ${f.message}`);
    s.log.info(`retention: ${name}: ${result.deleted.length} deleted, ${result.failed.length} failed`);
  });
  await s.catalog.refresh();
}
