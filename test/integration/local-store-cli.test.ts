/**
 * Every command against a local-folder store (`--store file:///…`, GLACIER_BACKUP_STORE) through
 * the built CLI: no S3, no credentials; restore and status answer at once; the recovery kit's
 * folder commands, run as written with gpg and tar, restore an archive.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { baseEnv, runCli } from '../helpers/cli';
import { Gpg } from '../helpers/gpg';
import { runKitCommands } from '../helpers/kit';
import { makeTree, snapshot, tempDir } from '../helpers/tree';

const passphrase = 'folder store passphrase';
let work: string;
let root: string;
let url: string;
let source: string;
let id: string;

const env = (extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv =>
  baseEnv({ GLACIER_BACKUP_PASSPHRASE: passphrase, GLACIER_BACKUP_STATE_DIR: path.join(work, 'state'), GLACIER_BACKUP_CONFIG_DIR: path.join(work, 'config'), ...extra });

before(() => {
  work = tempDir();
  root = path.join(work, 'drive with space');
  mkdirSync(root);
  url = pathToFileURL(root).href;
  source = path.join(work, 'project');
  makeTree(source);
});
after(() => rmSync(work, { recursive: true, force: true }));

describe('a local-folder store through the CLI', () => {
  const gpg = new Gpg();
  after(() => gpg.dispose());

  it('backup writes archives/ID.tar.gpg and its manifest in the folder; a second one is unchanged', async () => {
    const res = await runCli(['backup', '--store', url, '--no-default-excludes', source], env());
    assert.equal(res.code, 0, res.stderr);
    id = res.stdout.trim();
    assert.ok(existsSync(path.join(root, 'archives', `${id}.tar.gpg`)));
    assert.ok(existsSync(path.join(root, 'catalog', `${id}.json.gpg`)));
    const again = await runCli(['backup', '--no-default-excludes', source], env({ GLACIER_BACKUP_STORE: url }));
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, new RegExp(`unchanged since archive ${id}`));
  });

  it('list, files, status and restore: always available, no restore needed', async () => {
    const list = await runCli(['list', '--json', '--store', url], env());
    assert.equal(list.code, 0, list.stderr);
    const rows = JSON.parse(list.stdout) as { id: string; state: string; storageClass: string; files: number }[];
    assert.deepEqual(rows.map((r) => [r.id, r.state, r.storageClass]), [[id, 'available', 'STANDARD']]);
    assert.ok(rows[0]!.files > 0);
    const files = await runCli(['files', id, '--store', url], env());
    assert.equal(files.code, 0, files.stderr);
    assert.match(files.stdout, /project\/docs\/readme\.md/);
    const status = await runCli(['status', id, '--store', url], env());
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /available/);
    const restore = await runCli(['restore', id, '--store', url], env());
    assert.equal(restore.code, 0, restore.stderr);
    assert.match(restore.stdout + restore.stderr, /needs no restore/);
  });

  it('download, verify and check work on the folder', async () => {
    const res = await runCli(['download', id, path.join(work, 'restored'), '--allow-outside-links', '--store', url], env());
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual(snapshot(path.join(res.stdout.trim(), 'project')), snapshot(source));
    const verify = await runCli(['verify', id, '--store', url], env());
    assert.equal(verify.code, 0, verify.stderr);
    const check = await runCli(['check', '--store', url], env());
    assert.equal(check.code, 0, check.stderr + check.stdout);
  });

  it('the recovery kit names the folder, and its commands restore by hand with gpg and tar', async () => {
    const kit = await runCli(['recovery-kit', '--store', url], env({ GLACIER_BACKUP_PASSPHRASE: undefined }));
    assert.equal(kit.code, 0, kit.stderr);
    assert.match(kit.stdout, new RegExp(`^- Folder: ${root.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} `, 'm'));
    const { run, out } = runKitCommands(kit.stdout, { id, passphrase, work, gnupgHome: gpg.home, manifestTo: '/dev/null' });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`${id}\\.json\\.gpg`));
    assert.deepEqual(snapshot(path.join(out, 'project')), snapshot(source));
  });

  it('refuses what cannot be meant, in one line: a URL with --bucket, check-bucket, a folder that is not there', async () => {
    const both = await runCli(['list', '--bucket', 'b'], env({ GLACIER_BACKUP_STORE: url }));
    assert.equal(both.code, 2);
    assert.equal(both.stderr, 'glacier-backup: GLACIER_BACKUP_STORE names the bucket and prefix itself: give it without --bucket and --prefix\n');
    const bucketCheck = await runCli(['check-bucket', '--store', url], env());
    assert.equal(bucketCheck.code, 2);
    assert.match(bucketCheck.stderr, /^glacier-backup: check-bucket is for S3 buckets; file:\/\/.* is not one\n$/);
    const gone = path.join(work, 'unplugged');
    const missing = await runCli(['list', '--store', pathToFileURL(gone).href], env());
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, `glacier-backup: store folder ${gone} does not exist (is the drive mounted? create the folder to start a new store)\n`);
    const bare = await runCli(['list', '--store', root], env());
    assert.equal(bare.code, 2);
    assert.match(bare.stderr, /not a URL; for this folder write file:\/\//);
  });
});
