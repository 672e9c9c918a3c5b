/**
 * A file's versions from real backups (a local-folder store): two snapshots of a folder with the
 * file edited between, found through their encrypted manifests, and one version downloaded alone
 * into a new folder, its name with pattern characters taken literally.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { backup } from '../../src/core/jobs/backup';
import { fetchVersion, findFileVersions, manifestReader } from '../../src/core/jobs/fileVersions';
import { LocalStore } from '../../src/core/store/local/localStore';
import { tempDir } from '../helpers/tree';

const passphrase = 'versions passphrase';
let work: string;
let store: LocalStore;
let src: string;
const ids: string[] = [];

before(async () => {
  work = tempDir('gb-versions-');
  const root = path.join(work, 'store');
  mkdirSync(root);
  store = new LocalStore({ root });
  src = path.join(work, 'project', 'src');
  mkdirSync(path.join(src, 'docs'), { recursive: true });
  writeFileSync(path.join(src, 'a[1].txt'), 'first version\n');
  writeFileSync(path.join(src, 'a1.txt'), 'a neighbour the glob would also take\n');
  writeFileSync(path.join(src, 'docs', 'readme.md'), '# docs\n');
  const encryption = { mode: 'passphrase' as const, passphrase };
  ids.push((await backup({ store, paths: [src], encryption, force: true })).id);
  writeFileSync(path.join(src, 'a[1].txt'), 'second version, longer\n');
  ids.push((await backup({ store, paths: [src], encryption, force: true })).id);
});

after(() => rmSync(work, { recursive: true, force: true }));

describe('file versions from real backups', () => {
  it('lists both snapshots of an edited file, newest first, and the unchanged file as unchanged', async () => {
    const archives = ids.map((id) => ({ id }));
    const manifest = manifestReader(store, { passphrase });
    const edited = await findFileVersions({ archives, localPath: path.join(src, 'a[1].txt'), manifest });
    assert.deepEqual(edited.map((v) => v.snapshot), [...ids].reverse());
    assert.deepEqual(edited.map((v) => [v.archivePath, v.entry.size, v.changed]), [
      ['src/a[1].txt', 23, true],
      ['src/a[1].txt', 14, true],
    ]);
    const same = await findFileVersions({ archives, localPath: path.join(src, 'docs', 'readme.md'), manifest });
    assert.deepEqual(same.map((v) => v.changed), [false, true]);
    assert.deepEqual(await findFileVersions({ archives, localPath: path.join(work, 'project', 'other.txt'), manifest }), []);
  });

  it('downloads only the older version of the file into a new folder, and only that file', async () => {
    const [newest, oldest] = await findFileVersions({ archives: ids.map((id) => ({ id })), localPath: path.join(src, 'a[1].txt'), manifest: manifestReader(store, { passphrase }) });
    assert.ok(newest && oldest);
    const dest = path.join(work, 'restore');
    const got = await fetchVersion({ store, version: oldest, decryption: { passphrase }, dest });
    assert.equal(readFileSync(got.path, 'utf8'), 'first version\n');
    assert.equal(path.relative(got.folder, got.path), path.join('src', 'a[1].txt'));
    assert.deepEqual(readdirSync(path.join(got.folder, 'src')), ['a[1].txt'], 'neither a1.txt nor docs');
    // A second download never overwrites the first: it gets a folder of its own.
    const again = await fetchVersion({ store, version: newest, decryption: { passphrase }, dest, folderName: path.basename(got.folder) });
    assert.notEqual(again.folder, got.folder);
    assert.equal(readFileSync(again.path, 'utf8'), 'second version, longer\n');
    assert.equal(readFileSync(got.path, 'utf8'), 'first version\n');
  });
});
