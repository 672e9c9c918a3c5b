/**
 * What the local-folder store promises beyond the shared contract (store-conformance.test.ts):
 * the bucket's layout on disk, a root that is never created, links planted in the folder that are
 * never followed, keys that cannot leave the folder, what a crash leaves and how it is cleaned,
 * publishing on file systems without hard links, and errors a user can act on.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, linkSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { spawn, spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { LocalStore } from '../../src/core/store/local/localStore';
import { fsError } from '../../src/core/store/local/fsErrors';
import { createPartial, newUploadId, partialPath, publish } from '../../src/core/store/local/uploads';
import { GlacierError } from '../../src/core/errors';
import type { PutRequest } from '../../src/core/store/archiveStore';
import { encryptStream } from '../../src/core/crypto/openpgp';
import { Gpg } from '../helpers/gpg';
import { tempDir } from '../helpers/tree';

let work: string;
let n = 0;
before(() => {
  work = tempDir('gb-local-store-');
});
after(() => rmSync(work, { recursive: true, force: true }));

function freshRoot(): string {
  const root = path.join(work, `store-${++n}`);
  mkdirSync(root);
  return root;
}

const id = (): string => newUploadId();

/** Whether this process may mount a tmpfs (root on Linux), to fill a real disk. */
function canMountTmpfs(): boolean {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
  const probe = tempDir('gb-mount-probe-');
  try {
    if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe]).status !== 0) return false;
    spawnSync('umount', [probe]);
    return true;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}
const put = (key: string, data: Buffer | string): PutRequest => ({
  key,
  body: (async function* () {
    yield Buffer.from(data);
  })(),
  tier: 'archive',
  sizeBound: data.length,
});

function code(expected: string, message?: RegExp): (err: unknown) => boolean {
  return (err) => {
    assert.ok(err instanceof GlacierError, String(err));
    assert.equal(err.code, expected, err.message);
    if (message) assert.match(err.message, message);
    return true;
  };
}

describe('local-folder store', () => {
  it('keeps the bucket layout: the object is a plain file under its key, and nothing else stays', async () => {
    const root = freshRoot();
    const store = new LocalStore({ root });
    assert.equal(store.name, `file://${root}/`);
    assert.equal(store.coldStorage, false);
    const key = `archives/${id()}.tar.gpg`;
    await store.put(put(key, 'ciphertext'));
    assert.equal(readFileSync(path.join(root, 'archives', key.split('/')[1]!), 'utf8'), 'ciphertext');
    assert.deepEqual(readdirSync(path.join(root, '.uploads')), [], 'no temporary file left');
  });

  it('never creates its root folder: an unmounted drive is a clear error, not a new folder', async () => {
    const root = path.join(work, 'not-mounted', 'glacier-backup');
    const store = new LocalStore({ root });
    const missing = code('no-bucket', new RegExp(`store folder ${root} does not exist`));
    await assert.rejects(store.put(put(`archives/${id()}.tar.gpg`, 'x')), missing);
    await assert.rejects(store.head('archives/x.tar.gpg'), missing);
    await assert.rejects(store.open('archives/x.tar.gpg'), missing);
    await assert.rejects(store.openUploads(), missing);
    await assert.rejects(async () => {
      for await (const _ of store.list('archives/')) void _;
    }, missing);
    assert.equal(existsSync(path.join(work, 'not-mounted')), false);
    writeFileSync(path.join(work, 'a-file'), '');
    await assert.rejects(new LocalStore({ root: path.join(work, 'a-file') }).head('archives/x.tar.gpg'), code('no-bucket', /is not a folder/));
    assert.throws(() => new LocalStore({ root: 'relative/path' }), code('usage'));
  });

  it('refuses keys that could leave the folder or reach its own files', async () => {
    const store = new LocalStore({ root: freshRoot() });
    for (const key of ['', '../x', '/etc/passwd', 'archives/../../x', 'a\\b', 'archives//x', 'archives/', '.uploads/x', 'archives/.hidden', 'C:/x', 'a b']) {
      await assert.rejects(store.head(key), code('usage'), JSON.stringify(key));
      await assert.rejects(store.put(put(key, 'x')), code('usage'), JSON.stringify(key));
    }
    await assert.rejects(async () => {
      for await (const _ of store.list('archives')) void _;
    }, code('usage'));
  });

  it('never follows a link planted in the folder', async () => {
    const root = freshRoot();
    const outside = path.join(work, `outside-${n}`);
    mkdirSync(outside);
    writeFileSync(path.join(outside, 'secret'), 'not yours');
    const store = new LocalStore({ root });
    // A link where an object belongs.
    mkdirSync(path.join(root, 'catalog'));
    symlinkSync(path.join(outside, 'secret'), path.join(root, 'catalog', 'planted.json.gpg'));
    await assert.rejects(store.head('catalog/planted.json.gpg'), code('io', /symbolic link/));
    await assert.rejects(store.open('catalog/planted.json.gpg'), code('io', /symbolic link/));
    await assert.rejects(store.put(put('catalog/planted.json.gpg', 'overwrite')), code('conflict'));
    const listed: string[] = [];
    for await (const o of store.list('')) listed.push(o.key);
    assert.deepEqual(listed, [], 'a link is not an object');
    await store.delete('catalog/planted.json.gpg');
    assert.equal(readFileSync(path.join(outside, 'secret'), 'utf8'), 'not yours', 'delete removed the link, not its target');
    // A link where a folder belongs.
    symlinkSync(outside, path.join(root, 'archives'));
    await assert.rejects(store.put(put('archives/x.tar.gpg', 'x')), code('io', /not a plain folder/));
    await assert.rejects(store.head('archives/secret'), code('io', /not a plain folder/));
    assert.deepEqual(readdirSync(outside), ['secret'], 'nothing written through the link');
    // A link as the upload area.
    rmSync(path.join(root, 'archives'));
    symlinkSync(outside, path.join(root, '.uploads'));
    await assert.rejects(store.put(put('archives/y.tar.gpg', 'y')), code('io', /not a plain folder/));
    assert.deepEqual(readdirSync(outside), ['secret']);
  });

  it('what a crash leaves is listed as an open upload, never as an object, and abortUpload removes it', async () => {
    const root = freshRoot();
    const store = new LocalStore({ root });
    mkdirSync(path.join(root, '.uploads'));
    // Killed while writing.
    const crashed = { key: `archives/${id()}.tar.gpg`, uploadId: id() };
    writeFileSync(partialPath(root, crashed), randomBytes(1000));
    // Killed between publishing the object and removing the temporary name (both name one file).
    const published = `catalog/${id()}.json.gpg`;
    await store.put(put(published, 'manifest'));
    const second = { key: published, uploadId: id() };
    linkSync(path.join(root, published), partialPath(root, second));
    const uploads = await store.openUploads();
    assert.deepEqual(uploads.map((u) => u.key).sort(), [crashed.key, published].sort());
    assert.ok(uploads.every((u) => u.initiated instanceof Date), 'the time an upload began comes from its id');
    assert.deepEqual(await store.uploadedParts(crashed), new Map(), 'nothing of it can be reused');
    const listed: string[] = [];
    for await (const o of store.list('')) listed.push(o.key);
    assert.deepEqual(listed, [published]);
    for (const u of uploads) await store.abortUpload(u);
    assert.deepEqual(await store.openUploads(), []);
    assert.equal((await store.open(published)).size, 'manifest'.length, 'the published object is whole');
    assert.deepEqual(readdirSync(path.join(root, '.uploads')), []);
  });

  it('a writer killed with SIGKILL mid-put leaves no object, only an open upload that abortUpload removes', async () => {
    const root = freshRoot();
    const key = `archives/${id()}.tar.gpg`;
    const script = `
      const { LocalStore } = require(${JSON.stringify(path.resolve(__dirname, '../../src/core/store/local/localStore.ts'))});
      async function* forever() { for (;;) { yield require('node:crypto').randomBytes(1 << 16); await new Promise((r) => setTimeout(r, 5)); } }
      void new LocalStore({ root: ${JSON.stringify(root)} }).put({ key: ${JSON.stringify(key)}, body: forever(), tier: 'archive', sizeBound: 1 << 30 });`;
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], { stdio: 'ignore' });
    const uploads = path.join(root, '.uploads');
    const deadline = Date.now() + 30_000;
    while (!(existsSync(uploads) && readdirSync(uploads).length > 0 && statSync(path.join(uploads, readdirSync(uploads)[0]!)).size > 256 * 1024)) {
      assert.ok(Date.now() < deadline && child.exitCode === null, 'the writer started writing');
      await new Promise((r) => setTimeout(r, 20));
    }
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    const store = new LocalStore({ root });
    assert.equal(await store.head(key), undefined);
    const listed: string[] = [];
    for await (const o of store.list('')) listed.push(o.key);
    assert.deepEqual(listed, []);
    const open = await store.openUploads();
    assert.deepEqual(open.map((u) => u.key), [key]);
    await store.abortUpload(open[0]!);
    assert.deepEqual(readdirSync(uploads), []);
  });

  it('publishes without hard links (FAT, exFAT, some shares) with the same no-replace rule', async () => {
    const root = freshRoot();
    mkdirSync(path.join(root, '.uploads'));
    mkdirSync(path.join(root, 'archives'));
    const key = `archives/${id()}.tar.gpg`;
    const final = path.join(root, key);
    const temps = [0, 1].map(() => partialPath(root, { key, uploadId: id() }));
    for (const [i, t] of temps.entries()) {
      const handle = await createPartial(t);
      await handle.writeFile(`writer ${i}`);
      await handle.close();
    }
    const results = await Promise.allSettled(temps.map((t) => publish(t, final, key, { hardLinks: false })));
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1, 'exactly one wins');
    assert.ok(code('conflict')((results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason));
    assert.match(readFileSync(final, 'utf8'), /^writer [01]$/);
  });

  it('restores by hand with the documented command: gpg -d < archives/ID.tar.gpg | tar x', async () => {
    const root = freshRoot();
    const source = path.join(work, `source-${n}`);
    mkdirSync(path.join(source, 'sub'), { recursive: true });
    writeFileSync(path.join(source, 'sub', 'note.txt'), 'kept on the drive\n');
    const tar = spawnSync('tar', ['-c', '-C', source, 'sub'], { maxBuffer: 1 << 24 });
    assert.equal(tar.status, 0);
    const passphrase = 'local store passphrase';
    const encrypted = await encryptStream(
      (async function* () {
        yield tar.stdout;
      })(),
      { mode: 'passphrase', passphrase },
    );
    const key = `archives/${id()}.tar.gpg`;
    await new LocalStore({ root }).put({ key, body: encrypted, tier: 'archive', sizeBound: tar.stdout.length * 2 + 4096 });
    const gpg = new Gpg();
    try {
      const dest = path.join(work, `restored-${n}`);
      mkdirSync(dest);
      const passFile = path.join(work, `pass-${n}`);
      writeFileSync(passFile, passphrase, { mode: 0o600 });
      const gpgArgs = `gpg --homedir '${gpg.home}' --batch --pinentry-mode loopback --passphrase-file '${passFile}'`;
      const res = spawnSync('sh', ['-c', `${gpgArgs} -d < '${path.join(root, key)}' | tar x -C '${dest}'`], { encoding: 'utf8' });
      assert.equal(res.status, 0, res.stderr);
      assert.equal(readFileSync(path.join(dest, 'sub', 'note.txt'), 'utf8'), 'kept on the drive\n');
    } finally {
      gpg.dispose();
    }
  });

  it('a full disk fails with an io error naming it and the folder, and leaves nothing behind', { skip: !canMountTmpfs() && 'needs root to mount a 1 MiB tmpfs' }, async () => {
    const mountPoint = path.join(work, `small-disk-${++n}`);
    mkdirSync(mountPoint);
    assert.equal(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mountPoint]).status, 0);
    try {
      const root = path.join(mountPoint, 'glacier-backup');
      mkdirSync(root);
      const store = new LocalStore({ root });
      const key = `archives/${id()}.tar.gpg`;
      await assert.rejects(store.put(put(key, randomBytes(3 << 20))), code('io', new RegExp(`the disk holding ${root} is full \\(ENOSPC\\) while trying to upload the archive`)));
      assert.equal(await store.head(key), undefined);
      assert.deepEqual(await store.openUploads(), []);
      assert.deepEqual(readdirSync(path.join(root, '.uploads')), [], 'the temporary file is gone, and its space free');
      await store.put(put(key, randomBytes(100_000)));
    } finally {
      spawnSync('umount', [mountPoint]);
    }
  });

  it('names the full disk and the folder, and maps permission errors', () => {
    const ctx = { root: '/mnt/backup/glacier-backup', file: '/mnt/backup/glacier-backup/archives/x', action: 'upload the archive' };
    const full = fsError(Object.assign(new Error('no space left on device'), { code: 'ENOSPC' }), ctx);
    assert.equal(full.code, 'io');
    assert.match(full.message, /the disk holding \/mnt\/backup\/glacier-backup is full \(ENOSPC\) while trying to upload the archive/);
    assert.equal(fsError(Object.assign(new Error('x'), { code: 'EACCES' }), ctx).code, 'access-denied');
    assert.equal(fsError(Object.assign(new Error('x'), { code: 'ENOENT' }), ctx).code, 'not-found');
    assert.match(fsError(Object.assign(new Error('x'), { code: 'EROFS' }), ctx).message, /read-only/);
  });
});
