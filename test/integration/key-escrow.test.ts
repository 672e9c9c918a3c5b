/**
 * key escrow and key recover through the built CLI: the escrowed object opens with `gpg -d` and the
 * escrow passphrase alone, and the key in it decrypts an archive made in public-key mode; key
 * recover gives it back (mode 0600, never over a file); a wrong escrow passphrase is one line; check
 * leaves keys/ alone; a local-folder store keeps the same relative path.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { useMoto, type Moto } from '../helpers/moto';
import { Gpg } from '../helpers/gpg';
import { cliEnv, runCli } from '../helpers/cli';
import { makeTree, snapshot } from '../helpers/tree';

const bucket = 'escrow-tests';
const keyPassphrase = 'key passphrase';
const escrowPassphrase = 'a long escrow passphrase, kept apart';
let moto: Moto;
let work: string;
useMoto(bucket, (m, w) => {
  moto = m;
  work = w;
});

const env = (extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv =>
  cliEnv({ endpoint: moto.endpoint, bucket, work }, { GLACIER_BACKUP_KEY_PASSPHRASE: keyPassphrase, GLACIER_BACKUP_STORAGE_CLASS: 'STANDARD', ...extra });

describe('key escrow', () => {
  const gpg = new Gpg();
  after(() => gpg.dispose());
  let fpr: string;
  let priv: string;
  let id: string;
  let source: string;

  it('stores the private key under keys/, STANDARD, and refuses to replace it', async () => {
    const dir = path.join(work, 'keys');
    mkdirSync(dir);
    const gen = await runCli(['key', 'generate', '--name', 'Escrow test', '--out', dir], env());
    assert.equal(gen.code, 0, gen.stderr);
    fpr = /^generated key ([0-9A-F ]+)$/m.exec(gen.stdout)![1]!.replace(/ /g, '');
    priv = path.join(dir, `${fpr}.private.asc`);
    source = path.join(work, 'src');
    makeTree(source);
    const made = await runCli(['backup', '--no-default-excludes', '--recipient', path.join(dir, `${fpr}.pub.asc`), source], env());
    assert.equal(made.code, 0, made.stderr);
    id = made.stdout.trim();

    const res = await runCli(['key', 'escrow', '--identity', priv], env({ GLACIER_BACKUP_ESCROW_PASSPHRASE: escrowPassphrase }));
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, new RegExp(`^escrowed key ${fpr} as glacier-backup/keys/${fpr}\\.asc\\.gpg$`, 'm'));
    const listed = await moto.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'glacier-backup/keys/' }));
    assert.deepEqual(listed.Contents?.map((o) => [o.Key, o.StorageClass]), [[`glacier-backup/keys/${fpr}.asc.gpg`, 'STANDARD']]);

    const again = await runCli(['key', 'escrow', '--identity', priv], env({ GLACIER_BACKUP_ESCROW_PASSPHRASE: 'another long escrow passphrase' }));
    assert.equal(again.code, 1);
    assert.equal(
      again.stderr,
      `glacier-backup: key ${fpr} is already escrowed as glacier-backup/keys/${fpr}.asc.gpg: check it with "glacier-backup key recover ${fpr}"; to change its escrow passphrase, delete that object first\n`,
    );
  });

  it('opens with gpg -d and the escrow passphrase alone, and the key in it decrypts the archive with gpg', async () => {
    const object = await moto.client.send(new GetObjectCommand({ Bucket: bucket, Key: `glacier-backup/keys/${fpr}.asc.gpg` }));
    const file = path.join(work, 'escrowed.asc.gpg');
    writeFileSync(file, await object.Body!.transformToByteArray());
    const opened = gpg.decryptFileWithPassphrase(file, escrowPassphrase);
    assert.equal(opened.status, 0, opened.stderr);
    const armored = opened.stdout.toString();
    assert.match(armored, /^-----BEGIN PGP PRIVATE KEY BLOCK-----/);
    assert.equal(gpg.run(['--passphrase-fd', '0', '--import'], `${keyPassphrase}\n${armored}`).status, 0);
    const archive = await moto.client.send(new GetObjectCommand({ Bucket: bucket, Key: `glacier-backup/archives/${id}.tar.gpg` }));
    const archiveFile = path.join(work, 'archive.tar.gpg');
    writeFileSync(archiveFile, await archive.Body!.transformToByteArray());
    const plain = gpg.decryptFile(archiveFile, keyPassphrase);
    assert.equal(plain.status, 0, plain.stderr);
    assert.ok(plain.stdout.includes(Buffer.from('src/')), 'the tar stream names the backed-up folder');
  });

  it('key recover writes the key (0600, never over a file), and it downloads the archive', async () => {
    const out = path.join(work, 'recovered.asc');
    const res = await runCli(['key', 'recover', fpr.toLowerCase().replace(/(.{4})/g, '$1 '), '--out', out], env({ GLACIER_BACKUP_ESCROW_PASSPHRASE: escrowPassphrase }));
    assert.equal(res.code, 0, res.stderr);
    assert.equal(statSync(out).mode & 0o777, 0o600);
    assert.match(readFileSync(out, 'utf8'), /^-----BEGIN PGP PRIVATE KEY BLOCK-----/);
    const restored = await runCli(['download', id, path.join(work, 'restored'), '--identity', out, '--allow-outside-links'], env());
    assert.equal(restored.code, 0, restored.stderr);
    assert.deepEqual(snapshot(path.join(restored.stdout.trim(), 'src')), snapshot(source));

    const over = await runCli(['key', 'recover', fpr, '--out', out], env({ GLACIER_BACKUP_ESCROW_PASSPHRASE: escrowPassphrase }));
    assert.equal(over.code, 2);
    assert.equal(over.stderr, `glacier-backup: ${out} exists: choose another --out (a key is never written over a file)\n`);
  });

  it('a wrong escrow passphrase, a key never escrowed and a bad fingerprint are one line each, and no file', async () => {
    const out = path.join(work, 'wrong.asc');
    const wrong = await runCli(['key', 'recover', fpr, '--out', out], env({ GLACIER_BACKUP_ESCROW_PASSPHRASE: 'not the escrow passphrase' }));
    assert.equal(wrong.code, 1);
    assert.equal(wrong.stderr, `glacier-backup: the escrow passphrase does not open glacier-backup/keys/${fpr}.asc.gpg\n`);
    assert.equal(existsSync(out), false);
    const missing = await runCli(['key', 'recover', '0'.repeat(40), '--out', out], env({ GLACIER_BACKUP_ESCROW_PASSPHRASE: escrowPassphrase }));
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, `glacier-backup: no escrowed key ${'0'.repeat(40)} in s3://${bucket}/glacier-backup/ (no glacier-backup/keys/${'0'.repeat(40)}.asc.gpg)\n`);
    const bad = await runCli(['key', 'recover', 'ABC', '--out', out], env());
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr, 'glacier-backup: "ABC" is not a key fingerprint (40 hex digits, spaces allowed)\n');
  });

  it('refuses a short escrow passphrase and a public key, and check leaves keys/ alone', async () => {
    const short = await runCli(['key', 'escrow', '--identity', priv], env({ GLACIER_BACKUP_ESCROW_PASSPHRASE: 'short' }));
    assert.equal(short.code, 2);
    assert.equal(short.stderr, 'glacier-backup: the escrow passphrase must have at least 12 characters: with it and the bucket anyone reads every backup\n');
    const pub = priv.replace(/\.private\.asc$/, '.pub.asc');
    const notPrivate = await runCli(['key', 'escrow', '--identity', pub], env({ GLACIER_BACKUP_ESCROW_PASSPHRASE: escrowPassphrase }));
    assert.equal(notPrivate.code, 1);
    assert.equal(notPrivate.stderr, `glacier-backup: --identity ${pub} is not an armored OpenPGP private key: it is a public key (escrow the private key, gpg --armor --export-secret-keys)\n`);
    const check = await runCli(['check', '--identity', priv, '--older-than', '0'], env());
    assert.equal(check.code, 0, check.stdout + check.stderr);
    assert.doesNotMatch(check.stdout + check.stderr, /keys\//);
  });

  it('on a local-folder store, the same relative path', async () => {
    const root = path.join(work, 'drive');
    mkdirSync(root);
    const local = env({ GLACIER_BACKUP_STORE: `file://${root}`, GLACIER_BACKUP_ESCROW_PASSPHRASE: escrowPassphrase });
    const res = await runCli(['key', 'escrow', '--identity', priv], local);
    assert.equal(res.code, 0, res.stderr);
    const stored = path.join(root, 'keys', `${fpr}.asc.gpg`);
    assert.equal(gpg.decryptFileWithPassphrase(stored, escrowPassphrase).status, 0);
    const out = path.join(work, 'from-drive.asc');
    const back = await runCli(['key', 'recover', fpr, '--out', out], local);
    assert.equal(back.code, 0, back.stderr);
    assert.match(readFileSync(out, 'utf8'), /^-----BEGIN PGP PRIVATE KEY BLOCK-----/);
  });
});
