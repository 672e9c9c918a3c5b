/**
 * `backup --compression auto|max|off` end to end: stock gpg decrypts (and decompresses) each
 * archive and manifest, GNU tar unpacks the same tree, `download` (our reader) restores it, the
 * manifest says which setting was used, and text shrinks while random data is stored as it is.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { useMoto, type Moto } from '../helpers/moto';
import { Gpg } from '../helpers/gpg';
import { cliEnv, runCli } from '../helpers/cli';
import { makeTree, snapshot } from '../helpers/tree';

const bucket = 'compression-cli-tests';
const passphrase = 'compression end to end';
let moto: Moto;
let work: string;
let source: string;
const gpg = new Gpg();
after(() => gpg.dispose());

useMoto(bucket, (m, w) => {
  moto = m;
  work = w;
});

function env(): NodeJS.ProcessEnv {
  return cliEnv({ endpoint: moto.endpoint, bucket, work, passphrase }, { GLACIER_BACKUP_STORAGE_CLASS: 'STANDARD' });
}

async function fetchObject(key: string): Promise<Buffer> {
  const res = await moto.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await res.Body!.transformToByteArray());
}

function gpgRun(args: string[], object: Buffer): { status: number; stdout: Buffer; stderr: string } {
  const file = path.join(work, `obj-${randomBytes(4).toString('hex')}.gpg`);
  writeFileSync(file, object);
  return gpg.run(['--passphrase-fd', '0', ...args, file], `${passphrase}\n`);
}

/** Text that deflate shrinks to about a quarter, as source code does. */
function sourceCode(lines: number): string {
  return Array.from({ length: lines }, (_, i) => `export function handler${i % 97}(req: Request): Response { return respond(req, ${i}); }\n`).join('');
}

describe('backup --compression', () => {
  before(() => {
    source = path.join(work, 'mixed');
    mkdirSync(source);
    makeTree(source);
    writeFileSync(path.join(source, 'code.ts'), sourceCode(60_000)); // 5 MB
    writeFileSync(path.join(source, 'photo.jpg'), randomBytes(8.5 * 2 ** 20)); // stands for media; with it, every setting uploads two parts of 8 MiB
  });
  const sizes: Record<string, number> = {};
  for (const [setting, recorded] of [
    ['auto', 'zip-adaptive'],
    ['max', 'zip-adaptive-max'],
    ['off', 'none'],
  ] as const) {
    it(`${setting}: gpg -d | tar x and download give the tree back; the manifest records "${recorded}"`, async () => {
      const res = await runCli(['backup', source, '--force', '--compression', setting], env());
      assert.equal(res.code, 0, res.stderr);
      const id = res.stdout.trim();
      const archive = await fetchObject(`glacier-backup/archives/${id}.tar.gpg`);
      sizes[setting] = archive.length;

      const packets = gpgRun(['--list-packets'], archive).stdout.toString();
      if (setting === 'off') assert.doesNotMatch(packets, /:compressed packet/);
      else assert.match(packets, /:compressed packet: algo=1/);

      const tar = gpgRun(['--decrypt'], archive);
      assert.equal(tar.status, 0, tar.stderr);
      const byTar = path.join(work, `tar-${setting}`);
      mkdirSync(byTar);
      const untar = spawnSync('tar', ['-x', '-f', '-', '-C', byTar], { input: tar.stdout });
      assert.equal(untar.status, 0, untar.stderr.toString());
      const expected = snapshot(source, (rel) => rel.startsWith('node_modules'));
      const sameTree = (root: string): void => {
        const actual = snapshot(root);
        assert.deepEqual([...actual.keys()], [...expected.keys()]);
        for (const [rel, want] of expected) assert.equal(actual.get(rel)!.sha256, want.sha256, rel);
      };
      sameTree(path.join(byTar, 'mixed'));

      const manifest = gpgRun(['--decrypt'], await fetchObject(`glacier-backup/catalog/${id}.json.gpg`));
      assert.equal(manifest.status, 0, manifest.stderr);
      assert.equal(JSON.parse(manifest.stdout.toString()).compression, recorded);

      const download = await runCli(['download', id, path.join(work, `dl-${setting}`), '--allow-outside-links'], env());
      assert.equal(download.code, 0, download.stderr);
      sameTree(path.join(download.stdout.trim(), 'mixed'));
    });
  }

  it('auto shrinks the text and stores the random file: well under off, and max no larger than auto', () => {
    const text = 60_000 * 90; // about the size of code.ts
    assert.ok(sizes.off! - sizes.auto! > text * 0.7, `auto ${sizes.auto} against off ${sizes.off}`);
    assert.ok(sizes.auto! > 8.5 * 2 ** 20, 'the random bytes are all there (stored)');
    assert.ok(sizes.max! <= sizes.auto!, `max ${sizes.max} against auto ${sizes.auto}`);
  });

  it('refuses an unknown setting', async () => {
    const res = await runCli(['backup', source, '--compression', 'zstd'], env());
    assert.equal(res.code, 2, res.stderr);
    assert.match(res.stderr, /--compression must be one of auto, max, off/);
  });
});
