/**
 * The tool on a bucket with versioning, and on one with Object Lock (governance mode, a default
 * retention): backups are stored and restore; `check` reads old versions and delete markers as
 * notes, not problems; a manifest deleted there is brought back by `check --repair` (its delete
 * marker removed); `check --repair` deleting a lone manifest leaves a delete marker and a
 * consistent bucket; prune deletes behind delete markers and check stays consistent; uploads
 * without CRC32 carry Content-MD5, which Object Lock requires.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectLockConfigurationCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { useMoto, type Moto } from '../helpers/moto';
import { assertRestores, cliEnv, runCli, type CliResult } from '../helpers/cli';
import { uploadObject } from '../../src/core/store/s3/upload';
import { withoutChecksums } from '../../src/core/store/s3/client';

const prefix = 'glacier-backup/';
let moto: Moto;
let work: string;
useMoto('unused', (m, w) => {
  moto = m;
  work = w;
});

const env = (bucket: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv =>
  cliEnv({ endpoint: moto.endpoint, bucket, work, passphrase: 'versioned passphrase' }, { GLACIER_BACKUP_STORAGE_CLASS: 'STANDARD', ...extra });
const manifestKey = (id: string): string => `${prefix}catalog/${id}.json.gpg`;
const summaryKey = (id: string): string => `${prefix}catalog/${id}.summary.gpg`;
const archiveKey = (id: string): string => `${prefix}archives/${id}.tar.gpg`;

function lastLine(res: CliResult): string {
  const lines = res.stderr.trim().split('\n');
  return lines[lines.length - 1]!;
}

/** Versions of archives and manifests (the freshness marker, rewritten by each backup, has its own history). */
async function versions(bucket: string): Promise<{ versions: number; markers: number }> {
  const res = await moto.client.send(new ListObjectVersionsCommand({ Bucket: bucket }));
  const catalog = (v: { Key?: string }): boolean => !v.Key?.includes('/freshness/');
  return { versions: (res.Versions ?? []).filter(catalog).length, markers: (res.DeleteMarkers ?? []).filter(catalog).length };
}

/** `elsewhere`: the backup is recorded in another state folder (as if made on another machine). */
/** Removes a key's versions (with its delete markers too: 'all'), as an admin may despite governance-mode Object Lock. */
async function purge(bucket: string, key: string, what: 'versions' | 'all'): Promise<void> {
  const res = await moto.client.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: key }));
  const found = [...(res.Versions ?? []), ...(what === 'all' ? (res.DeleteMarkers ?? []) : [])].filter((v) => v.Key === key);
  for (const v of found) await moto.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key, VersionId: v.VersionId, BypassGovernanceRetention: true }));
}

async function backUp(bucket: string, name: string, mib: number, elsewhere = false): Promise<{ id: string; source: string }> {
  const source = path.join(work, `${bucket}-${name}`);
  mkdirSync(source, { recursive: true });
  writeFileSync(path.join(source, 'data.bin'), randomBytes((mib << 20) + 1000));
  const res = await runCli(['backup', source], env(bucket, elsewhere ? { GLACIER_BACKUP_STATE_DIR: path.join(work, 'other-machine') } : {}));
  assert.equal(res.code, 0, res.stderr);
  return { id: res.stdout.trim(), source };
}

const kinds = {
  versioned: async (bucket: string): Promise<void> => {
    await moto.client.send(new CreateBucketCommand({ Bucket: bucket }));
    await moto.client.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  },
  'Object Lock (governance, 1 day)': async (bucket: string): Promise<void> => {
    await moto.client.send(new CreateBucketCommand({ Bucket: bucket, ObjectLockEnabledForBucket: true }));
    await moto.client.send(
      new PutObjectLockConfigurationCommand({ Bucket: bucket, ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 1 } } } }),
    );
  },
};

for (const [kind, create] of Object.entries(kinds)) {
  const bucket = kind === 'versioned' ? 'versioned' : 'locked';
  describe(`a bucket with ${kind}`, () => {
    let kept: { id: string; source: string };

    it('takes backups (one multipart, one PutObject) that restore, and check finds it consistent with no note', async () => {
      await create(bucket);
      kept = await backUp(bucket, 'big', 9);
      const small = await backUp(bucket, 'small', 0);
      await assertRestores(kept.id, kept.source, work, env(bucket));
      await assertRestores(small.id, small.source, work, env(bucket));
      const res = await runCli(['check'], env(bucket));
      assert.equal(res.code, 0, res.stderr);
      assert.match(lastLine(res), /: 2 archives, consistent$/);
      assert.doesNotMatch(res.stderr, /note:/);
      // Each backup: an archive, a catalog summary and a manifest.
      assert.deepEqual(await versions(bucket), { versions: 6, markers: 0 });
      const check = await runCli(['check-bucket'], env(bucket));
      assert.equal(check.code, 0, check.stderr);
      assert.match(check.stdout, kind === 'versioned' ? /^- Versioning: Enabled/m : /^- Object Lock: GOVERNANCE, 1 days$/m);
    });

    it('a deleted manifest hides behind a delete marker: check says so, and check --repair brings it back', async () => {
      await moto.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: manifestKey(kept.id) }));
      const found = await runCli(['check', '--older-than', '0'], env(bucket));
      assert.equal(found.code, 1);
      assert.match(found.stdout, new RegExp(`^archive-without-manifest\\t${kept.id}\\tarchive ${kept.id} has no manifest: it was deleted, and the versioned bucket keeps it behind delete marker \\S+$`, 'm'));
      assert.match(found.stderr, /^note: the bucket keeps 1 old version \(.*\) and 1 delete marker under the prefix \(versioning\): no problem, but old versions stay billed/m);
      const repaired = await runCli(['check', '--repair', '--older-than', '0'], env(bucket));
      assert.equal(repaired.code, 0, repaired.stderr);
      assert.match(repaired.stderr, new RegExp(`repairing: bring back the manifest of ${kept.id} by removing its delete marker`));
      const after = await runCli(['check', '--older-than', '0'], env(bucket));
      assert.equal(after.code, 0, after.stderr);
      assert.doesNotMatch(after.stderr, /note:/);
      await assertRestores(kept.id, kept.source, work, env(bucket));
    });

    it('a manifest whose every version was removed is not offered back: its delete marker hides nothing', async () => {
      const lost = await backUp(bucket, 'lost', 0, true);
      const key = manifestKey(lost.id);
      await moto.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
      await purge(bucket, key, 'versions');
      const res = await runCli(['check', '--older-than', '0'], env(bucket));
      assert.equal(res.code, 1);
      assert.match(res.stdout, new RegExp(`^archive-without-manifest\\t${lost.id}\\tarchive ${lost.id} has no manifest \\(a backup interrupted`, 'm'));
      assert.doesNotMatch(res.stdout, /delete marker/);
      const cleaned = await runCli(['check', '--repair', '--older-than', '0'], env(bucket));
      assert.equal(cleaned.code, 0, cleaned.stderr);
      assert.match(cleaned.stderr, new RegExp(`repairing: rebuild the manifest of ${lost.id}`));
      for (const k of [archiveKey(lost.id), key, summaryKey(lost.id)]) await purge(bucket, k, 'all');
    });

    it('an archive deleted with its manifest leaves old versions: a note that they stay billed, not a problem', async () => {
      const gone = await backUp(bucket, 'gone', 0, true);
      for (const key of [summaryKey(gone.id), archiveKey(gone.id), manifestKey(gone.id)]) await moto.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
      const res = await runCli(['check', '--older-than', '0'], env(bucket));
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stderr, /^note: the bucket keeps 3 old versions \(.*\) and 3 delete markers under the prefix/m);
      assert.match(lastLine(res), /: 2 archives, consistent$/);
    });

    it('check --repair deletes a manifest whose archive was deleted (a delete marker, allowed under Object Lock), and the bucket is consistent', async () => {
      const lone = await backUp(bucket, 'lone', 0);
      await moto.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: archiveKey(lone.id) }));
      const found = await runCli(['check', '--older-than', '0'], env(bucket));
      assert.equal(found.code, 1);
      assert.match(found.stdout, new RegExp(`^manifest-without-archive\\t${lone.id}\\tmanifest of ${lone.id} has no archive \\(the archive was deleted; the versioned bucket keeps its old version behind delete marker \\S+, billed until removed\\)$`, 'm'));
      const repaired = await runCli(['check', '--repair', '--older-than', '0'], env(bucket));
      assert.equal(repaired.code, 0, repaired.stderr);
      const after = await runCli(['check', '--older-than', '0'], env(bucket));
      assert.equal(after.code, 0, after.stderr);
      assert.match(lastLine(after), /: 2 archives, consistent$/);
      assert.ok(!(await moto.keys(bucket)).includes(manifestKey(lone.id)));
    });

    it('prune forgets older snapshots behind delete markers (allowed under Object Lock), says that their versions stay billed, and check stays consistent', async () => {
      const source = path.join(work, `${bucket}-pruned`);
      mkdirSync(source, { recursive: true });
      const ids: string[] = [];
      for (let day = 1; day <= 3; day++) {
        writeFileSync(path.join(source, 'data.bin'), randomBytes(1000 + day));
        const res = await runCli(['backup', source], env(bucket));
        assert.equal(res.code, 0, res.stderr);
        ids.push(res.stdout.trim());
      }
      const before = await versions(bucket);
      // Archive, manifest and catalog summary of each forgotten snapshot.
      const forgotten = (await moto.keys(bucket)).filter((k) => ids.slice(0, 2).some((id) => k.includes(id))).length;
      assert.ok(forgotten >= 4);
      const res = await runCli(['prune', '--keep-last', '1', '--path', source], env(bucket));
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stderr, new RegExp(`note: bucket ${bucket} keeps old versions: a deleted archive stays as an old version`));
      const keys = await moto.keys(bucket);
      for (const id of ids.slice(0, 2)) assert.ok(!keys.some((k) => k.includes(id)), `${id} pruned`);
      assert.ok(keys.includes(archiveKey(ids[2]!)) && keys.includes(manifestKey(ids[2]!)), 'the newest kept');
      assert.deepEqual(await versions(bucket), { versions: before.versions, markers: before.markers + forgotten }, 'nothing erased: delete markers over the old versions');
      const check = await runCli(['check', '--older-than', '0'], env(bucket));
      assert.equal(check.code, 0, check.stderr);
      assert.match(check.stderr, /^note: the bucket keeps \d+ old versions \(.*\) and \d+ delete markers under the prefix/m);
      assert.match(lastLine(check), /: 3 archives, consistent$/);
      await assertRestores(ids[2]!, source, work, env(bucket));
    });
  });
}

describe('uploads to a bucket with Object Lock from a client that sends no CRC32', () => {
  it('carry Content-MD5, which Object Lock requires, in one PutObject and in multipart parts', async () => {
    const client = new S3Client({ endpoint: moto.endpoint, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    withoutChecksums(client); // as after an endpoint refused checksum headers
    for (const [key, size] of [
      ['small', 1000],
      ['multipart', (5 << 20) + 1000],
    ] as const) {
      const body = randomBytes(size);
      const res = await uploadObject({ client, bucket: 'locked', key, body: (async function* () { yield body; })(), storageClass: 'STANDARD', partSize: 5 << 20, queueSize: 2, endpoint: moto.endpoint });
      assert.match(res.verified, /size/);
      const got = await moto.client.send(new GetObjectCommand({ Bucket: 'locked', Key: key }));
      assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(body), key);
    }
    client.destroy();
  });
});
