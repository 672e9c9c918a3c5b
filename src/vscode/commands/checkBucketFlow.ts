/** The Check Bucket command. */
import * as vscode from 'vscode';
import { GlacierError } from '../../core/errors';
import type { BucketReport } from '../../core/store/s3/bucketCheck';
import { bucketReportMarkdown } from '../../core/store/s3/bucketReport';
import type { Services } from './services';

/** Check Bucket: a report of access, versioning and lifecycle rules; offers the rule that aborts incomplete uploads. */
export async function checkBucketFlow(s: Services): Promise<void> {
  const { store, config } = await s.connection.connect();
  if (!store.checkBucket) throw new GlacierError('usage', `Check Bucket is for S3 buckets; ${store.name} is not one`);
  const check = (): Thenable<BucketReport> => vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Glacier Backup: checking the bucket…' }, () => store.checkBucket!());
  // A read-only document, rendered: shown again (after Add Rule), the open preview updates.
  const name = `Bucket ${config.bucket}.md`;
  const report = await check();
  await s.reports.showMarkdown(name, bucketReportMarkdown(report));
  s.log.info(`bucket check: list=${report.canList} versioning=${report.versioning} abortDays=${report.abortIncompleteDays ?? 'none'}`);
  if (report.abortIncompleteDays === undefined && !report.lifecycleUnknown) {
    const add = await vscode.window.showWarningMessage(
      'Glacier Backup: no lifecycle rule aborts incomplete multipart uploads in this bucket. Add one (after 7 days, for this prefix only)?',
      'Add Rule',
    );
    if (add) {
      await store.addAbortRule?.(7);
      s.reports.set(name, bucketReportMarkdown(await check()));
      void vscode.window.showInformationMessage('Glacier Backup: lifecycle rule added: incomplete uploads are aborted after 7 days.');
    }
  } else {
    void vscode.window.showInformationMessage(`Glacier Backup: bucket ${config.bucket} is ready${report.canList ? '' : ' (but listing failed: see the report)'}.`);
  }
}
