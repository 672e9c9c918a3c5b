/**
 * key generate through the built CLI: GnuPG reads the key pair it writes, and an archive
 * encrypted to the public key is decrypted by `gpg -d` with the private key, and by download.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { useMoto, type Moto } from '../helpers/moto';
import { Gpg } from '../helpers/gpg';
import { cliEnv, runCli } from '../helpers/cli';
import { makeTree, snapshot } from '../helpers/tree';

const bucket = 'keys-tests';
const keyPassphrase = 'key passphrase';
let moto: Moto;
let work: string;
useMoto(bucket, (m, w) => {
  moto = m;
  work = w;
});

const env = (extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv =>
  cliEnv({ endpoint: moto.endpoint, bucket, work }, { GLACIER_BACKUP_KEY_PASSPHRASE: keyPassphrase, GLACIER_BACKUP_STORAGE_CLASS: 'STANDARD', ...extra });

describe('key generate', () => {
  const gpg = new Gpg();
  after(() => gpg.dispose());
  let pub: string;
  let priv: string;

  it('writes a public key to share and a private key only its owner reads', async () => {
    const dir = path.join(work, 'keys');
    mkdirSync(dir);
    const res = await runCli(['key', 'generate', '--name', 'Laptop backups', '--email', 'backup@example.com', '--out', dir], env());
    assert.equal(res.code, 0, res.stderr);
    const fpr = /^generated key ((?:[0-9A-F]{4} ){9}[0-9A-F]{4})$/m.exec(res.stdout)![1]!.replace(/ /g, '');
    assert.deepEqual(readdirSync(dir).sort(), [`${fpr}.private.asc`, `${fpr}.pub.asc`]);
    pub = path.join(dir, `${fpr}.pub.asc`);
    priv = path.join(dir, `${fpr}.private.asc`);
    assert.equal(statSync(priv).mode & 0o777, 0o600);
    const shown = gpg.run(['--with-colons', '--show-keys', pub]).stdout.toString();
    assert.match(shown, /^pub:[^:]*:255:22:/m, 'an Ed25519 (legacy EdDSA) primary key');
    assert.match(shown, /^sub:[^:]*:255:18:.*:e:/m, 'a Curve25519 ECDH encryption subkey');
    assert.match(shown, /^uid:.*Laptop backups <backup@example\.com>/m);
    const again = await runCli(['key', 'generate', '--name', 'x', '--out', dir], env());
    assert.equal(again.code, 0, 'a new key has a new fingerprint, so new names');
    const noName = await runCli(['key', 'generate', '--out', dir], env());
    assert.equal(noName.code, 2);
    assert.equal(noName.stderr, 'glacier-backup: key generate needs --name (e.g. --name "Backups of laptop")\n');
  });

  it('an archive made for the public key opens with gpg -d and the private key, and downloads with --identity', async () => {
    const source = path.join(work, 'src');
    makeTree(source);
    const made = await runCli(['backup', '--no-default-excludes', '--recipient', pub, source], env());
    assert.equal(made.code, 0, made.stderr);
    const id = made.stdout.trim();
    assert.equal(gpg.run(['--passphrase-fd', '0', '--import', priv], `${keyPassphrase}\n`).status, 0);
    const object = await moto.client.send(new GetObjectCommand({ Bucket: bucket, Key: `glacier-backup/archives/${id}.tar.gpg` }));
    const file = path.join(work, 'archive.tar.gpg');
    writeFileSync(file, await object.Body!.transformToByteArray());
    const plain = gpg.decryptFile(file, keyPassphrase);
    assert.equal(plain.status, 0, plain.stderr);
    const listing = spawnSync('tar', ['-t'], { input: plain.stdout, encoding: 'utf8' });
    assert.equal(listing.status, 0, listing.stderr);
    assert.match(listing.stdout, /^src\/$/m);
    const res = await runCli(['download', id, path.join(work, 'restored'), '--identity', priv, '--allow-outside-links'], env());
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual(snapshot(path.join(res.stdout.trim(), 'src')), snapshot(source));
  });
});
