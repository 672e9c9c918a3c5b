/**
 * File names that are not UTF-8 (Latin-1, stray bytes) through the built CLI against moto: backed
 * up without a skip, listed readably by `files`, restored to the same bytes by `download` and by
 * stock gpg and GNU tar, and recognised as unchanged by the next backup.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
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
});
