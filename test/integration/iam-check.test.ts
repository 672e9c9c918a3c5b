/**
 * `check` and `check-bucket` with the credentials of each role, moto enforcing IAM (see
 * helpers/motoIam.ts). `check-bucket` tells from requests that write nothing what each role may
 * do; `check` names every check its credentials did not allow and then fails (exit 1), so a cron
 * job never reads a partial check as a clean one.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { DeleteObjectCommand, PutBucketVersioningCommand } from '@aws-sdk/client-s3';
import { startMotoWithIam, type IamUsers } from '../helpers/motoIam';
import type { Credentials, Moto } from '../helpers/moto';
import { cliEnv, runCli, type CliResult } from '../helpers/cli';
import { tempDir } from '../helpers/tree';

const bucket = 'iam-check';
const prefix = 'glacier-backup/';
let moto: Moto;
let users: IamUsers;
let listOnly: Credentials;
let work: string;

before(async () => {
  work = tempDir();
  const listPolicy = {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: ['s3:ListBucket'], Resource: `arn:aws:s3:::${bucket}`, Condition: { StringLike: { 's3:prefix': [`${prefix}*`] } } }],
  };
  let extra: Record<string, Credentials>;
  ({ moto, users, extra } = await startMotoWithIam(bucket, prefix, { 'list-only': listPolicy }));
  listOnly = extra['list-only']!;
});
after(async () => {
  await moto?.stop();
  rmSync(work, { recursive: true, force: true });
});

function env(user: Credentials, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return cliEnv(
    { endpoint: moto.endpoint, bucket, work, passphrase: 'check passphrase' },
    { AWS_ACCESS_KEY_ID: user.accessKeyId, AWS_SECRET_ACCESS_KEY: user.secretAccessKey, GLACIER_BACKUP_STORAGE_CLASS: 'STANDARD', ...extra },
  );
}

interface Role {
  role: string;
  works: string;
}

async function roles(user: Credentials): Promise<{ roles: Record<string, string>; permissions: Record<string, string> }> {
  const res = await runCli(['check-bucket', '--json'], env(user));
  assert.equal(res.code, 0, res.stderr);
  const report = JSON.parse(res.stdout) as { permissions: { action: string; answer: string }[] };
  const { rolesFrom } = await import('../../src/core/store/s3/permissions');
  const byRole = Object.fromEntries(rolesFrom(report.permissions as never).map((r: Role) => [r.role, r.works]));
  return { roles: byRole, permissions: Object.fromEntries(report.permissions.map((p) => [p.action, p.answer])) };
}

function lastLine(res: CliResult): string {
  const lines = res.stderr.trim().split('\n');
  return lines[lines.length - 1]!;
}

describe('check-bucket: what the credentials at hand may do, tested without writing', () => {
  it('tells each policy the product shows apart, and writes nothing', async () => {
    const backupOnly = await roles(users.backupOnly);
    assert.deepEqual(backupOnly.roles, { 'back up': 'yes', restore: 'no', admin: 'no' });
    assert.equal(backupOnly.permissions['s3:PutObject on archives/'], 'allowed');
    assert.equal(backupOnly.permissions['s3:GetObject on archives/'], 'refused');
    assert.equal(backupOnly.permissions['s3:GetObject on catalog/'], 'allowed');
    const restore = await roles(users.restore);
    assert.deepEqual(restore.roles, { 'back up': 'no', restore: 'yes', admin: 'no' });
    assert.equal(restore.permissions['s3:PutObject on catalog/'], 'refused');
    assert.equal(restore.permissions['s3:AbortMultipartUpload'], 'refused');
    assert.deepEqual((await roles(users.admin)).roles, { 'back up': 'yes', restore: 'yes', admin: 'yes' });
    // Listing alone: reads of missing keys answer 403 without ListBucket on AWS, so only what is sure is claimed.
    const list = await roles(listOnly);
    assert.deepEqual(list.roles, { 'back up': 'no', restore: 'no', admin: 'no' });
    assert.equal(list.permissions['s3:ListBucket'], 'allowed');
    assert.equal(list.permissions['s3:ListBucketMultipartUploads'], 'refused');
    assert.deepEqual(await moto.keys(bucket), [], 'no probe was written');
    assert.deepEqual(await moto.openUploads(bucket), []);
  });

  it('shows the policies and the commands that turn on versioning and Object Lock with the retention asked for', async () => {
    const res = await runCli(['check-bucket', '--days', '45'], env(users.backupOnly));
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /^- back up: works$/m);
    assert.match(res.stdout, /^- restore: does not work \(refused: s3:GetObject on archives\/, s3:RestoreObject\)$/m);
    assert.match(res.stdout, new RegExp(`aws s3api put-bucket-versioning --bucket ${bucket} --versioning-configuration Status=Enabled`));
    assert.match(res.stdout, /"DefaultRetention":\{"Mode":"GOVERNANCE","Days":45\}/);
    assert.match(res.stdout, /s3:DeleteObject .* is not tested/);
    assert.match(res.stdout, /^- Incomplete uploads: not known \(the lifecycle rules could not be read: see the note\)$/m, 'the policy may not read the lifecycle rules');
    const bad = await runCli(['check-bucket', '--days', '0'], env(users.admin));
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^glacier-backup: --days must be a whole number of days/m);
  });
});

describe('check with the credentials of each role', () => {
  it('runs in full with the back-up-only and the restore policy on a consistent bucket', async () => {
    const dir = path.join(work, 'src');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'a.bin'), randomBytes(4096));
    const backup = await runCli(['backup', dir], env(users.backupOnly));
    assert.equal(backup.code, 0, backup.stderr);
    for (const user of [users.backupOnly, users.restore, users.admin]) {
      const res = await runCli(['check'], env(user));
      assert.equal(res.code, 0, res.stderr);
      assert.match(lastLine(res), /: 1 archives, consistent$/);
      assert.doesNotMatch(res.stderr, /not checked/);
    }
  });

  it('names the check it may not make (unfinished uploads) and fails, rather than calling the bucket consistent', async () => {
    const res = await runCli(['check'], env(listOnly));
    assert.equal(res.code, 1);
    assert.match(res.stderr, /^not checked: unfinished uploads: access denied to bucket "iam-check" while trying to list unfinished uploads \(it needs s3:ListBucketMultipartUploads\)$/m);
    assert.match(lastLine(res), /^glacier-backup: s3:\/\/iam-check\/glacier-backup\/: 1 archives, no problem found, but 1 check could not be made \(see "not checked" above\)$/);
    const json = await runCli(['check', '--json'], env(listOnly));
    assert.equal(json.code, 1);
    const report = JSON.parse(json.stdout) as { consistent: boolean; unchecked: string[] };
    assert.equal(report.consistent, false);
    assert.equal(report.unchecked.length, 1);
  });

  it('an archive in Deep Archive without a manifest: the back-up-only user is told its state could not be read, the restore user how to restore it', async () => {
    const dir = path.join(work, 'deep');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'b.bin'), randomBytes(4096));
    const backup = await runCli(['backup', dir], env(users.backupOnly, { GLACIER_BACKUP_STORAGE_CLASS: 'DEEP_ARCHIVE' }));
    assert.equal(backup.code, 0, backup.stderr);
    const id = backup.stdout.trim();
    await moto.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: `${prefix}catalog/${id}.json.gpg` }));
    const byBackup = await runCli(['check', '--older-than', '0'], env(users.backupOnly));
    assert.equal(byBackup.code, 1);
    assert.match(byBackup.stdout, new RegExp(`^archive-without-manifest\\t${id}\\t.*\\(kept; repair: none known: whether it is restored could not be read \\(access denied .*\\); run check with credentials that may read archives`, 'm'));
    const byRestore = await runCli(['check', '--older-than', '0'], env(users.restore));
    assert.equal(byRestore.code, 1);
    assert.match(byRestore.stdout, new RegExp(`^archive-without-manifest\\t${id}\\t.*\\(kept; repair: none while it is in DEEP_ARCHIVE and not restored: restore it \\(glacier-backup restore ${id}\\)`, 'm'));
    const keys = await moto.keys(bucket);
    assert.ok(keys.includes(`${prefix}archives/${id}.tar.gpg`), 'nothing was deleted');
    const cleaned = await runCli(['check', '--repair', '--delete-orphan-archives', '--older-than', '0'], env(users.admin));
    assert.equal(cleaned.code, 0, cleaned.stderr);
    assert.ok(!(await moto.keys(bucket)).includes(`${prefix}archives/${id}.tar.gpg`));
  });

  it('on a versioned bucket, either policy sees a deleted manifest behind its delete marker, and the admin brings it back', async () => {
    await moto.client.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
    const dir = path.join(work, 'versioned');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'c.bin'), randomBytes(4096));
    const backup = await runCli(['backup', dir], env(users.backupOnly));
    assert.equal(backup.code, 0, backup.stderr);
    const id = backup.stdout.trim();
    await moto.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: `${prefix}catalog/${id}.json.gpg` }));
    for (const user of [users.backupOnly, users.restore]) {
      const res = await runCli(['check', '--older-than', '0'], env(user));
      assert.equal(res.code, 1);
      assert.match(res.stdout, new RegExp(`^archive-without-manifest\\t${id}\\tarchive ${id} has no manifest: it was deleted, and the versioned bucket keeps it behind delete marker \\S+$`, 'm'));
    }
    const refused = await runCli(['check', '--repair', '--older-than', '0'], env(users.backupOnly));
    assert.equal(refused.code, 1);
    assert.match(refused.stdout, /\(repair failed: access denied/);
    const repaired = await runCli(['check', '--repair', '--older-than', '0'], env(users.admin));
    assert.equal(repaired.code, 0, repaired.stderr);
    assert.ok((await moto.keys(bucket)).includes(`${prefix}catalog/${id}.json.gpg`), 'the manifest is back');
    const bucketReport = await runCli(['check-bucket'], env(users.admin));
    assert.match(bucketReport.stdout, /^- Versioning: Enabled/m);
  });
});
