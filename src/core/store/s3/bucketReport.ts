/**
 * The "Check Bucket" report as Markdown, for the VS Code document and `glacier-backup check-bucket`:
 * the bucket's settings, what the credentials at hand may do for each role, the two minimal
 * policies, and how to turn on versioning and Object Lock.
 */
import type { BucketReport } from './bucketCheck';
import { iamPolicies } from './bucketCheck';
import { deleteNotTested, rolesFrom } from './permissions';

/** `retentionDays`: the Object Lock retention put in the commands shown (a placeholder when not given). */
export function bucketReportMarkdown(report: BucketReport, retentionDays?: number): string {
  const { bucket, prefix } = report;
  const policies = iamPolicies(bucket, prefix);
  const days = retentionDays === undefined ? '<DAYS>' : String(retentionDays);
  const roles = rolesFrom(report.permissions).map((r) => {
    const why = [
      r.missing.length ? `refused: ${r.missing.join(', ')}` : '',
      r.unknown.length ? `not known: ${r.unknown.join(', ')}` : '',
      r.lacking.length ? `without ${r.lacking.join(', ')}` : '',
    ].filter(Boolean);
    return `- ${r.role}: ${r.works === 'yes' ? 'works' : r.works === 'no' ? 'does not work' : 'not known'}${why.length ? ` (${why.join('; ')})` : ''}`;
  });
  return [
    `# Glacier Backup: s3://${bucket}/${prefix}`,
    '',
    `- Access: ${report.canList ? 'OK (the prefix can be listed)' : 'the prefix cannot be listed'}`,
    `- Versioning: ${report.versioning}${report.versioning === 'Enabled' ? ' (deleted archives stay as old versions and keep costing until a lifecycle rule expires them)' : ''}`,
    `- Object Lock: ${report.objectLock}`,
    `- Incomplete uploads: ${
      report.lifecycleUnknown
        ? 'not known (the lifecycle rules could not be read: see the note)'
        : report.abortIncompleteDays !== undefined
          ? `aborted after ${report.abortIncompleteDays} days by a lifecycle rule`
          : 'no lifecycle rule aborts them; an interrupted upload would keep costing storage'
    }`,
    ...report.notes.map((n) => `- Note: ${n}`),
    '',
    '## What these credentials may do',
    '',
    'Tested with requests that write nothing (about keys and uploads that do not exist).',
    '',
    ...roles,
    '',
    ...report.permissions.map((p) => `- ${p.action}: ${p.answer}${p.detail ? ` (${p.detail})` : ''}`),
    `- ${deleteNotTested}`,
    '',
    '## Minimal IAM policy for a machine that only backs up',
    '',
    'It adds backups but can neither read archives back nor delete anything; `check --repair`, run with broader credentials, cleans what it could not.',
    '',
    '```json',
    JSON.stringify(policies.backupOnly, null, 2),
    '```',
    '',
    '## Minimal IAM policy for restoring',
    '',
    '```json',
    JSON.stringify(policies.restore, null, 2),
    '```',
    '',
    '## Keeping history safe from a compromised machine',
    '',
    'Versioning keeps every deleted or overwritten object as an old version, so even credentials that may delete cannot destroy history outright:',
    '',
    '```sh',
    `aws s3api put-bucket-versioning --bucket ${bucket} --versioning-configuration Status=Enabled`,
    '```',
    '',
    `Object Lock in governance mode also refuses to delete those versions for a retention you pick (${days}: at least as long as you keep each backup; Deep Archive bills 180 days anyway). Only a user with s3:BypassGovernanceRetention can lift it, and neither policy above has it. Versioning must be on first:`,
    '',
    '```sh',
    `aws s3api put-object-lock-configuration --bucket ${bucket} --object-lock-configuration '{"ObjectLockEnabled":"Enabled","Rule":{"DefaultRetention":{"Mode":"GOVERNANCE","Days":${days}}}}'`,
    '```',
    '',
    'Old versions stay billed until a lifecycle rule expires them (NoncurrentVersionExpiration). Glacier Backup works on both: `check` counts old versions and delete markers as notes, not problems, and `check --repair` brings back a manifest deleted on a versioned bucket.',
    '',
  ].join('\n');
}
