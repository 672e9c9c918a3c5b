/**
 * `check [--repair]` and `verify <id>` through the CLI against moto: every kind of inconsistency
 * is reported on one line, left alone while young, and repaired only when asked; verify reads an
 * archive end to end without writing a byte, and refuses a damaged or replaced one.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import * as os from 'node:os';
import * as path from 'node:path';
import { CreateMultipartUploadCommand, DeleteObjectCommand, GetObjectCommand, ListMultipartUploadsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { check, defaultCheckAge } from '../../src/core/jobs/check';
import { FilePendingStore, RestoreTracker } from '../../src/core/jobs/restoreTracker';
import { recordsOf } from '../../src/core/catalog/dedupState';
import { useMoto, type Moto } from '../helpers/moto';
import { cliEnv, runCli } from '../helpers/cli';
import { S3Store } from '../../src/core/store/s3/s3Store';
import { keys } from '../../src/core/model/keys';

const bucket = 'check-verify-tests';
const passphrase = 'check passphrase';
const prefix = 'glacier-backup/';
let moto: Moto;
let work: string;

function env(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  return cliEnv({ endpoint: moto.endpoint, bucket, work, passphrase }, extra);
}

async function backupFolder(name: string, storageClass = 'STANDARD'): Promise<string> {
  const dir = path.join(work, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'a.txt'), `content of ${name}\n`);
  writeFileSync(path.join(dir, 'b.bin'), randomBytes(100_000));
  const res = await runCli(['backup', dir, '--storage-class', storageClass], env());
  assert.equal(res.code, 0, res.stderr);
  return res.stdout.trim();
}

const archiveKey = (id: string): string => `${prefix}archives/${id}.tar.gpg`;
const manifestKey = (id: string): string => `${prefix}catalog/${id}.json.gpg`;
const markerKey = `${prefix}${keys.freshness(os.hostname())}`;
const summaryKey = (id: string): string => `${prefix}catalog/${id}.summary.gpg`;

useMoto(bucket, (m, w) => {
  moto = m;
  work = w;
});

describe('check', () => {
  let good: string;
  let noManifest: string;
  let noArchive: string;
  let gone: string;

  it('finds a consistent bucket consistent', async () => {
    good = await backupFolder('good');
    const res = await runCli(['check'], env());
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stdout, '');
    assert.match(res.stderr, /1 archives, consistent/);
  });

  it('reports each problem on one line, leaves young uploads alone, and changes nothing', async () => {
    noManifest = await backupFolder('no-manifest');
    await moto.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: manifestKey(noManifest) }));
    noArchive = await backupFolder('no-archive');
    await moto.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: archiveKey(noArchive) }));
    // A backup killed in the middle of its upload.
    await moto.client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: archiveKey('20261123T101500Z-00000000000000aa') }));
    // Local state naming an archive that is gone: a pending restore, and the last-backup record.
    // Deleted by hand without its catalog summary, which is left over.
    gone = await backupFolder('gone');
    await moto.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: archiveKey(gone) }));
    await moto.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: manifestKey(gone) }));
    const tracker = new RestoreTracker({
      store: new S3Store(moto.client, { bucket, prefix, endpoint: moto.endpoint, storageClass: 'STANDARD' }),
      pending: new FilePendingStore(path.join(work, 'config', 'pending-restores.json')),
    });
    await tracker.add(gone);
    const keysBefore = await moto.keys(bucket);

    // The archive without a manifest was written seconds ago: a backup may still be writing its
    // manifest, so by default it is only counted. (moto dates every multipart upload in 2010, so
    // the unfinished upload is old; the age rule for uploads is tested on the engine below.)
    const young = await runCli(['check'], env());
    assert.equal(young.code, 1);
    const youngKinds = young.stdout.trim().split('\n').map((l) => l.split('\t')[0]);
    assert.deepEqual(youngKinds.sort(), ['last-backup-missing', 'last-backup-missing', 'last-backup-missing', 'manifest-without-archive', 'pending-restore-missing', 'unfinished-upload']);
    assert.match(young.stderr, /1 upload younger than 86400s left alone/);
    assert.match(young.stderr, /6 problems found .*check --repair/);

    const res = await runCli(['check', '--older-than', '0'], env());
    assert.equal(res.code, 1);
    const lines = res.stdout.trim().split('\n');
    assert.equal(lines.length, 8, res.stdout);
    for (const l of lines) assert.equal(l.split('\t').length, 3, l);
    assert.ok(lines.some((l) => l.startsWith(`archive-without-manifest\t${noManifest}\t`)));
    assert.ok(lines.some((l) => l.startsWith(`manifest-without-archive\t${noArchive}\t`)));
    assert.ok(lines.some((l) => /^unfinished-upload\t.*00000000000000aa\.tar\.gpg\tunfinished upload of .* started 20\d\d-/.test(l)));
    assert.ok(lines.some((l) => l.startsWith(`pending-restore-missing\t${gone}\t`)));
    assert.ok(lines.some((l) => l.startsWith(`summary-without-manifest\t${gone}\t`)));
    for (const id of [noManifest, noArchive, gone]) assert.ok(lines.some((l) => l.startsWith(`last-backup-missing\t${id}\t`)), id);
    assert.deepEqual(await moto.keys(bucket), keysBefore, 'check without --repair changes nothing');
    assert.equal((await moto.openUploads(bucket)).length, 1);
  });

  it('--repair says what it does, fixes everything, and the next check is clean', async () => {
    const res = await runCli(['check', '--repair', '--older-than', '0'], env());
    assert.equal(res.code, 0, res.stderr);
    // The archive whose manifest was deleted can be read (STANDARD): its manifest is rebuilt, not the archive deleted.
    assert.match(res.stderr, new RegExp(`repairing: rebuild the manifest of ${noManifest} from the archive`));
    assert.doesNotMatch(res.stderr, new RegExp(`delete ${archiveKey(noManifest)}`));
    assert.match(res.stderr, new RegExp(`repairing: delete ${manifestKey(noArchive)}`));
    assert.match(res.stderr, /repairing: abort the upload of .*00000000000000aa/);
    assert.match(res.stderr, new RegExp(`repairing: stop tracking the restore of ${gone}`));
    assert.match(res.stderr, new RegExp(`repairing: forget the local record of ${gone}`));
    assert.match(res.stderr, new RegExp(`repairing: delete ${summaryKey(gone)}`));
    assert.match(res.stderr, /repaired 8 problems/);
    // The rebuilt manifest comes with its summary; the summary of the manifest without archive went with it.
    const kept = [good, noManifest].flatMap((id) => [archiveKey(id), manifestKey(id), summaryKey(id)]);
    // The freshness marker the backups wrote is no problem and stays.
    assert.deepEqual(await moto.keys(bucket), [...kept, markerKey].sort());
    assert.deepEqual(await moto.openUploads(bucket), []);
    assert.deepEqual(await new FilePendingStore(path.join(work, 'config', 'pending-restores.json')).load(), []);
    const records = await recordsOf(path.join(work, 'state'), new S3Store(moto.client, { bucket, prefix, endpoint: moto.endpoint, storageClass: 'STANDARD' }));
    assert.deepEqual(records.map((r) => r.record.id), [good]);
    const again = await runCli(['check', '--json'], env());
    assert.equal(again.code, 0, again.stderr);
    const report = JSON.parse(again.stdout);
    assert.equal(report.consistent, true);
    assert.equal(report.archives, 2);
  });

  it('the rebuilt manifest lists every file with its sha256: files and download work again', async () => {
    const files = await runCli(['files', noManifest, '--json'], env());
    assert.equal(files.code, 0, files.stderr);
    const entries = JSON.parse(files.stdout) as { path: string; type: string; sha256?: string }[];
    assert.deepEqual(entries.filter((e) => e.type === 'file').map((e) => e.path).sort(), ['no-manifest/a.txt', 'no-manifest/b.bin']);
    assert.ok(entries.every((e) => e.type !== 'file' || /^[0-9a-f]{64}$/.test(e.sha256 ?? '')));
    const list = await runCli(['list', '--json'], env());
    const row = (JSON.parse(list.stdout) as { id: string; label: string; created: string }[]).find((r) => r.id === noManifest)!;
    assert.equal(row.label, '(rebuilt)');
    assert.equal(row.created.slice(0, 10), `${noManifest.slice(0, 4)}-${noManifest.slice(4, 6)}-${noManifest.slice(6, 8)}`);
    const dest = path.join(work, 'rebuilt-dest');
    const res = await runCli(['download', noManifest, dest], env());
    assert.equal(res.code, 0, res.stderr);
    assert.equal(readFileSync(path.join(res.stdout.trim(), 'no-manifest', 'a.txt'), 'utf8'), 'content of no-manifest\n');
  });

  it('leaves an unfinished upload younger than the age alone, and reports it once older (engine)', async () => {
    const key = archiveKey('20261123T101500Z-00000000000000bb');
    await moto.client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    const [upload] = (await moto.client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: key }))).Uploads ?? [];
    const started = upload!.Initiated!.getTime();
    const store = new S3Store(moto.client, { bucket, prefix, endpoint: moto.endpoint, storageClass: 'STANDARD' });
    const soon = await check({ store, now: () => started + 60_000 });
    assert.deepEqual(soon.problems, []);
    assert.deepEqual(soon.inProgress, { uploads: 1, archivesWithoutManifest: 0 });
    const later = await check({ store, now: () => started + defaultCheckAge + 1, repair: true });
    assert.deepEqual(later.problems.map((p) => [p.kind, p.key, p.repaired]), [['unfinished-upload', key, true]]);
    assert.deepEqual(await moto.openUploads(bucket), []);
  });

  it('refuses a bad --older-than', async () => {
    const res = await runCli(['check', '--older-than', 'soon'], env());
    assert.equal(res.code, 2);
    assert.match(res.stderr, /--older-than must be a number of seconds/);
  });
});

describe('verify', () => {
  let id: string;
  let cwd: string;

  before(async () => {
    id = await backupFolder('verify-me');
    cwd = path.join(work, 'verify-cwd');
    mkdirSync(cwd);
  });

  it('checks an archive end to end and writes nothing', async () => {
    const res = await runCli(['verify', id], env(), { cwd });
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stdout.trim(), id);
    assert.match(res.stderr, new RegExp(`archive ${id} is intact: OpenPGP integrity check passed, size and sha256 match its manifest, and so do all 2 files`));
    assert.deepEqual(readdirSync(cwd), []);
  });

  it('refuses an archive replaced by another one (sha256 differs from the manifest)', async () => {
    const other = await backupFolder('verify-other');
    const original = Buffer.from(await (await moto.client.send(new GetObjectCommand({ Bucket: bucket, Key: archiveKey(id) }))).Body!.transformToByteArray());
    const replacement = await (await moto.client.send(new GetObjectCommand({ Bucket: bucket, Key: archiveKey(other) }))).Body!.transformToByteArray();
    try {
      await moto.client.send(new PutObjectCommand({ Bucket: bucket, Key: archiveKey(id), Body: replacement }));
      const res = await runCli(['verify', id], env(), { cwd });
      assert.equal(res.code, 1);
      assert.match(res.stderr, /^glacier-backup: .*(does not match its manifest|lacks|holds)/);
      assert.equal(res.stderr.trim().split('\n').length, 1);
      // A flipped byte in the middle: the OpenPGP integrity check (or the sha256) fails.
      const damaged = Buffer.from(original);
      damaged[Math.floor(damaged.length / 2)]! ^= 1;
      await moto.client.send(new PutObjectCommand({ Bucket: bucket, Key: archiveKey(id), Body: damaged }));
      const flipped = await runCli(['verify', id], env(), { cwd });
      assert.equal(flipped.code, 1);
      assert.match(flipped.stderr, /integrity|does not match|not a valid tar/);
      assert.deepEqual(readdirSync(cwd), []);
    } finally {
      await moto.client.send(new PutObjectCommand({ Bucket: bucket, Key: archiveKey(id), Body: original }));
    }
    const restored = await runCli(['verify', id], env(), { cwd });
    assert.equal(restored.code, 0, restored.stderr);
  });

  it('says an archive in Deep Archive must be restored first', async () => {
    const deep = await backupFolder('verify-deep', 'DEEP_ARCHIVE');
    const res = await runCli(['verify', deep], env(), { cwd });
    assert.equal(res.code, 1);
    assert.match(res.stderr, /not restored: request a restore first \(glacier-backup restore /);
  });
});

describe('check: an archive whose manifest is gone', () => {
  it('keeps one in Deep Archive, says why and how to rebuild, and exits 1', async () => {
    const deep = await backupFolder('deep-orphan', 'DEEP_ARCHIVE');
    await moto.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: manifestKey(deep) }));
    const res = await runCli(['check', '--repair', '--older-than', '0'], env());
    assert.equal(res.code, 1, res.stderr);
    const line = res.stdout.trim().split('\n').find((l) => l.startsWith(`archive-without-manifest\t${deep}\t`));
    assert.ok(line, res.stdout);
    assert.match(line, new RegExp(`kept; repair: none while it is in DEEP_ARCHIVE and not restored: restore it \\(glacier-backup restore ${deep}\\), then run check --repair again`));
    assert.doesNotMatch(res.stderr, /repairing: delete/);
    assert.match(res.stderr, /^glacier-backup: 1 of \d+ problems could not be repaired \(1 archive without a manifest kept: see its line\)$/m);
    assert.ok((await moto.keys(bucket)).includes(archiveKey(deep)), 'the archive is still there');
  });

  it('rebuilds the manifest of one in Deep Archive once it is restored', async () => {
    const restored = await backupFolder('deep-restored', 'DEEP_ARCHIVE');
    await moto.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: manifestKey(restored) }));
    await moto.restore(bucket, archiveKey(restored));
    const res = await runCli(['check', '--repair', '--older-than', '0'], env());
    assert.match(res.stderr, new RegExp(`repairing: rebuild the manifest of ${restored} from the archive`));
    assert.match(res.stdout, new RegExp(`archive-without-manifest\t${restored}\t.*\\(repaired\\)`));
    const files = await runCli(['files', restored], env());
    assert.equal(files.code, 0, files.stderr);
    assert.match(files.stdout, /deep-restored\/a\.txt/);
  });

  it('keeps a readable one that fails its integrity check: nothing rebuilt, nothing deleted', async () => {
    const damaged = await backupFolder('damaged-orphan');
    await moto.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: manifestKey(damaged) }));
    const body = Buffer.from(await (await moto.client.send(new GetObjectCommand({ Bucket: bucket, Key: archiveKey(damaged) }))).Body!.transformToByteArray());
    body[Math.floor(body.length / 2)]! ^= 1;
    await moto.client.send(new PutObjectCommand({ Bucket: bucket, Key: archiveKey(damaged), Body: body }));
    const res = await runCli(['check', '--repair', '--older-than', '0'], env());
    assert.equal(res.code, 1);
    assert.match(res.stdout, new RegExp(`archive-without-manifest\t${damaged}\t.*\\(repair failed: .*(integrity|not a valid tar)`));
    const keysNow = await moto.keys(bucket);
    assert.ok(keysNow.includes(archiveKey(damaged)) && !keysNow.includes(manifestKey(damaged)));
    await moto.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: archiveKey(damaged) }));
  });

  it('deletes it only with --delete-orphan-archives, saying that its data goes with it', async () => {
    assert.equal((await runCli(['check', '--delete-orphan-archives'], env())).code, 2);
    const res = await runCli(['check', '--repair', '--delete-orphan-archives', '--older-than', '0'], env());
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stderr, /repairing: delete glacier-backup\/archives\/\S+\.tar\.gpg: the archive and all the data in it are gone for good/);
    const keysNow = await moto.keys(bucket);
    const orphans = keysNow.filter((k) => k.startsWith(`${prefix}archives/`) && !keysNow.includes(k.replace('/archives/', '/catalog/').replace(/\.tar\.gpg$/, '.json.gpg')));
    assert.deepEqual(orphans, [], 'the Deep Archive orphan is deleted');
    const again = await runCli(['check'], env());
    assert.equal(again.code, 0, again.stderr);
  });
});
