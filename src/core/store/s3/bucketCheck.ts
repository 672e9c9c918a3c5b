/**
 * "Check bucket": can we reach and use the bucket, what may these credentials do (a dry run that
 * writes nothing, see permissions.ts), are versioning and Object Lock on, and is there a lifecycle
 * rule that aborts incomplete multipart uploads (so an interrupted upload never costs storage
 * forever)? Also the minimal IAM policies for a back-up-only machine and for restoring.
 */
import {
  CreateBucketCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketVersioningCommand,
  GetObjectLockConfigurationCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  PutBucketLifecycleConfigurationCommand,
  PutPublicAccessBlockCommand,
  type LifecycleRule,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { StoreConfig } from '../../config';
import { GlacierError, s3Error } from '../../errors';
import { probePermissions, type PermissionResult } from './permissions';
import { isRefused } from './storedCheck';

export interface BucketReport {
  bucket: string;
  prefix: string;
  /** Listing the prefix works (the permission every command needs). */
  canList: boolean;
  versioning: 'Enabled' | 'Suspended' | 'Off' | 'unknown';
  /** Object Lock with its default retention, e.g. "GOVERNANCE, 30 days", or 'Off' / 'unknown'. */
  objectLock: string;
  /** What these credentials may do under the prefix. */
  permissions: PermissionResult[];
  /** Days after which incomplete uploads under the prefix are aborted, if a rule covers it. */
  abortIncompleteDays?: number;
  /** The lifecycle rules could not be read: whether a rule aborts incomplete uploads is not known. */
  lifecycleUnknown?: boolean;
  /** Why a part of the check could not be done (e.g. no permission to read the lifecycle). */
  notes: string[];
}

export const abortRuleId = 'glacier-backup-abort-incomplete-uploads';

export async function checkBucket(client: S3Client, store: StoreConfig): Promise<BucketReport> {
  const where = { bucket: store.bucket, endpoint: store.endpoint };
  try {
    await client.send(new HeadBucketCommand({ Bucket: store.bucket }));
  } catch (err) {
    // HeadBucket takes s3:ListBucket without a prefix condition, which the minimal policies do not
    // grant: a refusal says nothing about the prefix, which is tested below.
    if (!isRefused(err)) throw s3Error(err, { ...where, action: 'check bucket access' });
  }
  const report: BucketReport = { bucket: store.bucket, prefix: store.prefix, canList: false, versioning: 'unknown', objectLock: 'unknown', permissions: [], notes: [] };
  try {
    await client.send(new ListObjectsV2Command({ Bucket: store.bucket, Prefix: store.prefix, MaxKeys: 1 }));
    report.canList = true;
  } catch (err) {
    report.notes.push(s3Error(err, { ...where, action: 'list the prefix' }).message);
  }
  try {
    const v = await client.send(new GetBucketVersioningCommand({ Bucket: store.bucket }));
    report.versioning = v.Status === 'Enabled' || v.Status === 'Suspended' ? v.Status : 'Off';
  } catch (err) {
    report.notes.push(`versioning unknown: ${s3Error(err, { ...where, action: 'read the versioning setting' }).message}`);
  }
  try {
    const lock = (await client.send(new GetObjectLockConfigurationCommand({ Bucket: store.bucket }))).ObjectLockConfiguration;
    const retention = lock?.Rule?.DefaultRetention;
    const period = retention?.Days !== undefined ? `${retention.Days} days` : retention?.Years !== undefined ? `${retention.Years} years` : '';
    report.objectLock = lock?.ObjectLockEnabled !== 'Enabled' ? 'Off' : retention ? `${retention.Mode}, ${period}` : 'Enabled, no default retention';
  } catch (err) {
    if ((err as { name?: string }).name === 'ObjectLockConfigurationNotFoundError') report.objectLock = 'Off';
    else report.notes.push(`Object Lock unknown: ${s3Error(err, { ...where, action: 'read the Object Lock setting' }).message}`);
  }
  report.permissions = await probePermissions(client, store);
  try {
    const rules = await lifecycleRules(client, store.bucket);
    report.abortIncompleteDays = abortDays(rules, store.prefix);
  } catch (err) {
    report.lifecycleUnknown = true;
    report.notes.push(`lifecycle unknown: ${s3Error(err, { ...where, action: 'read the lifecycle rules' }).message}`);
  }
  return report;
}

async function lifecycleRules(client: S3Client, bucket: string): Promise<LifecycleRule[]> {
  try {
    return (await client.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }))).Rules ?? [];
  } catch (err) {
    if ((err as { name?: string }).name === 'NoSuchLifecycleConfiguration') return [];
    throw err;
  }
}

/** The shortest abort-incomplete-upload period of an enabled rule covering the whole prefix. */
export function abortDays(rules: readonly LifecycleRule[], prefix: string): number | undefined {
  let best: number | undefined;
  for (const r of rules) {
    const days = r.AbortIncompleteMultipartUpload?.DaysAfterInitiation;
    if (r.Status !== 'Enabled' || days === undefined) continue;
    const rulePrefix = r.Filter?.Prefix ?? r.Filter?.And?.Prefix ?? r.Prefix ?? '';
    if (r.Filter?.Tag || r.Filter?.And?.Tags?.length) continue; // our uploads carry no tags
    if (!prefix.startsWith(rulePrefix)) continue;
    best = best === undefined ? days : Math.min(best, days);
  }
  return best;
}

/** Adds (keeping every existing rule) a rule aborting incomplete uploads under the prefix after `days`. */
export async function addAbortRule(client: S3Client, store: StoreConfig, days = 7): Promise<void> {
  const where = { bucket: store.bucket, endpoint: store.endpoint, action: 'add the lifecycle rule' };
  try {
    const rules = (await lifecycleRules(client, store.bucket)).filter((r) => r.ID !== abortRuleId);
    rules.push({ ID: abortRuleId, Status: 'Enabled', Filter: { Prefix: store.prefix }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: days } });
    await client.send(new PutBucketLifecycleConfigurationCommand({ Bucket: store.bucket, LifecycleConfiguration: { Rules: rules } }));
  } catch (err) {
    throw s3Error(err, where);
  }
}

/**
 * Creates the bucket in the configured region (the client's, when none is set) with public access
 * blocked and the abort rule above. Object Lock and versioning are left off: both make deleted
 * archives keep costing, a choice the user makes knowingly (Check Bucket reports them).
 */
export async function createBucket(client: S3Client, store: StoreConfig): Promise<void> {
  const where = { bucket: store.bucket, endpoint: store.endpoint, action: 'create the bucket' };
  try {
    const region = store.region ?? (await client.config.region());
    const location = region && region !== 'us-east-1' ? { CreateBucketConfiguration: { LocationConstraint: region as never } } : {};
    await client.send(new CreateBucketCommand({ Bucket: store.bucket, ...location })).catch((err: unknown) => {
      if ((err as { name?: string }).name !== 'BucketAlreadyOwnedByYou') throw err;
    });
    await client.send(
      new PutPublicAccessBlockCommand({
        Bucket: store.bucket,
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true },
      }),
    );
  } catch (err) {
    if ((err as { name?: string }).name === 'BucketAlreadyExists') {
      throw new GlacierError('conflict', `bucket name "${store.bucket}" is taken by another AWS account; bucket names are global, choose another`, { cause: err });
    }
    throw s3Error(err, where);
  }
  await addAbortRule(client, store, 7);
}

/**
 * Minimal IAM policies: back up only (cannot read archives back nor delete anything), and restore.
 * Back-up-only is enough for backups, unchanged detection and resuming: an archive is checked from
 * the listing and S3's answers instead of being read back (see storedCheck.ts), and what it may
 * not delete is left to `check --repair` run with broader credentials.
 */
export function iamPolicies(bucket: string, prefix: string): { backupOnly: object; restore: object } {
  const arn = `arn:aws:s3:::${bucket}`;
  // ListBucketVersions lets `check` tell a manifest deleted on a versioned bucket (a delete marker).
  const list = { Effect: 'Allow', Action: ['s3:ListBucket', 's3:ListBucketVersions'], Resource: arn, Condition: { StringLike: { 's3:prefix': [`${prefix}*`] } } };
  // AWS offers no s3:prefix condition key for ListBucketMultipartUploads: under the condition above
  // it would always be refused, and an interrupted upload could not be found to resume.
  const listUploads = { Effect: 'Allow', Action: ['s3:ListBucketMultipartUploads'], Resource: arn };
  return {
    backupOnly: {
      Version: '2012-10-17',
      Statement: [
        list,
        listUploads,
        {
          Effect: 'Allow',
          Action: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
          Resource: [`${arn}/${prefix}archives/*`, `${arn}/${prefix}catalog/*`, `${arn}/${prefix}freshness/*`],
        },
        // Reading manifests (small, in STANDARD) lets unchanged content be recognised; drop it in public-key mode.
        // The freshness marker is read to merge this backup's source set into it (plaintext, no file names).
        { Effect: 'Allow', Action: ['s3:GetObject'], Resource: [`${arn}/${prefix}catalog/*`, `${arn}/${prefix}freshness/*`] },
      ],
    },
    restore: {
      Version: '2012-10-17',
      Statement: [list, listUploads, { Effect: 'Allow', Action: ['s3:GetObject', 's3:RestoreObject'], Resource: [`${arn}/${prefix}archives/*`, `${arn}/${prefix}catalog/*`] }],
    },
  };
}
