/**
 * Is the store usable with these settings and credentials? Set-up asks this before it says
 * "set up", and Check Bucket shows the whole report. Nothing is written to a bucket (S3's check
 * is a dry run, store/s3/permissions.ts); a folder gets a test file, written and removed, because
 * a read-only mount or a full drive can only be found by writing.
 *
 * A failure is an answer, not an exception: `problem` says which fix to offer (create the bucket,
 * set credentials, pick another folder) and `message` says what was found, in one line.
 */
import { GlacierError } from '../errors';
import type { ArchiveStore } from '../store/archiveStore';
import type { BucketReport } from '../store/s3/bucketCheck';
import { bucketReportMarkdown } from '../store/s3/bucketReport';

export type { BucketReport } from '../store/s3/bucketCheck';

/**
 * - 'no-store': the bucket or folder does not exist (a bucket may be created: `canCreate`)
 * - 'no-credentials': none were found, or S3 rejected them (an unknown key, a wrong secret)
 * - 'refused': the credentials work but may not list or upload here
 * - 'unreachable': the endpoint did not answer
 * - 'other': anything else (the message says what)
 */
export type StoreProblem = 'no-store' | 'no-credentials' | 'refused' | 'unreachable' | 'other';

export type StoreCheck =
  | { ok: true; message: string; report?: BucketReport }
  | { ok: false; problem: StoreProblem; message: string; canCreate: boolean; report?: BucketReport };

export async function checkStore(store: ArchiveStore): Promise<StoreCheck> {
  try {
    if (store.checkBucket) {
      const report = await store.checkBucket();
      const refused = (permission: string): boolean => report.permissions.some((p) => p.permission === permission && p.answer === 'refused');
      if (!report.canList) return failed('refused', `these credentials may not list ${store.name}: ${report.notes[0] ?? 'refused'}`, report);
      if (refused('write-archives')) return failed('refused', `these credentials may list ${store.name} but not upload to it (s3:PutObject is refused)`, report);
      return { ok: true, message: `${store.name} exists, and these credentials may list it and upload to it`, report };
    }
    if (store.checkWritable) {
      await store.checkWritable();
      return { ok: true, message: `${store.name} exists and takes files` };
    }
    for await (const _ of store.list('catalog/')) break;
    return { ok: true, message: `${store.name} can be listed` };
  } catch (err) {
    if (!(err instanceof GlacierError)) throw err;
    const problem = problemOf(err);
    return { ok: false, problem, message: err.message, canCreate: problem === 'no-store' && store.createBucket !== undefined };
  }
}

function failed(problem: StoreProblem, message: string, report: BucketReport): StoreCheck {
  return { ok: false, problem, message, canCreate: false, report };
}

function problemOf(err: GlacierError): StoreProblem {
  switch (err.code) {
    case 'no-bucket':
      return 'no-store';
    case 'access-denied':
      // S3 names a rejected key (InvalidAccessKeyId, SignatureDoesNotMatch, …) apart from a refused action.
      return /rejected the credentials/.test(err.message) ? 'no-credentials' : 'refused';
    case 'config':
      return /credentials/.test(err.message) ? 'no-credentials' : 'other';
    case 'unreachable':
      return 'unreachable';
    default:
      return 'other';
  }
}

/** Check Bucket: the report and its Markdown (IAM policies included); 'usage' for a store that is not a bucket. */
export async function bucketCheck(store: ArchiveStore, retentionDays?: number): Promise<{ report: BucketReport; markdown: string }> {
  if (!store.checkBucket) throw new GlacierError('usage', `checking a bucket is for S3 buckets; ${store.name} is not one`);
  const report = await store.checkBucket();
  return { report, markdown: bucketReportMarkdown(report, retentionDays) };
}
