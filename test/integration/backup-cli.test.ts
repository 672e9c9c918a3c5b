/**
 * The backup CLI end to end against real parts: moto (S3 with Deep Archive semantics), stock GnuPG
 * decrypting what we wrote, GNU tar unpacking it, byte-for-byte comparison with the source.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync, readFileSync, rmSync, appendFileSync } from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { useMoto, type Moto } from '../helpers/moto';
import { Gpg } from '../helpers/gpg';
import { cliEnv, runCli } from '../helpers/cli';
import { makeTree, snapshot } from '../helpers/tree';

const bucket = 'backup-cli-tests';
const passphrase = 'correct horse battery staple';
let moto: Moto;
let work: string;

function env(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  return cliEnv({ endpoint: moto.endpoint, bucket: bucket, work, passphrase: passphrase }, extra);
}

async function fetchObject(key: string): Promise<Buffer> {
  const head = await moto.client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  if (head.StorageClass === 'DEEP_ARCHIVE' && !head.Restore) await moto.restore(bucket, key);
  const res = await moto.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await res.Body!.transformToByteArray());
}

/** Decrypts an object with gpg; returns the plaintext and gpg's report. */
async function gpgDecrypt(gpg: Gpg, key: string, secret: string): Promise<{ plain: Buffer; stderr: string }> {
  const file = path.join(work, `obj-${randomBytes(4).toString('hex')}.gpg`);
  writeFileSync(file, await fetchObject(key));
  const res = gpg.decryptFile(file, secret);
  assert.equal(res.status, 0, `gpg failed: ${res.stderr}`);
  assert.doesNotMatch(res.stderr, /not integrity protected|WARNING/i);
  return { plain: res.stdout, stderr: res.stderr };
}

function untar(tarBytes: Buffer, dest: string): void {
  mkdirSync(dest, { recursive: true });
  const res = spawnSync('tar', ['-x', '-p', '-f', '-', '-C', dest], { input: tarBytes });
  assert.equal(res.status, 0, `GNU tar failed: ${res.stderr.toString()}`);
}

useMoto(bucket, (m, w) => {
  moto = m;
  work = w;
});

describe('backup with a passphrase', () => {
  let source: string;
  let id: string;
  const gpg = new Gpg();
  after(() => gpg.dispose());

  it('prints a new archive id and writes the archive and its manifest', async () => {
    source = path.join(work, 'project');
    mkdirSync(source);
    makeTree(source);
    const res = await runCli(['backup', source, '--label', 'My project'], env());
    assert.equal(res.code, 0, res.stderr);
    id = res.stdout.trim();
    assert.match(id, /^\d{8}T\d{6}Z-[0-9a-f]{16}$/);
    assert.match(res.stderr, /created archive/);
    const keys = await moto.keys(bucket);
    assert.ok(keys.includes(`glacier-backup/archives/${id}.tar.gpg`));
    assert.ok(keys.includes(`glacier-backup/catalog/${id}.json.gpg`));
    for (const k of keys) assert.doesNotMatch(k, /project|readme|docs/, 'keys reveal nothing about names');
    const archiveHead = await moto.client.send(new HeadObjectCommand({ Bucket: bucket, Key: `glacier-backup/archives/${id}.tar.gpg` }));
    assert.equal(archiveHead.StorageClass, 'DEEP_ARCHIVE');
    const manifestHead = await moto.client.send(new HeadObjectCommand({ Bucket: bucket, Key: `glacier-backup/catalog/${id}.json.gpg` }));
    assert.equal(manifestHead.StorageClass ?? 'STANDARD', 'STANDARD');
  });

  it('keeps the archive in Deep Archive: a GET before a restore is refused', async () => {
    await assert.rejects(
      moto.client.send(new GetObjectCommand({ Bucket: bucket, Key: `glacier-backup/archives/${id}.tar.gpg` })),
      (err: Error) => err.name === 'InvalidObjectState',
    );
  });

  it('decrypts with stock gpg and unpacks with GNU tar into an identical tree', async () => {
    const { plain, stderr } = await gpgDecrypt(gpg, `glacier-backup/archives/${id}.tar.gpg`, passphrase);
    assert.match(stderr, /AES256/);
    const dest = path.join(work, 'restored');
    untar(plain, dest);
    const expected = snapshot(source, (rel) => rel.startsWith('node_modules'));
    const actual = snapshot(path.join(dest, 'project'));
    assert.deepEqual([...actual.keys()], [...expected.keys()]);
    for (const [rel, want] of expected) {
      const got = actual.get(rel)!;
      assert.equal(got.type, want.type, rel);
      assert.equal(got.sha256, want.sha256, `content of ${rel}`);
      assert.equal(got.target, want.target, `link target of ${rel}`);
      if (want.type !== 'symlink') {
        assert.equal(got.mode, want.mode, `mode of ${rel}`);
        assert.equal(got.mtime, want.mtime, `mtime of ${rel}`);
      }
    }
    assert.ok(actual.has('empty folder'), 'empty folders are kept');
    assert.equal(actual.get('script.sh')!.mode, 0o750);
  });

  it('writes a manifest gpg can decrypt, listing every entry with its sha256', async () => {
    const { plain } = await gpgDecrypt(gpg, `glacier-backup/catalog/${id}.json.gpg`, passphrase);
    const m = JSON.parse(plain.toString('utf8'));
    assert.equal(m.format, 'glacier-backup/manifest');
    assert.equal(m.version, 1);
    assert.equal(m.id, id);
    assert.equal(m.label, 'My project');
    assert.equal(m.archive.storageClass, 'DEEP_ARCHIVE');
    assert.equal(m.encryption.mode, 'passphrase');
    assert.deepEqual(m.sources.map((s: { path: string }) => s.path), [source]);
    const archive = await fetchObject(`glacier-backup/archives/${id}.tar.gpg`);
    assert.equal(m.archive.size, archive.length);
    assert.equal(m.archive.sha256, (await import('node:crypto')).createHash('sha256').update(archive).digest('hex'));
    const readme = m.entries.find((e: { path: string }) => e.path === 'project/docs/readme.md');
    assert.equal(readme.sha256, (await import('node:crypto')).createHash('sha256').update('# hello\n').digest('hex'));
    assert.equal(readme.mtime, Date.parse('2001-02-03T04:05:06Z'));
    assert.ok(!m.entries.some((e: { path: string }) => e.path.includes('node_modules')), 'node_modules is excluded by default');
  });

  it('lists the archive and its files', async () => {
    const list = await runCli(['list', '--json'], env());
    assert.equal(list.code, 0, list.stderr);
    const rows = JSON.parse(list.stdout);
    const row = rows.find((r: { id: string }) => r.id === id);
    assert.equal(row.label, 'My project');
    assert.equal(row.storageClass, 'DEEP_ARCHIVE');
    assert.equal(row.files, 8);
    const files = await runCli(['files', id], env());
    assert.equal(files.code, 0, files.stderr);
    assert.match(files.stdout, /project\/docs\/Ünïcödé — 日本語 ✓\.txt/);
    assert.match(files.stdout, /project\/link-to-readme -> docs\/readme\.md/);
  });

  it('uploads nothing when the content is unchanged, and again when forced or changed', async () => {
    const before = await moto.keys(bucket);
    const again = await runCli(['backup', source], env());
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout.trim(), id);
    assert.match(again.stderr, new RegExp(`unchanged since archive ${id}`));
    assert.deepEqual(await moto.keys(bucket), before);

    // Without the local record, the catalog itself says the content is unchanged.
    rmSync(path.join(work, 'state'), { recursive: true, force: true });
    const fromCatalog = await runCli(['backup', source], env());
    assert.equal(fromCatalog.stdout.trim(), id);

    const forced = await runCli(['backup', source, '--force'], env());
    assert.equal(forced.code, 0, forced.stderr);
    assert.notEqual(forced.stdout.trim(), id);

    appendFileSync(path.join(source, 'docs', 'readme.md'), 'more\n');
    const changed = await runCli(['backup', source], env());
    assert.equal(changed.code, 0, changed.stderr);
    assert.notEqual(changed.stdout.trim(), id);
    assert.notEqual(changed.stdout.trim(), forced.stdout.trim());
    // Two backups: each an archive, a catalog summary and a manifest.
    assert.equal((await moto.keys(bucket)).length, before.length + 6);
  });
});

describe('multipart uploads', () => {
  it('splits a large archive into several parts and it still decrypts byte-identical', async () => {
    const source = path.join(work, 'large');
    mkdirSync(source);
    const data = randomBytes(20 * 1024 * 1024);
    writeFileSync(path.join(source, 'big.bin'), data);
    const res = await runCli(['backup', source, '--storage-class', 'STANDARD', '--prefix', 'multi'], env());
    assert.equal(res.code, 0, res.stderr);
    const key = `multi/archives/${res.stdout.trim()}.tar.gpg`;
    const head = await moto.client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    assert.equal(head.StorageClass ?? 'STANDARD', 'STANDARD');
    const parts = Number(/-(\d+)"?$/.exec(head.ETag ?? '')?.[1] ?? '1');
    assert.ok(parts >= 3, `expected at least 3 parts, ETag ${head.ETag}`);
    const gpg = new Gpg();
    try {
      const { plain } = await gpgDecrypt(gpg, key, passphrase);
      const dest = path.join(work, 'large-restored');
      untar(plain, dest);
      assert.ok(readFileSync(path.join(dest, 'large', 'big.bin')).equals(data));
    } finally {
      gpg.dispose();
    }
    assert.deepEqual(await moto.openUploads(bucket), []);
  });
});
