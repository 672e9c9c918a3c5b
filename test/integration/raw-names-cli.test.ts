/**
 * File names that are not UTF-8 (Latin-1, stray bytes) through the built CLI against moto: backed
 * up without a skip, listed readably by `files`, restored to the same bytes by `download` and by
 * stock gpg and GNU tar, and recognised as unchanged by the next backup; planted archives and
 * manifests that use such bytes to climb out are refused in one line.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { encryptBytes } from '../../src/core/crypto/openpgp';
import { useMoto, type Moto } from '../helpers/moto';
import { Gpg } from '../helpers/gpg';
import { cliEnv, runCli } from '../helpers/cli';
import { makeRawTree, rawSnapshot } from '../helpers/rawTree';

const bucket = 'raw-names-tests';
const passphrase = 'raw names passphrase';
let moto: Moto;
let work: string;

function env(): NodeJS.ProcessEnv {
  return cliEnv({ endpoint: moto.endpoint, bucket, work, passphrase });
}

useMoto(bucket, (m, w) => {
  moto = m;
  work = w;
});

describe('names that are not UTF-8, through the CLI', () => {
  let source: string;
  let id: string;
  const gpg = new Gpg();
  after(() => gpg.dispose());

  it('backs them up, skipping nothing', async () => {
    source = path.join(work, 'raw');
    mkdirSync(source);
    makeRawTree(source);
    const res = await runCli(['backup', source, '--storage-class', 'STANDARD'], env());
    assert.equal(res.code, 0, res.stderr);
    assert.doesNotMatch(res.stderr, /skipped/);
    assert.match(res.stderr, /created archive .*: 5 files/);
    id = res.stdout.trim();
  });

  it('lists them with each byte that is not UTF-8 as \\xHH', async () => {
    const res = await runCli(['files', id], env());
    assert.equal(res.code, 0, res.stderr);
    for (const shown of ['raw/caf\\xE9.txt', 'raw/\\xFF\\xFE\\x80.bin', 'raw/surrogate-\\xED\\xA0\\x80', 'raw/dossier-\\xE9t\\xE9/r\\xE9sum\\xE9.txt', 'raw/lien-\\xE9 -> caf\\xE9.txt', 'raw/replacement-\ufffd']) {
      assert.ok(res.stdout.includes(shown), `${shown} in:\n${res.stdout}`);
    }
  });

  it('downloads them as the same bytes, all of them or one chosen by its readable name', async () => {
    const all = await runCli(['download', id, path.join(work, 'dest')], env());
    assert.equal(all.code, 0, all.stderr);
    assert.deepEqual(rawSnapshot(path.join(all.stdout.trim(), 'raw')), rawSnapshot(source));

    const one = await runCli(['download', id, path.join(work, 'one'), '--only', 'raw/caf\\xE9.txt'], env());
    assert.equal(one.code, 0, one.stderr);
    const got = rawSnapshot(path.join(one.stdout.trim(), 'raw'));
    assert.deepEqual([...got.keys()], [Buffer.from('caf\xe9.txt', 'latin1').toString('hex')]);
  });

  it('restores the same bytes with stock gpg and GNU tar', async () => {
    const res = await moto.client.send(new GetObjectCommand({ Bucket: bucket, Key: `glacier-backup/archives/${id}.tar.gpg` }));
    const file = path.join(work, 'archive.tar.gpg');
    writeFileSync(file, await res.Body!.transformToByteArray());
    const plain = gpg.decryptFileWithPassphrase(file, passphrase);
    assert.equal(plain.status, 0, plain.stderr);
    const dest = path.join(work, 'by-hand');
    mkdirSync(dest);
    const untar = spawnSync('tar', ['-x', '-f', '-', '-C', dest], { input: plain.stdout });
    assert.equal(untar.status, 0, untar.stderr.toString());
    assert.deepEqual(rawSnapshot(path.join(dest, 'raw')), rawSnapshot(source));
  });

  it('recognises the next backup of the same files as unchanged', async () => {
    const again = await runCli(['backup', source, '--storage-class', 'STANDARD'], env());
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout.trim(), id);
    assert.match(again.stderr, new RegExp(`unchanged since archive ${id}`));
  });

  it('refuses, in one line and writing nothing, a planted archive whose bytes name a path out of the folder', async () => {
    const tar = spawnSync('python3', ['-c', [
      'import sys, tarfile, io',
      'buf = io.BytesIO()',
      'with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT, encoding="utf-8", errors="surrogateescape") as t:',
      '    t.addfile(tarfile.TarInfo(b"raw/../../caf\\xe9".decode("utf-8", "surrogateescape")), io.BytesIO())',
      'sys.stdout.buffer.write(buf.getvalue())',
    ].join('\n')]);
    assert.equal(tar.status, 0, tar.stderr.toString());
    const planted = await encryptBytes(tar.stdout, { mode: 'passphrase', passphrase });
    await moto.client.send(new PutObjectCommand({ Bucket: bucket, Key: `glacier-backup/archives/${id}.tar.gpg`, Body: planted }));
    const dest = path.join(work, 'planted');
    const res = await runCli(['download', id, dest], env());
    assert.equal(res.code, 1, res.stderr);
    assert.match(res.stderr, /^glacier-backup: refused entry "raw\/\.\.\/\.\.\/caf\\xE9": "\.\." segment\n$/);
    assert.deepEqual(readdirSync(dest), []);
  });

  it('refuses, in one line, a planted manifest whose pathBytes climb out of the folder', async () => {
    const key = `glacier-backup/catalog/${id}.json.gpg`;
    const res = await moto.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const file = path.join(work, 'manifest.json.gpg');
    writeFileSync(file, await res.Body!.transformToByteArray());
    const manifest = JSON.parse(gpg.decryptFileWithPassphrase(file, passphrase).stdout.toString()) as { entries: { path: string; pathBytes?: string }[] };
    const cafe = manifest.entries.find((e) => e.path === 'raw/caf\\xE9.txt')!;
    cafe.path = 'raw/../../caf\\xE9.txt';
    cafe.pathBytes = Buffer.from('raw/../../caf\xe9.txt', 'latin1').toString('base64');
    await moto.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: await encryptBytes(Buffer.from(JSON.stringify(manifest)), { mode: 'passphrase', passphrase }) }));
    const files = await runCli(['files', id], env());
    assert.equal(files.code, 1, files.stderr);
    assert.match(files.stderr, /^glacier-backup: manifest of \S+ is invalid: "raw\/\.\.\/\.\.\/caf\\\\xE9\.txt": "pathBytes" has an empty, "\." or "\.\." segment\n$/);
  });
});
