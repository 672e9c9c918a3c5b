/**
 * Archives made by the old seed scripts: `tar -C DIR -cf - . | gpg --symmetric` with real GNU tar
 * and real gpg (default cipher and compression), uploaded as one object with the real AWS CLI
 * into Deep Archive, no manifest. `download-key` refuses before a restore, then restores the
 * tree identically; a wrong passphrase, a damaged object and hostile names leave the destination
 * as it was.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { startMoto, type Moto } from '../helpers/moto';
import { Gpg } from '../helpers/gpg';
import { baseEnv, cliEnv, runCli } from '../helpers/cli';
import { makeTree, snapshot, tempDir } from '../helpers/tree';

const bucket = 'foreign-archive-tests';
const key = 'old/backup-2024.tar.gpg';
const passphrase = 'seed script passphrase';
let moto: Moto;
let work: string;
let source: string;
const gpg = new Gpg();

/** The CLI's environment: the configured bucket is another one, to show the named bucket is used. */
function env(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  return cliEnv({ endpoint: moto.endpoint, bucket: 'some-other-bucket', work, passphrase: passphrase }, extra);
}

/** What the seed script did: tar piped into gpg, the passphrase on fd 0 ahead of the tar stream. */
function seedArchive(tarArgs: string[], out: string): void {
  const res = spawnSync(
    'bash',
    ['-c', 'set -o pipefail; { printf "%s\\n" "$PASS"; tar "$@"; } | gpg --batch --no-tty --pinentry-mode loopback --passphrase-fd 0 --symmetric > "$OUT"', 'seed', ...tarArgs],
    { env: { ...process.env, GNUPGHOME: gpg.home, PASS: passphrase, OUT: out } },
  );
  assert.equal(res.status, 0, res.stderr.toString());
}

/** `aws s3 cp`, as the seed script uploaded; AWS_CA_BUNDLE (and every other AWS_ setting) unset. */
function awsUpload(file: string, target: string, storageClass: string): void {
  const res = spawnSync('aws', ['--endpoint-url', moto.endpoint, 's3', 'cp', file, target, '--storage-class', storageClass, '--only-show-errors'], {
    env: baseEnv({
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_CONFIG_FILE: path.join(work, 'no-aws-config'),
      AWS_SHARED_CREDENTIALS_FILE: path.join(work, 'no-aws-credentials'),
    }),
  });
  assert.equal(res.status, 0, res.stderr.toString());
}

function assertUntouched(dest: string, before: string[]): void {
  assert.deepEqual(readdirSync(dest).sort(), before);
}

function assertSameTree(got: string, want: string): void {
  const w = snapshot(want);
  const g = snapshot(got);
  assert.deepEqual([...g.keys()], [...w.keys()]);
  for (const [rel, e] of w) {
    const x = g.get(rel)!;
    assert.equal(x.type, e.type, rel);
    assert.equal(x.sha256, e.sha256, rel);
    assert.equal(x.target, e.target, rel);
    if (e.type !== 'symlink') {
      assert.equal(x.mode, e.mode, `mode of ${rel}`);
      assert.equal(x.mtime, e.mtime, `mtime of ${rel}`);
    }
  }
}

before(async () => {
  work = tempDir();
  moto = await startMoto();
  await moto.createBucket(bucket);
  source = path.join(work, 'src');
  mkdirSync(source);
  makeTree(source);
  const file = path.join(work, 'backup-2024.tar.gpg');
  seedArchive(['-C', source, '-cf', '-', '.'], file);
  awsUpload(file, `s3://${bucket}/${key}`, 'DEEP_ARCHIVE');
});

after(async () => {
  await moto.stop();
  gpg.dispose();
  rmSync(work, { recursive: true, force: true });
});

describe('a "tar -C DIR -cf - . | gpg --symmetric" object in Deep Archive', () => {
  const dest = () => path.join(work, 'dest');

  it('was made with gpg defaults: a compressed packet inside SEIPD with MDC', () => {
    const res = gpg.run(['--passphrase-fd', '0', '--list-packets', path.join(work, 'backup-2024.tar.gpg')], `${passphrase}\n`);
    assert.equal(res.status, 0, res.stderr);
    const packets = res.stdout.toString();
    assert.match(packets, /:compressed packet: algo=[123]/, 'gpg compressed the tar (its default)');
    assert.match(packets, /mdc_method: 2/);
  });

  it('is refused before a restore, with the command that requests one, leaving the destination empty', async () => {
    mkdirSync(dest());
    const res = await runCli(['download-key', `${bucket}/${key}`, dest()], env());
    assert.equal(res.code, 1, res.stderr);
    assert.match(res.stderr, /is in DEEP_ARCHIVE and not restored: request a restore first \(aws s3api restore-object --bucket foreign-archive-tests --key old\/backup-2024\.tar\.gpg /);
    assert.equal(res.stderr.trim().split('\n').length, 1);
    assert.equal(res.stdout, '');
    assertUntouched(dest(), []);
  });

  it('after a restore, is downloaded, decrypted and unpacked into a new folder identical to the source', async () => {
    await moto.restore(bucket, key);
    // makeTree holds an absolute (dangling) link: refused unless the user allows such links.
    const refused = await runCli(['download-key', `${bucket}/${key}`, dest()], env());
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /refused entry "\.\/dangling-link".*--allow-outside-links restores such links/);
    assertUntouched(dest(), []);

    const res = await runCli(['download-key', `${bucket}/${key}`, dest(), '--allow-outside-links'], env());
    assert.equal(res.code, 0, res.stderr);
    const out = res.stdout.trim();
    assert.equal(path.dirname(out), dest());
    assert.match(path.basename(out), /^backup-2024-\d{4}-\d{2}-\d{2}$/);
    assert.match(res.stderr, /^restored \d+ files from s3:\/\/foreign-archive-tests\/old\/backup-2024\.tar\.gpg, checked by its OpenPGP integrity check \(it has no manifest\)\n$/);
    assertUntouched(dest(), [path.basename(out)]);
    assertSameTree(out, source);

    const again = await runCli(['download-key', `s3://${bucket}/${key}`, dest(), '--allow-outside-links'], env());
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout.trim(), `${out}-2`, 'never overwrites an earlier restore');
  });

  it('restores only a subset', async () => {
    const res = await runCli(['download-key', `${bucket}/${key}`, path.join(work, 'subset'), '--only', 'docs/readme.md', '--allow-outside-links'], env());
    assert.equal(res.code, 0, res.stderr);
    const got = snapshot(res.stdout.trim());
    assert.deepEqual([...got.entries()].filter(([, e]) => e.type === 'file').map(([p]) => p), ['docs/readme.md']);
    const none = await runCli(['download-key', `${bucket}/${key}`, path.join(work, 'subset'), '--only', 'no/such/path', '--allow-outside-links'], env());
    assert.equal(none.code, 2, none.stderr);
    assert.match(none.stderr, /nothing in s3:\/\/.* matches no\/such\/path/);
    assert.equal(readdirSync(path.join(work, 'subset')).length, 1, 'nothing new, no staging left');
  });

  it('a wrong passphrase fails on one line, without the passphrase, leaving nothing new', async () => {
    const before = readdirSync(dest()).sort();
    const wrong = 'definitely not it';
    const res = await runCli(['download-key', `${bucket}/${key}`, dest(), '--allow-outside-links'], env({ GLACIER_BACKUP_PASSPHRASE: wrong }));
    assert.equal(res.code, 1, res.stderr);
    assert.match(res.stderr, /wrong passphrase or key/);
    assert.equal(res.stderr.trim().split('\n').length, 1);
    assert.ok(!res.stderr.includes(wrong) && !res.stderr.includes(passphrase));
    assert.equal(res.stdout, '');
    assertUntouched(dest(), before);
  });

  it('works without a configured bucket: the bucket is the one named', async () => {
    const res = await runCli(['download-key', `${bucket}/${key}`, path.join(work, 'no-config'), '--allow-outside-links'], env({ GLACIER_BACKUP_BUCKET: undefined }));
    assert.equal(res.code, 0, res.stderr);
    assertSameTree(res.stdout.trim(), source);
  });

  it('refuses a malformed target or a missing destination as a usage error', async () => {
    for (const args of [['download-key'], ['download-key', 'just-a-bucket', dest()], ['download-key', '/key-without-bucket', dest()], ['download-key', `${bucket}/`, dest()], ['download-key', `${bucket}/${key}`]]) {
      const res = await runCli(args, env());
      assert.equal(res.code, 2, `${args.join(' ')}: ${res.stderr}`);
      assert.match(res.stderr, /download-key needs a bucket\/key/);
    }
  });

  it('a missing object is reported as such', async () => {
    const res = await runCli(['download-key', `${bucket}/old/nope.tar.gpg`, dest()], env());
    assert.equal(res.code, 1);
    assert.match(res.stderr, /s3:\/\/foreign-archive-tests\/old\/nope\.tar\.gpg does not exist/);
  });
});

describe('other seed-script objects', () => {
  const dest = () => path.join(work, 'other-dest');
  before(() => mkdirSync(dest(), { recursive: true }));

  it('"tar -cf - somedir | gpg -c" restores the folder by its name', async () => {
    const parent = path.join(work, 'named');
    mkdirSync(path.join(parent, 'projects', 'sub'), { recursive: true });
    writeFileSync(path.join(parent, 'projects', 'sub', 'notes.txt'), 'notes\n');
    writeFileSync(path.join(parent, 'projects', 'top.bin'), Buffer.alloc(70_000, 7));
    const file = path.join(work, 'projects.gpg');
    seedArchive(['-C', parent, '-cf', '-', 'projects'], file);
    awsUpload(file, `s3://${bucket}/projects.gpg`, 'STANDARD');
    const res = await runCli(['download-key', `${bucket}/projects.gpg`, dest()], env());
    assert.equal(res.code, 0, res.stderr);
    assert.match(path.basename(res.stdout.trim()), /^projects-\d{4}-\d{2}-\d{2}$/);
    assertSameTree(path.join(res.stdout.trim(), 'projects'), path.join(parent, 'projects'));
  });

  it('a damaged object (one bit flipped, or truncated) is refused, and staging removed', async () => {
    const good = readFileSync(path.join(work, 'projects.gpg'));
    for (const damage of ['flip', 'truncate'] as const) {
      const bytes = Buffer.from(good);
      if (damage === 'flip') bytes[Math.floor(bytes.length / 2)]! ^= 0x10;
      const file = path.join(work, `damaged-${damage}.gpg`);
      writeFileSync(file, damage === 'flip' ? bytes : bytes.subarray(0, bytes.length - 40));
      awsUpload(file, `s3://${bucket}/damaged-${damage}.gpg`, 'STANDARD');
      const before = readdirSync(dest()).sort();
      const res = await runCli(['download-key', `${bucket}/damaged-${damage}.gpg`, dest()], env());
      assert.equal(res.code, 1, `${damage}: ${res.stderr}`);
      assert.match(res.stderr, /integrity check|damaged|not a valid tar/, damage);
      assert.equal(res.stderr.trim().split('\n').length, 1);
      assertUntouched(dest(), before);
    }
  });

  it('a hostile name inside a properly encrypted object is refused by the tar layer', async () => {
    const evil = path.join(work, 'evil');
    mkdirSync(evil);
    writeFileSync(path.join(evil, 'x'), 'x');
    const file = path.join(work, 'evil.tar.gpg');
    // GNU tar keeps a leading "../" with -P; the extractor must refuse it.
    seedArchive(['-C', evil, '-P', '-cf', '-', '../evil/x'], file);
    awsUpload(file, `s3://${bucket}/evil.tar.gpg`, 'STANDARD');
    const before = readdirSync(dest()).sort();
    const res = await runCli(['download-key', `${bucket}/evil.tar.gpg`, dest()], env());
    assert.equal(res.code, 1, res.stderr);
    assert.match(res.stderr, /refused entry "\.\.\/evil\/x": "\.\." segment/);
    assertUntouched(dest(), before);
  });
});
