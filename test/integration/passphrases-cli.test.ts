/**
 * Several passphrases through the built CLI against moto: archives made under an earlier
 * passphrase stay readable next to the current one, the first passphrase encrypts (checked with
 * GnuPG), and test-passphrase says which passphrase opens what.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { useMoto, type Moto } from '../helpers/moto';
import { Gpg } from '../helpers/gpg';
import { cliEnv, runCli } from '../helpers/cli';
import { makeTree, snapshot } from '../helpers/tree';

const bucket = 'passphrases-tests';
let moto: Moto;
let work: string;
useMoto(bucket, (m, w) => {
  moto = m;
  work = w;
});

const env = (passphrase?: string): NodeJS.ProcessEnv => cliEnv({ endpoint: moto.endpoint, bucket, work, passphrase });
const file = (name: string, text: string): string => {
  const p = path.join(work, name);
  writeFileSync(p, `${text}\n`, { mode: 0o600 });
  return p;
};

describe('several passphrases', () => {
  let oldId: string;
  let newId: string;
  let oldSource: string;
  const gpg = new Gpg();
  after(() => gpg.dispose());

  it('the first passphrase given encrypts a backup; GnuPG opens it with that one', async () => {
    oldSource = path.join(work, 'old-project');
    makeTree(oldSource);
    const made = await runCli(['backup', '--no-default-excludes', oldSource], env('old passphrase'));
    assert.equal(made.code, 0, made.stderr);
    oldId = made.stdout.trim();
    const newSource = path.join(work, 'new-project');
    makeTree(newSource);
    writeFileSync(path.join(newSource, 'extra.txt'), 'new');
    const res = await runCli(['backup', newSource, '--passphrase-file', file('old.txt', 'old passphrase')], env('new passphrase'));
    assert.equal(res.code, 0, res.stderr);
    newId = res.stdout.trim();
    const body = await moto.client.send(new GetObjectCommand({ Bucket: bucket, Key: `glacier-backup/catalog/${newId}.json.gpg` }));
    const manifestFile = path.join(work, 'new-manifest.gpg');
    writeFileSync(manifestFile, await body.Body!.transformToByteArray());
    assert.equal(gpg.decryptFileWithPassphrase(manifestFile, 'new passphrase').status, 0);
    assert.notEqual(gpg.decryptFileWithPassphrase(manifestFile, 'old passphrase').status, 0);
  });

  it('list and download read archives under either passphrase when both are given', async () => {
    const newOnly = await runCli(['list', '--json'], env('new passphrase'));
    assert.equal(newOnly.code, 0, newOnly.stderr);
    const rows = (json: string): Record<string, { files?: unknown }> => Object.fromEntries((JSON.parse(json) as { id: string; files?: unknown }[]).map((r) => [r.id, r]));
    assert.equal(rows(newOnly.stdout)[oldId]!.files ?? null, null, 'the old archive is not opened by the new passphrase alone');
    const both = await runCli(['list', '--json', '--passphrase-file', file('old2.txt', 'old passphrase')], env('new passphrase'));
    assert.equal(both.code, 0, both.stderr);
    assert.ok(typeof rows(both.stdout)[oldId]!.files === 'number', both.stdout);
    assert.ok(typeof rows(both.stdout)[newId]!.files === 'number', both.stdout);
    assert.equal((await runCli(['restore', oldId], env('new passphrase'))).code, 0);
    const res = await runCli(['download', oldId, path.join(work, 'restored'), '--allow-outside-links', '--passphrase-file', file('old3.txt', 'old passphrase')], env('new passphrase'));
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual(snapshot(path.join(res.stdout.trim(), 'old-project')), snapshot(oldSource));
  });

  it('test-passphrase: the newest manifest by default; --all names the archives none opens', async () => {
    const newest = await runCli(['test-passphrase'], env('new passphrase'));
    assert.equal(newest.code, 0, newest.stderr);
    assert.equal(newest.stdout, `GLACIER_BACKUP_PASSPHRASE: opens the newest manifest (${newId})\n`);
    const wrong = await runCli(['test-passphrase'], env('not it'));
    assert.equal(wrong.code, 1);
    assert.equal(wrong.stdout, `GLACIER_BACKUP_PASSPHRASE: does NOT open the newest manifest (${newId})\nnot opened by any: ${newId}\n`);
    assert.equal(wrong.stderr, 'glacier-backup: 1 manifest not opened by this\n');
    const all = await runCli(['test-passphrase', '--all'], env('new passphrase'));
    assert.equal(all.code, 1);
    assert.equal(all.stdout, `GLACIER_BACKUP_PASSPHRASE: opens 1 of 2 manifests\nnot opened by any: ${oldId}\n`);
    const oldFile = file('old4.txt', 'old passphrase');
    const both = await runCli(['test-passphrase', '--all', '--json', '--passphrase-file', oldFile], env('new passphrase'));
    assert.equal(both.code, 0, both.stderr);
    assert.deepEqual(JSON.parse(both.stdout), {
      tried: [newId, oldId],
      candidates: [
        { source: 'GLACIER_BACKUP_PASSPHRASE', opens: [newId] },
        { source: `--passphrase-file ${oldFile}`, opens: [oldId] },
      ],
      unopened: [],
      failed: [],
    });
  });

  it('refuses more passphrases than a reader tries, in one line', async () => {
    const files = ['a', 'b', 'c', 'd'].flatMap((n) => ['--passphrase-file', file(`${n}.txt`, n)]);
    const res = await runCli(['list', ...files], env('new passphrase'));
    assert.equal(res.code, 2);
    assert.equal(res.stderr, 'glacier-backup: at most 4 passphrases are tried: 5 were given\n');
  });
});
