/**
 * Public-key mode: the machine backing up holds only gpg-generated public keys; gpg with the
 * private key decrypts archive and manifest; the CLI reads manifests with --identity.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { startMoto, type Moto } from '../helpers/moto';
import { Gpg } from '../helpers/gpg';
import { cliEnv, runCli } from '../helpers/cli';
import { makeTree, snapshot, tempDir } from '../helpers/tree';

const bucket = 'public-key-tests';
let moto: Moto;
let work: string;
const alice = new Gpg();
const bob = new Gpg();
let aliceKey: ReturnType<Gpg['generateKey']>;
let bobKey: ReturnType<Gpg['generateKey']>;

function env(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  return cliEnv({ endpoint: moto.endpoint, bucket: bucket, work }, { GLACIER_BACKUP_STORAGE_CLASS: 'STANDARD', ...extra });
}

async function download(key: string): Promise<string> {
  const res = await moto.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const file = path.join(work, path.basename(key));
  writeFileSync(file, await res.Body!.transformToByteArray());
  return file;
}

before(async () => {
  work = tempDir();
  moto = await startMoto();
  await moto.createBucket(bucket);
  aliceKey = alice.generateKey('Alice <alice@example.org>', 'alice-key-pass', 'default');
  bobKey = bob.generateKey('Bob <bob@example.org>', 'bob-key-pass', 'future-default');
  writeFileSync(path.join(work, 'alice.asc'), aliceKey.publicKey);
  writeFileSync(path.join(work, 'bob.asc'), bobKey.publicKey);
  writeFileSync(path.join(work, 'alice-secret.asc'), aliceKey.secretKey);
});

after(async () => {
  alice.dispose();
  bob.dispose();
  await moto.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('backup to public keys', () => {
  let id: string;
  let source: string;

  it('backs up without any passphrase or private key', async () => {
    source = path.join(work, 'pk-src');
    mkdirSync(source);
    makeTree(source);
    const res = await runCli(['backup', source, '--recipient', path.join(work, 'alice.asc'), '--recipient', path.join(work, 'bob.asc')], env());
    assert.equal(res.code, 0, res.stderr);
    id = res.stdout.trim();
  });

  it('each recipient decrypts the archive with gpg (RSA and Curve25519 keys)', async () => {
    const file = await download(`glacier-backup/archives/${id}.tar.gpg`);
    for (const [gpg, pass] of [
      [alice, 'alice-key-pass'],
      [bob, 'bob-key-pass'],
    ] as const) {
      const res = gpg.decryptFile(file, pass);
      assert.equal(res.status, 0, res.stderr);
      assert.doesNotMatch(res.stderr, /not integrity protected/);
      const dest = path.join(work, `out-${pass}`);
      mkdirSync(dest);
      const untar = spawnSync('tar', ['-x', '-f', '-', '-C', dest], { input: res.stdout });
      assert.equal(untar.status, 0, untar.stderr.toString());
      const want = snapshot(source, (rel) => rel.startsWith('node_modules'));
      const got = snapshot(path.join(dest, 'pk-src'));
      assert.deepEqual([...got.keys()], [...want.keys()]);
      for (const [rel, w] of want) assert.equal(got.get(rel)!.sha256, w.sha256, rel);
    }
  });

  it('records the recipients in the manifest, which gpg decrypts too', async () => {
    const file = await download(`glacier-backup/catalog/${id}.json.gpg`);
    const res = bob.decryptFile(file, 'bob-key-pass');
    assert.equal(res.status, 0, res.stderr);
    const m = JSON.parse(res.stdout.toString());
    assert.equal(m.encryption.mode, 'public-key');
    assert.deepEqual([...m.encryption.recipients].sort(), [aliceKey.fingerprint, bobKey.fingerprint].sort());
  });

  it('lists without a private key (labels stay encrypted) and shows files with --identity', async () => {
    const list = await runCli(['list', '--recipient', path.join(work, 'alice.asc')], env());
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, new RegExp(`${id}.*\\(encrypted\\)`));
    const files = await runCli(['files', id, '--identity', path.join(work, 'alice-secret.asc')], env({ GLACIER_BACKUP_KEY_PASSPHRASE: 'alice-key-pass' }));
    assert.equal(files.code, 0, files.stderr);
    assert.match(files.stdout, /pk-src\/docs\/readme\.md/);
    const wrong = await runCli(['files', id, '--identity', path.join(work, 'alice-secret.asc')], env({ GLACIER_BACKUP_KEY_PASSPHRASE: 'nope' }));
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /wrong passphrase for private key/);
  });

  it('recognises unchanged content from the local record (it cannot read manifests)', async () => {
    const res = await runCli(['backup', source, '--recipient', path.join(work, 'alice.asc'), '--recipient', path.join(work, 'bob.asc')], env());
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stdout.trim(), id);
  });

  it('downloads with the private key, and refuses a wrong private key', async () => {
    const dest = path.join(work, 'pk-dest');
    const res = await runCli(['download', id, dest, '--identity', path.join(work, 'alice-secret.asc'), '--allow-outside-links'], env({ GLACIER_BACKUP_KEY_PASSPHRASE: 'alice-key-pass' }));
    assert.equal(res.code, 0, res.stderr);
    const got = snapshot(path.join(res.stdout.trim(), 'pk-src'));
    const want = snapshot(source, (rel) => rel.startsWith('node_modules'));
    for (const [rel, w] of want) assert.equal(got.get(rel)?.sha256, w.sha256, rel);

    const carol = new Gpg();
    try {
      const carolKey = carol.generateKey('Carol <carol@example.org>', 'carol-pass', 'future-default');
      writeFileSync(path.join(work, 'carol-secret.asc'), carolKey.secretKey);
      const wrong = await runCli(['download', id, path.join(work, 'carol-dest'), '--identity', path.join(work, 'carol-secret.asc')], env({ GLACIER_BACKUP_KEY_PASSPHRASE: 'carol-pass' }));
      assert.equal(wrong.code, 1);
      assert.match(wrong.stderr, /^glacier-backup: cannot open the manifest of .*: wrong passphrase or key\n$/);
    } finally {
      carol.dispose();
    }
  });

  it('continues with an increment from the local copy of the last manifest, and it downloads', async () => {
    writeFileSync(path.join(source, 'added.txt'), 'added after the first backup');
    const res = await runCli(['backup', source, '--recipient', path.join(work, 'alice.asc'), '--recipient', path.join(work, 'bob.asc')], env());
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stderr, /^0 changed, 1 added, 0 removed: [\d.]+ (B|KiB) uploaded$/m);
    const dl = await runCli(['download', res.stdout.trim(), path.join(work, 'pk-inc'), '--identity', path.join(work, 'alice-secret.asc'), '--allow-outside-links'], env({ GLACIER_BACKUP_KEY_PASSPHRASE: 'alice-key-pass' }));
    assert.equal(dl.code, 0, dl.stderr);
    assert.deepEqual(snapshot(path.join(dl.stdout.trim(), 'pk-src')), snapshot(source, (rel) => rel.startsWith('node_modules')));
  });

  it('refuses a private key given as recipient', async () => {
    const res = await runCli(['backup', source, '--recipient', path.join(work, 'alice-secret.asc')], env());
    assert.equal(res.code, 1);
    assert.match(res.stderr, /is a private key: give the public key/);
  });
});
