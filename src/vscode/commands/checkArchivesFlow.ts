/** The "Check Archives (and Repair)…" command: the check job (core/jobs/check.ts) with a confirmation before Repair. */
import * as vscode from 'vscode';
import type { Decryption, Encryption } from '../../core/jobs/keys';
import { GlacierError } from '../../core/errors';
import { check, defaultCheckAge, type CheckReport } from '../../core/jobs/check';
import type { Services } from './services';

/**
 * Check Archives: the catalog against the bucket (orphans, unfinished uploads, stale local
 * records), with Repair. As `check --repair` in the CLI: an archive without a manifest gets one
 * rebuilt from it when it can be read now and is otherwise kept; deleting such archives is a
 * separate choice whose confirmation says their data goes with them.
 */
export async function checkArchivesFlow(s: Services): Promise<void> {
  const { store, settings } = await s.connection.connect();
  const rebuild = async (): Promise<{ decryption: Decryption; encryption: Encryption } | undefined> => {
    const opened = await s.connection.decryption(settings, true, 'Enter the passphrase to rebuild the manifests of archives that lost theirs.');
    if (!opened) return undefined;
    const encryption: Encryption = opened.dec.passphrase !== undefined ? { mode: 'passphrase', passphrase: opened.dec.passphrase } : await s.connection.encryption(settings);
    return { decryption: opened.dec, encryption };
  };
  const run = (repair: boolean, deleteOrphanArchives = false): Thenable<CheckReport> =>
    vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Glacier Backup: ${repair ? 'repairing' : 'checking'} ${store.name}…` }, () =>
      check({
        store,
        olderThan: defaultCheckAge,
        pending: s.poller.store,
        stateDir: s.stateDir,
        repair,
        deleteOrphanArchives,
        rebuild,
        onRepair: (p) => s.log.info(`repairing: ${p.repair}`),
      }),
    );
  const report = await run(false);
  for (const p of report.problems) s.log.warn(`check: ${p.kind} ${p.id ?? p.key ?? ''}: ${p.message}`);
  for (const n of report.notes) s.log.info(`check: note: ${n}`);
  for (const u of report.unchecked) s.log.warn(`check: not checked: ${u}`);
  const young = report.inProgress.uploads + report.inProgress.archivesWithoutManifest;
  const youngNote = young ? ` ${young} upload${young === 1 ? '' : 's'} younger than a day left alone (a backup may be running).` : '';
  const notMade = report.unchecked.length ? `\n\nNot checked with these credentials:\n${report.unchecked.map((u) => `• ${u}`).join('\n')}` : '';
  if (report.problems.length === 0) {
    if (notMade) {
      void vscode.window.showWarningMessage(`Glacier Backup: ${report.archives} archives, no problem found, but not every check could be made.`, { modal: true, detail: notMade.trim() });
      return;
    }
    void vscode.window.showInformationMessage(`Glacier Backup: ${report.archives} archives, all consistent.${youngNote}`);
    return;
  }
  const orphans = report.problems.filter((p) => p.kind === 'archive-without-manifest' && p.orphan !== 'undelete').length;
  const list = report.problems.map((p) => `• ${p.message} → ${p.orphan === 'keep' ? 'kept; ' : ''}${p.repair}`).join('\n');
  const deleteChoice = `Repair and Delete ${orphans === 1 ? 'the Archive' : `${orphans} Archives`} Without a Manifest`;
  const pick = await vscode.window.showWarningMessage(
    `Glacier Backup: ${report.problems.length} problem${report.problems.length === 1 ? '' : 's'} in ${store.name}.${youngNote}`,
    {
      modal: true,
      detail: orphans
        ? `${list}\n\n"${deleteChoice}" deletes ${orphans === 1 ? 'that archive' : 'those archives'} instead of rebuilding or keeping ${orphans === 1 ? 'it' : 'them'}: all the data in ${orphans === 1 ? 'it is' : 'them is'} gone for good.${notMade}`
        : list + notMade,
    },
    'Repair',
    ...(orphans ? [deleteChoice] : []),
  );
  if (pick !== 'Repair' && pick !== deleteChoice) return;
  const repaired = await run(true, pick === deleteChoice);
  const failed = repaired.problems.filter((p) => !p.repaired);
  await s.catalog.refresh();
  if (failed.length) {
    const first = failed[0]!;
    throw new GlacierError('s3', `${failed.length} of ${repaired.problems.length} problems could not be repaired: ${first.repairError ?? `${first.message}; ${first.repair}`}`);
  }
  void vscode.window.showInformationMessage(`Glacier Backup: repaired ${repaired.problems.length} problem${repaired.problems.length === 1 ? '' : 's'}; the catalog is consistent.`);
}
