/**
 * The IAM policies "Check Bucket" shows, enforced by moto (see helpers/motoIam.ts): a back-up-only
 * user backs up (passphrase and public-key mode), recognises unchanged content, resumes a killed
 * upload, and is refused reads of archives and deletes, with messages that say truthfully what
 * stays behind; a restore-only user lists, restores and downloads; an admin's `check --repair`
 * removes what a refused delete left. Every case asserts the bucket's real content afterwards.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import * as os from 'node:os';
import * as path from 'node:path';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListMultipartUploadsCommand, ListPartsCommand, S3Client } from '@aws-sdk/client-s3';
import { startMotoWithIam, type IamUsers } from '../helpers/motoIam';
import { on, startFaultProxy, type FaultProxy } from '../helpers/faultProxy';
import type { Credentials, Moto } from '../helpers/moto';
import { Gpg } from '../helpers/gpg';
import { assertRestores, cliEnv, runCli, type CliResult } from '../helpers/cli';
import { snapshot, tempDir } from '../helpers/tree';
import { uploadObject } from '../../src/core/store/s3/upload';
import { verifyStored } from '../../src/core/store/s3/storedCheck';
import { keys as storeKeys } from '../../src/core/model/keys';

const bucket = 'iam-tests';
const prefix = 'glacier-backup/';
const passphrase = 'iam passphrase';
let moto: Moto;
let users: IamUsers;
let work: string;
let proxy: FaultProxy;
const gpg = new Gpg();

before(async () => {
  work = tempDir();
  ({ moto, users } = await startMotoWithIam(bucket, prefix));
  proxy = await startFaultProxy(moto.endpoint);
});
after(async () => {
  await proxy?.close();
  await moto?.stop();
  gpg.dispose();
  rmSync(work, { recursive: true, force: true });
});

function env(user: Credentials, extra: Record<string, string | undefined> = {}, endpoint = moto.endpoint): NodeJS.ProcessEnv {
  return cliEnv(
    { endpoint, bucket, work, passphrase },
    { AWS_ACCESS_KEY_ID: user.accessKeyId, AWS_SECRET_ACCESS_KEY: user.secretAccessKey, GLACIER_BACKUP_STORAGE_CLASS: 'STANDARD', ...extra },
  );
}

function clientOf(user: Credentials): S3Client {
  return new S3Client({ endpoint: moto.endpoint, forcePathStyle: true, region: 'us-east-1', credentials: user });
}

const archiveKey = (id: string): string => `${prefix}archives/${id}.tar.gpg`;
const manifestKey = (id: string): string => `${prefix}catalog/${id}.json.gpg`;
const summaryKey = (id: string): string => `${prefix}catalog/${id}.summary.gpg`;

/** A note in a sub-folder plus `mib` MiB of random bytes (more than one 8 MiB part makes a multipart upload). */
function folder(name: string, mib: number): string {
  const dir = path.join(work, name);
  mkdirSync(path.join(dir, 'sub'), { recursive: true });
  writeFileSync(path.join(dir, 'sub', 'note.txt'), `${name}\n`);
  writeFileSync(path.join(dir, 'data.bin'), randomBytes(mib << 20));
  return dir;
}

/** The archive, manifest and catalog summary keys of the ids given, sorted as the bucket lists them. */
function keysOf(...ids: string[]): string[] {
  return ids.flatMap((id) => [archiveKey(id), manifestKey(id), summaryKey(id)]).sort();
}

async function openUploads(): Promise<{ key: string; uploadId: string }[]> {
  const list = await moto.client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
  return (list.Uploads ?? []).map((u) => ({ key: u.Key!, uploadId: u.UploadId! }));
}

function backedUp(res: CliResult): string {
  assert.equal(res.code, 0, res.stderr);
  const id = res.stdout.trim();
  assert.match(id, /^\d{8}T\d{6}Z-[0-9a-f]{16}$/);
  return id;
}

/** Ids of archives made so far: the bucket must hold exactly their archives, manifests and summaries, and `leftBehind`. */
const made: string[] = [];
/** Keys a refused delete left in the bucket, for the admin's check --repair to remove. */
const leftBehind: string[] = [];

/** The freshness marker, which the first successful backup writes (the policy allows it) and each one rewrites. */
const marker = `glacier-backup/${storeKeys.freshness(os.hostname())}`;

function expected(): string[] {
  return [...keysOf(...made), ...leftBehind, ...(made.length ? [marker] : [])].sort();
}

describe('a back-up-only user (the policy "Check Bucket" shows)', () => {
  it('backs up in passphrase mode: the archive is checked from the listing and S3 answer, as reading it back is refused', async () => {
    const source = folder('pass-src', 20);
    const res = await runCli(['backup', source], env(users.backupOnly));
    const id = backedUp(res);
    made.push(id);
    assert.match(res.stderr, /access denied .* read the uploaded archive back: checked its size and etag from the bucket listing/);
    assert.doesNotMatch(res.stderr, /deleted/);
    assert.doesNotMatch(res.stderr, /freshness marker/, 'the policy lets it read and rewrite the marker');
    assert.deepEqual(await moto.keys(bucket), expected());
    assert.deepEqual(await openUploads(), []);
    await assertRestores(id, source, work, env(users.admin));
  });

  it('recognises unchanged content, from its local record and, without one, from the manifests it may read', async () => {
    const source = path.join(work, 'pass-src');
    const withRecord = await runCli(['backup', source], env(users.backupOnly));
    assert.equal(withRecord.code, 0, withRecord.stderr);
    assert.equal(withRecord.stdout.trim(), made[0]);
    assert.match(withRecord.stderr, new RegExp(`unchanged since archive ${made[0]}`));
    const fromManifests = await runCli(['backup', source], env(users.backupOnly, { GLACIER_BACKUP_STATE_DIR: path.join(work, 'fresh-state') }));
    assert.equal(fromManifests.code, 0, fromManifests.stderr);
    assert.equal(fromManifests.stdout.trim(), made[0]);
    assert.deepEqual(await moto.keys(bucket), expected());
  });

  it('backs up in public-key mode, and recognises the unchanged content afterwards', async () => {
    const key = gpg.generateKey('Iam <iam@example.org>', 'iam-key-pass', 'default');
    const recipient = path.join(work, 'iam.asc');
    writeFileSync(recipient, key.publicKey);
    const source = folder('pk-src', 9);
    const pkEnv = env(users.backupOnly, { GLACIER_BACKUP_PASSPHRASE: undefined });
    const id = backedUp(await runCli(['backup', source, '--recipient', recipient], pkEnv));
    made.push(id);
    const again = await runCli(['backup', source, '--recipient', recipient], pkEnv);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout.trim(), id);
    assert.deepEqual(await moto.keys(bucket), expected());
    // gpg with the private key reads what the back-up-only machine wrote.
    const secret = path.join(work, 'iam-secret.asc');
    writeFileSync(secret, key.secretKey);
    const files = await runCli(['files', id, '--identity', secret], env(users.admin, { GLACIER_BACKUP_KEY_PASSPHRASE: 'iam-key-pass' }));
    assert.equal(files.code, 0, files.stderr);
    assert.match(files.stdout, /data\.bin/);
  });

  it('resumes an upload killed after two parts, without sending them again', async () => {
    const source = folder('resume-src', 30);
    proxy.clear();
    proxy.add({ name: 'hold-later-parts', method: 'PUT', url: /[?&]partNumber=([3-9]|\d\d+)&/, times: Infinity, fault: { kind: 'stall-request' } });
    let pid = 0;
    const run = runCli(['backup', source], env(users.backupOnly, {}, proxy.endpoint), { onSpawn: (p) => (pid = p) });
    let open: { key: string; uploadId: string } | undefined;
    const deadline = Date.now() + 60_000;
    for (;;) {
      [open] = await openUploads();
      const parts = open ? await moto.client.send(new ListPartsCommand({ Bucket: bucket, Key: open.key, UploadId: open.uploadId })) : undefined;
      if ((parts?.Parts ?? []).length === 2 && proxy.fired('hold-later-parts') > 0) break;
      assert.ok(Date.now() < deadline, 'timed out waiting for parts 1 and 2');
      await new Promise((r) => setTimeout(r, 100));
    }
    process.kill(pid, 'SIGKILL');
    assert.equal((await run).signal, 'SIGKILL');
    proxy.clear();

    const from = proxy.log.length;
    const res = await runCli(['backup', source], env(users.backupOnly, {}, proxy.endpoint));
    const id = backedUp(res);
    made.push(id);
    assert.equal(archiveKey(id), open!.key, 'the resumed archive keeps the key of the interrupted one');
    assert.match(res.stderr, /resumed upload of archive .* at part 3/);
    const partsSent = proxy.log.slice(from).flatMap((l) => (l.method === 'PUT' ? (/[?&]partNumber=(\d+)/.exec(l.url)?.[1] ?? []) : []));
    assert.deepEqual(partsSent.map(Number).sort((a, b) => a - b), [3, 4]);
    assert.deepEqual(await moto.keys(bucket), expected());
    assert.deepEqual(await openUploads(), []);
    await assertRestores(id, source, work, env(users.admin));
  });

  it("a lost answer to CompleteMultipartUpload, whose retry meets NoSuchUpload, is resolved from the listing", async () => {
    const source = folder('lost-answer-src', 12);
    proxy.clear();
    proxy.add(
      { name: 'reset-complete', ...on.complete, fault: { kind: 'reset-response', afterBytes: 0 } },
      { name: 'nosuchupload', ...on.complete, fault: { kind: 'status', status: 404, code: 'NoSuchUpload', message: 'The specified upload does not exist.' } },
    );
    const res = await runCli(['backup', source], env(users.backupOnly, {}, proxy.endpoint));
    assert.equal(proxy.fired('nosuchupload'), 1);
    proxy.clear();
    const id = backedUp(res);
    made.push(id);
    assert.match(res.stderr, /S3 reported a failure after the whole archive was sent .* but the archive is stored: checking it/);
    assert.deepEqual(await moto.keys(bucket), expected());
    assert.deepEqual(await openUploads(), []);
    await assertRestores(id, source, work, env(users.admin));
  });

  it('is refused reads of archives and deletes of anything', async () => {
    const client = clientOf(users.backupOnly);
    const status = (p: Promise<unknown>): Promise<number | undefined> =>
      p.then(
        () => 200,
        (err: { $metadata?: { httpStatusCode?: number } }) => err.$metadata?.httpStatusCode,
      );
    const key = archiveKey(made[0]!);
    assert.equal(await status(client.send(new GetObjectCommand({ Bucket: bucket, Key: key }))), 403);
    assert.equal(await status(client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))), 403);
    assert.equal(await status(client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }))), 403);
    assert.equal(await status(client.send(new DeleteObjectCommand({ Bucket: bucket, Key: manifestKey(made[0]!) }))), 403);
    client.destroy();
    assert.deepEqual(await moto.keys(bucket), expected());
  });

  it('a part damaged in transit that the endpoint accepts is caught by its ETag, without reading back, and the upload aborted', async () => {
    const source = folder('damaged-src', 12);
    proxy.clear();
    proxy.add({ name: 'corrupt', method: 'PUT', url: /[?&]partNumber=2&/, fault: { kind: 'corrupt-request', atByte: 4096 } });
    const res = await runCli(['backup', source], env(users.backupOnly, {}, proxy.endpoint));
    assert.equal(proxy.fired('corrupt'), 1);
    proxy.clear();
    assert.equal(res.code, 1);
    assert.match(res.stderr, /^glacier-backup: S3 received part 2 of the archive damaged in transit \(its MD5 differs from what was sent\)$/m);
    assert.deepEqual(await moto.keys(bucket), expected());
    assert.deepEqual(await openUploads(), []);
  });

  it('an upload found different from what was sent, which it may not delete, is reported as staying, not as deleted', async () => {
    const client = clientOf(users.backupOnly);
    const key = archiveKey('20260101T000000Z-00000000000000aa');
    const body = randomBytes(1000);
    const notices: string[] = [];
    const verified = await uploadObject({ client, bucket, key, body: (async function* () { yield body; })(), storageClass: 'STANDARD', partSize: 8 << 20, queueSize: 1, endpoint: moto.endpoint, onNotice: (m) => notices.push(m) });
    assert.equal(verified.verified, 'size+etag');
    assert.match(notices.join('\n'), /checked its size and etag from the bucket listing/);
    // The same object, checked against other bytes (as if S3 had stored something else).
    const other = createHash('md5').update(randomBytes(1000)).digest('hex');
    await assert.rejects(verifyStored({ client, bucket, key, endpoint: moto.endpoint, what: 'archive' }, { size: 1000, multipart: false, etags: [other] }, true), (err: Error) => {
      assert.match(err.message, /^the uploaded archive does not match what was sent: S3's ETag of the object is [0-9a-f]{32}, [0-9a-f]{32} was expected/);
      assert.match(err.message, new RegExp(`nothing was recorded, and it could not be deleted \\(access denied .*\\) and stays in the bucket as ${key}: remove it with "glacier-backup check --repair --delete-orphan-archives" run with credentials that may delete`));
      assert.doesNotMatch(err.message, /was deleted/);
      return true;
    });
    client.destroy();
    leftBehind.push(key);
    assert.deepEqual(await moto.keys(bucket), expected(), 'the object stays, as the message says');
  });

  it('when the manifest cannot be written, says that the archive could not be deleted and stays, and how to remove it', async () => {
    const source = folder('orphan-src', 1);
    proxy.clear();
    proxy.add({ name: 'refuse-manifest', method: 'PUT', url: /\/catalog\//, times: Infinity, fault: { kind: 'status', status: 500, code: 'InternalError' } });
    const res = await runCli(['backup', source], env(users.backupOnly, { GLACIER_BACKUP_MAX_ATTEMPTS: '1' }, proxy.endpoint));
    proxy.clear();
    assert.equal(res.code, 1);
    const lines = res.stderr.trim().split('\n');
    const last = lines[lines.length - 1]!;
    const orphan = /stays in the bucket as (\S+\/archives\/\S+\.tar\.gpg): remove it with "glacier-backup check --repair --delete-orphan-archives" run with credentials that may delete/.exec(last);
    assert.ok(orphan, last);
    assert.match(last, /^glacier-backup: .*nothing was recorded, and the uploaded archive could not be deleted \(access denied/);
    assert.doesNotMatch(res.stderr, /was deleted/);
    leftBehind.push(orphan[1]!);
    assert.deepEqual(await moto.keys(bucket), expected(), 'the archive is there, as the message says');
  });
});

describe('the admin, then a restore-only user', () => {
  it("admin's check --repair rebuilds the manifest of the archive that lost it, and --delete-orphan-archives removes what cannot be read", async () => {
    assert.equal(leftBehind.length, 2);
    const refused = await runCli(['check', '--repair', '--older-than', '0'], env(users.backupOnly));
    assert.equal(refused.code, 1);
    assert.match(refused.stdout + refused.stderr, /repair failed: access denied/);
    assert.deepEqual(await moto.keys(bucket), expected(), 'nothing was deleted');
    const [junk, orphan] = leftBehind as [string, string];
    const rebuilt = await runCli(['check', '--repair', '--older-than', '0'], env(users.admin));
    assert.equal(rebuilt.code, 1, 'the object that is no archive cannot be rebuilt');
    assert.match(rebuilt.stdout, new RegExp(`^archive-without-manifest\\t${path.basename(junk, '.tar.gpg')}\\t.*\\(repair failed: `, 'm'));
    const orphanId = path.basename(orphan, '.tar.gpg');
    made.push(orphanId);
    leftBehind.splice(1, 1);
    assert.deepEqual(await moto.keys(bucket), expected(), 'the manifest of the real archive is back');
    const res = await runCli(['check', '--repair', '--delete-orphan-archives', '--older-than', '0'], env(users.admin));
    assert.equal(res.code, 0, res.stderr);
    leftBehind.length = 0;
    assert.deepEqual(await moto.keys(bucket), expected());
    await assertRestores(orphanId, path.join(work, 'orphan-src'), work, env(users.admin));
  });

  it('a restore-only user lists, restores from Deep Archive, and reads status, files, verify and download', async () => {
    const source = folder('deep-src', 1);
    const id = backedUp(await runCli(['backup', source], env(users.backupOnly, { GLACIER_BACKUP_STORAGE_CLASS: 'DEEP_ARCHIVE' })));
    made.push(id);
    const reader = env(users.restore);
    const list = await runCli(['list'], reader);
    assert.equal(list.code, 0, list.stderr);
    for (const m of made) assert.match(list.stdout, new RegExp(m));
    const before = await runCli(['download', id, path.join(work, 'too-early')], reader);
    assert.equal(before.code, 1, 'a Deep Archive object needs a restore first');
    const restore = await runCli(['restore', id, '--tier', 'Standard', '--days', '1'], reader);
    assert.equal(restore.code, 0, restore.stderr);
    const status = await runCli(['status', id, '--json'], reader);
    assert.equal(status.code, 0, status.stderr);
    const files = await runCli(['files', id], reader);
    assert.equal(files.code, 0, files.stderr);
    assert.match(files.stdout, /note\.txt/);
    const verify = await runCli(['verify', id], reader);
    assert.equal(verify.code, 0, verify.stderr);
    const res = await runCli(['download', id, path.join(work, 'deep-out')], reader);
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual(snapshot(path.join(res.stdout.trim(), 'deep-src')), snapshot(source));
    assert.deepEqual(await moto.keys(bucket), expected());
  });
});
