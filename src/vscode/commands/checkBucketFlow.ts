/** The Check Bucket command (Check Folder for a folder store). */
import * as vscode from 'vscode';
import { bucketCheck, checkStore, type BucketReport } from '../../core/jobs/storeCheck';
import { recordCheck } from '../contextKeys';
import type { Services } from './services';

/** Check Bucket: a report of access, versioning and lifecycle rules; offers the rule that aborts incomplete uploads. */
export async function checkBucketFlow(s: Services): Promise<void> {
  const { store, location } = await s.connection.connect();
  if (!store.checkBucket) {
    // A folder has no report: what matters is that it is there and takes files.
    const result = await checkStore(store);
    recordCheck(result);
    if (result.ok) void vscode.window.showInformationMessage(`Glacier Backup: ${result.message}.`);
    else void vscode.window.showErrorMessage(`Glacier Backup: ${result.message}`);
    return;
  }
  const check = (): Thenable<{ report: BucketReport; markdown: string }> =>
    vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Glacier Backup: checking the bucket…' }, () => bucketCheck(store));
  const { report, markdown } = await check();
  recordCheck(report.canList ? { ok: true, message: '' } : { ok: false, problem: 'refused', message: '', canCreate: false });
  // A read-only document, rendered: shown again (after Add Rule), the open preview updates.
  const name = `Bucket ${location.kind === 's3' ? location.bucket : store.name}.md`;
  await s.reports.showMarkdown(name, markdown);
  s.log.info(`bucket check: list=${report.canList} versioning=${report.versioning} abortDays=${report.abortIncompleteDays ?? 'none'}`);
  if (report.abortIncompleteDays === undefined && !report.lifecycleUnknown) {
    const add = await vscode.window.showWarningMessage(
      'Glacier Backup: no lifecycle rule aborts incomplete multipart uploads in this bucket. Add one (after 7 days, for this prefix only)?',
      'Add Rule',
    );
    if (add) {
      await store.addAbortRule?.(7);
      s.reports.set(name, (await check()).markdown);
      void vscode.window.showInformationMessage('Glacier Backup: lifecycle rule added: incomplete uploads are aborted after 7 days.');
    }
  } else {
    void vscode.window.showInformationMessage(`Glacier Backup: bucket ${report.bucket} is ready${report.canList ? '' : ' (but listing failed: see the report)'}.`);
  }
}
