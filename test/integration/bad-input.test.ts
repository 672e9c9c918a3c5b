/**
 * Bad input through the CLI: each case ends with exit code 1 (2 for usage), one clear line on
 * stderr, and nothing left in the bucket: no object, no catalog entry, no open multipart upload.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { startMoto, type Moto } from '../helpers/moto';
import { cliEnv, runCli, type CliResult } from '../helpers/cli';
import { tempDir } from '../helpers/tree';

const bucket = 'bad-input-tests';
let moto: Moto;
let work: string;
let source: string;

function env(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  return cliEnv({ endpoint: moto.endpoint, bucket: bucket, work, passphrase: 'pw' }, extra);
}

function assertOneLineFailure(res: CliResult, pattern: RegExp, code = 1): void {
  assert.equal(res.code, code, `exit code; stderr: ${res.stderr}`);
  assert.equal(res.stdout, '');
  const lines = res.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line on stderr, got: ${res.stderr}`);
  assert.match(lines[0]!, /^glacier-backup: /);
  assert.match(lines[0]!, pattern);
}

async function assertBucketEmpty(): Promise<void> {
  assert.deepEqual(await moto.keys(bucket), []);
  assert.deepEqual(await moto.openUploads(bucket), []);
}

before(async () => {
  work = tempDir();
  moto = await startMoto();
  await moto.createBucket(bucket);
  source = path.join(work, 'src');
  mkdirSync(source);
  writeFileSync(path.join(source, 'a.txt'), 'a');
});

after(async () => {
  await moto.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('bad input', () => {
  it('a path that does not exist', async () => {
    const res = await runCli(['backup', path.join(work, 'no-such-dir')], env());
    assertOneLineFailure(res, /path does not exist: .*no-such-dir/);
    await assertBucketEmpty();
  });

  it('a command left waiting on work that never ends fails instead of passing for done', async () => {
    // Node exits with status 0 once nothing is left to wait for, even with a promise pending: here
    // every lstat never answers, as openpgp.js's streaming decryption once never did.
    const stall = path.join(work, 'stall.cjs');
    writeFileSync(stall, "require('node:fs').promises.lstat = () => new Promise(() => {});\n");
    const res = await runCli(['backup', source], env({ NODE_OPTIONS: `--require ${stall}` }));
    assertOneLineFailure(res, /internal error: the command stopped before it finished/);
    await assertBucketEmpty();
  });

  it('a bucket that does not exist', async () => {
    const res = await runCli(['backup', source, '--bucket', 'no-such-bucket-here'], env());
    assertOneLineFailure(res, /bucket "no-such-bucket-here" does not exist/);
    await assertBucketEmpty();
  });

  it('an endpoint nobody listens on', async () => {
    const res = await runCli(['backup', source, '--endpoint', 'http://127.0.0.1:9'], env());
    assertOneLineFailure(res, /cannot reach S3 at http:\/\/127\.0\.0\.1:9/);
  });

  it('no passphrase and no terminal', async () => {
    const res = await runCli(['backup', source], env({ GLACIER_BACKUP_PASSPHRASE: undefined }));
    assertOneLineFailure(res, /no passphrase: set GLACIER_BACKUP_PASSPHRASE/);
    await assertBucketEmpty();
  });

  it('a passphrase on the command line is refused without echoing it', async () => {
    const res = await runCli(['backup', source, '--passphrase', 'hunter2-secret'], env());
    assertOneLineFailure(res, /--passphrase is not accepted/, 2);
    assert.doesNotMatch(res.stderr, /hunter2-secret/);
  });

  it('a recipient key that is not a valid public key', async () => {
    const bogus = path.join(work, 'bogus.asc');
    writeFileSync(bogus, '-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nnot a key\n-----END PGP PUBLIC KEY BLOCK-----\n');
    const res = await runCli(['backup', source, '--recipient', bogus], env());
    assertOneLineFailure(res, /recipient key .*bogus\.asc is not a valid OpenPGP public key/);
    const missing = await runCli(['backup', source, '--recipient', path.join(work, 'missing.asc')], env());
    assertOneLineFailure(missing, /cannot read recipient key .*missing\.asc: ENOENT/);
    await assertBucketEmpty();
  });

  it('an unknown command or storage class is a usage error', async () => {
    assertOneLineFailure(await runCli(['frobnicate'], env()), /unknown command "frobnicate"/, 2);
    assertOneLineFailure(await runCli(['backup', source, '--storage-class', 'COLD'], env()), /unknown storage class "COLD"/, 2);
  });

  it('an unreadable file is skipped and reported; the rest is backed up', async () => {
    const dir = path.join(work, 'partly-unreadable');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'ok.txt'), 'fine');
    writeFileSync(path.join(dir, 'secret.txt'), 'no access');
    chmodSync(path.join(dir, 'secret.txt'), 0o000);
    // Root reads anything; drop the capabilities that let it, so the file is unreadable for real.
    const wrap = process.getuid?.() === 0 ? ['setpriv', '--bounding-set', '-dac_override,-dac_read_search', '--inh-caps', '-dac_override,-dac_read_search'] : undefined;
    const res = await runCli(['backup', dir, '--prefix', 'partial'], env(), wrap ? { wrap } : {});
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stderr, /skipped \(unreadable: EACCES\): .*secret\.txt/);
    assert.match(res.stderr, /1 files.*1 skipped/);
    const id = res.stdout.trim();
    const files = await runCli(['files', id, '--prefix', 'partial', '--json'], env());
    const paths = JSON.parse(files.stdout).map((e: { path: string }) => e.path);
    assert.deepEqual(paths, ['partly-unreadable', 'partly-unreadable/ok.txt']);
    await moto.client.send(new (await import('@aws-sdk/client-s3')).DeleteObjectsCommand({
      Bucket: bucket,
      Delete: { Objects: (await moto.keys(bucket)).map((Key) => ({ Key })) },
    }));
  });

  it('a cancelled backup aborts its multipart upload and records nothing', async () => {
    const dir = path.join(work, 'big');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'big.bin'), randomBytes(160 * 1024 * 1024));
    let pid = 0;
    const running = runCli(['backup', dir, '--concurrency', '1', '--storage-class', 'STANDARD'], env(), { onSpawn: (p) => (pid = p) });
    const deadline = Date.now() + 60_000;
    while ((await moto.openUploads(bucket)).length === 0) {
      assert.ok(Date.now() < deadline, 'the upload never started');
      await new Promise((r) => setTimeout(r, 50));
    }
    process.kill(pid, 'SIGINT');
    const res = await running;
    assert.equal(res.code, 1, res.stderr);
    assert.match(res.stderr, /glacier-backup: backup cancelled/);
    await assertBucketEmpty();
  });
});

describe('wrong credentials', () => {
  let authMoto: Moto;
  before(async () => {
    // With authentication on, moto checks access keys as AWS does.
    authMoto = await startMoto({ INITIAL_NO_AUTH_ACTION_COUNT: '0' });
  });
  after(async () => authMoto.stop());

  it('says the credentials were rejected, and never prints the secret', async () => {
    const res = await runCli(['backup', source], env({ GLACIER_BACKUP_ENDPOINT: authMoto.endpoint, AWS_ACCESS_KEY_ID: 'AKIAWRONGWRONGWRONG1', AWS_SECRET_ACCESS_KEY: 'very-secret-value-123' }));
    assertOneLineFailure(res, /S3 rejected the credentials \(InvalidAccessKeyId\)/);
    assert.doesNotMatch(res.stderr, /very-secret-value-123/);
  });
});
