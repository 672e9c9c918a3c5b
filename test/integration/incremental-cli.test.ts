/**
 * Incremental backups (format version 2) through the CLI against moto, with real GnuPG and GNU
 * tar: a chain of several days (edits, additions, deletions, a renamed folder, an empty folder, a
 * symlink, a 64 MiB file changed in place) where each day's download equals that day's tree, the
 * documented restore-by-hand block rebuilds the same trees from the same objects, an increment
 * uploads far less than the full, and a missing or damaged archive in the middle of the chain
 * fails with one line naming it.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import * as path from 'node:path';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { useMoto, type Moto } from '../helpers/moto';
import { cliEnv, runCli } from '../helpers/cli';
import { snapshot, writePatternedFile, type TreeEntry } from '../helpers/tree';
import { Gpg } from '../helpers/gpg';

const bucket = 'incremental-cli';
const passphrase = 'chain passphrase';
const MiB = 1024 * 1024;
let moto: Moto;
let work: string;

useMoto(bucket, (m, w) => {
  moto = m;
  work = w;
});

const env = (): NodeJS.ProcessEnv => cliEnv({ endpoint: moto.endpoint, bucket, work, passphrase }, { GLACIER_BACKUP_STORAGE_CLASS: 'STANDARD' });
const objectKey = (kind: 'archives' | 'catalog', id: string): string => `glacier-backup/${kind}/${id}.${kind === 'archives' ? 'tar' : 'json'}.gpg`;

async function getObject(key: string): Promise<Buffer> {
  const res = await moto.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await res.Body!.transformToByteArray());
}

/** The doc's procedure, exactly as written: the one fenced block whose info string is `sh restore-by-hand`. */
function restoreBlock(): string {
  const doc = readFileSync(path.join(__dirname, '..', '..', 'docs', 'format.md'), 'utf8');
  const blocks = [...doc.matchAll(/^```sh restore-by-hand\n([\s\S]*?)^```$/gm)];
  assert.equal(blocks.length, 1, 'docs/format.md has one restore-by-hand block');
  return blocks[0]![1]!;
}

interface Day {
  id: string;
  tree: Map<string, TreeEntry>;
  stderr: string;
  uploaded: number;
}

describe('incremental backups through the CLI', () => {
  const days: Day[] = [];
  let src: string;

  const backUp = async (extra: string[] = []): Promise<Day> => {
    const res = await runCli(['backup', src, ...extra], env());
    assert.equal(res.code, 0, res.stderr);
    const size = /uploaded\)?$/m.test(res.stderr) ? /([\d.]+ (?:B|KiB|MiB|GiB)) uploaded/.exec(res.stderr)![1]! : '0 B';
    const [n, unit] = size.split(' ') as [string, string];
    const uploaded = Number(n) * ({ B: 1, KiB: 1024, MiB: MiB, GiB: 1024 * MiB } as Record<string, number>)[unit]!;
    const day = { id: res.stdout.trim(), tree: snapshot(src), stderr: res.stderr, uploaded };
    days.push(day);
    return day;
  };

  before(() => {
    src = path.join(work, 'data');
    mkdirSync(path.join(src, 'album', 'sub'), { recursive: true });
    mkdirSync(path.join(src, 'docs'));
    mkdirSync(path.join(src, 'empty'));
    for (let i = 0; i < 8; i++) writeFileSync(path.join(src, 'docs', `d${i}.bin`), randomBytes(256 * 1024));
    writeFileSync(path.join(src, 'album', 'a.jpg'), randomBytes(100_000));
    writeFileSync(path.join(src, 'album', 'sub', 'b.jpg'), randomBytes(50_000));
    writeFileSync(path.join(src, 'run.sh'), '#!/bin/sh\necho hi\n');
    chmodSync(path.join(src, 'run.sh'), 0o750);
    symlinkSync('docs/d0.bin', path.join(src, 'link'));
    writePatternedFile(path.join(src, 'big.img'), 64 * MiB, 7);
  });

  it('day 1: a full backup, its 64 MiB file stored by chunks (format version 2)', async () => {
    const d = await backUp();
    assert.match(d.stderr, /^full backup \(0 changed, 13 added, 0 removed: 6\d\.\d MiB uploaded\)$/m);
  });

  it('day 2: an edit, an addition, a deletion, a renamed folder and a new empty one upload far less', async () => {
    writeFileSync(path.join(src, 'docs', 'd1.bin'), randomBytes(1000));
    writeFileSync(path.join(src, 'docs', 'new.txt'), 'new');
    rmSync(path.join(src, 'docs', 'd2.bin'));
    renameSync(path.join(src, 'album'), path.join(src, 'photos'));
    rmSync(path.join(src, 'empty'), { recursive: true });
    mkdirSync(path.join(src, 'empty2'));
    const d = await backUp();
    assert.match(d.stderr, /^1 changed, 1 added, 1 removed: [\d.]+ KiB uploaded$/m);
    assert.ok(d.uploaded * 1000 < days[0]!.uploaded, `${d.uploaded} uploaded against ${days[0]!.uploaded}`);
  });

  it('day 3: the big file changed in place uploads only the changed chunks', async () => {
    const fd = openSync(path.join(src, 'big.img'), 'r+');
    writeSync(fd, randomBytes(64 * 1024), 0, 64 * 1024, 30 * MiB);
    closeSync(fd);
    writeFileSync(path.join(src, 'docs', 'd3.bin'), randomBytes(2000));
    const d = await backUp();
    assert.match(d.stderr, /^2 changed, 0 added, 0 removed: [\d.]+ (KiB|MiB) uploaded$/m);
    assert.ok(d.uploaded < 9 * MiB, `${d.uploaded} bytes uploaded`);
  });

  it('day 4: a deleted photo, a new symlink', async () => {
    rmSync(path.join(src, 'photos', 'sub', 'b.jpg'));
    symlinkSync('../run.sh', path.join(src, 'photos', 'run'));
    const d = await backUp();
    assert.match(d.stderr, /^0 changed, 1 added, 1 removed: [\d.]+ KiB uploaded$/m);
  });

  it('an unchanged tree is still recognised: nothing uploaded', async () => {
    const res = await runCli(['backup', src], env());
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stdout.trim(), days[3]!.id);
    assert.match(res.stderr, /unchanged since archive/);
  });

  it('each day downloads as that day\'s tree: contents, modes, mtimes, symlinks, empty folders, deletions', async () => {
    for (const [n, d] of days.entries()) {
      const res = await runCli(['download', d.id, path.join(work, `dl-${n + 1}`)], env());
      assert.equal(res.code, 0, res.stderr);
      assert.deepEqual(snapshot(path.join(res.stdout.trim(), 'data')), d.tree, `day ${n + 1}`);
    }
  });

  it('verify checks each archive of the chain against what its manifest places in it', async () => {
    for (const d of days) {
      const res = await runCli(['verify', d.id], env());
      assert.equal(res.code, 0, res.stderr);
    }
  });

  it('the restore-by-hand block rebuilds the same trees from the `needs` objects with gpg and tar', async () => {
    const gpg = new Gpg();
    try {
      writeFileSync(path.join(work, 'pw'), passphrase);
      writeFileSync(path.join(gpg.home, 'gpg.conf'), `batch\npinentry-mode loopback\npassphrase-file ${path.join(work, 'pw')}\n`);
      const objects = path.join(work, 'objects');
      mkdirSync(objects, { recursive: true });
      for (const [n, d] of days.entries()) {
        const manifest = gpg.decryptFileWithPassphrase(await saved(objects, objectKey('catalog', d.id)), passphrase);
        assert.equal(manifest.status, 0, manifest.stderr);
        const needs: string[] = JSON.parse(manifest.stdout.toString()).needs ?? [d.id];
        const archives = [];
        for (const id of needs) archives.push(await saved(objects, objectKey('archives', id)));
        const dest = path.join(work, `by-hand-${n + 1}`);
        mkdirSync(dest);
        const run = spawnSync('sh', ['-c', restoreBlock()], { env: { PATH: process.env.PATH, HOME: work, GNUPGHOME: gpg.home, ARCHIVES: archives.join(' '), DEST: dest } });
        assert.equal(run.status, 0, `day ${n + 1}: the block fails: ${run.stderr.toString()}`);
        assert.deepEqual(snapshot(path.join(dest, 'data')), d.tree, `day ${n + 1} by hand`);
      }
    } finally {
      gpg.dispose();
    }
  });

  it('a missing or damaged archive in the middle of the chain fails with one line naming it', async () => {
    const middle = days[1]!.id;
    const key = objectKey('archives', middle);
    const original = await getObject(key);
    await moto.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    const gone = await runCli(['download', days[3]!.id, path.join(work, 'dl-missing')], env());
    assert.equal(gone.code, 1);
    assert.equal(gone.stderr.trim().split('\n').length, 1, gone.stderr);
    assert.match(gone.stderr, new RegExp(`snapshot ${days[3]!.id} needs archive ${middle} of its chain, which is missing`));

    const damaged = Buffer.from(original);
    damaged[damaged.length - 100]! ^= 1;
    await moto.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: damaged }));
    const bad = await runCli(['download', days[3]!.id, path.join(work, 'dl-damaged')], env());
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, new RegExp(`archive ${middle}`));
    assert.deepEqual(spawnSync('ls', ['-A', path.join(work, 'dl-damaged')]).stdout.toString(), '');
    await moto.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: original }));
  });

  it('--full starts a new chain; status and restore take every archive a snapshot reads', async () => {
    writeFileSync(path.join(src, 'docs', 'd4.bin'), randomBytes(10));
    const d = await backUp(['--full']);
    assert.match(d.stderr, /^full backup \(1 changed, 0 added, 0 removed: 6\d\.\d MiB uploaded\): a full backup was asked for$/m);
    const status = await runCli(['status', days[3]!.id, '--json'], env());
    assert.equal(status.code, 0, status.stderr);
    const s = JSON.parse(status.stdout);
    assert.equal(s.state, 'available');
    // Day 4's own archive holds only a symlink, which the manifest makes: it is not read.
    assert.deepEqual(s.archives.map((a: { id: string }) => a.id), days.slice(0, 3).map((x) => x.id));
    const restore = await runCli(['restore', days[3]!.id], env());
    assert.equal(restore.code, 0, restore.stderr);
    assert.match(restore.stderr, new RegExp(`snapshot ${days[3]!.id} reads 3 archives \\([\\d.]+ MiB\\): ${days[0]!.id}, ${days[1]!.id}, ${days[2]!.id}`));
  });

  it('restore --only plans just the archives holding those files, and --dry-run requests nothing', async () => {
    // run.sh never changed: only day 1's full holds it.
    const res = await runCli(['restore', days[3]!.id, '--only', 'data/run.sh', '--dry-run'], env());
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stderr, new RegExp(`^data/run\\.sh in snapshot ${days[3]!.id} reads 1 archive \\([\\d.]+ MiB\\): ${days[0]!.id}$`, 'm'));
    assert.match(res.stderr, /^dry run: nothing was requested$/m);
    assert.equal(res.stdout, '');
    const none = await runCli(['restore', days[3]!.id, '--only', 'data/no-such-file', '--dry-run'], env());
    assert.equal(none.code, 2);
    assert.match(none.stderr, /nothing in snapshot \S+ matches data\/no-such-file/);
  });

  it('a chain may start with a version 1 full (no big files): both download', async () => {
    const small = path.join(work, 'small');
    mkdirSync(small);
    writeFileSync(path.join(small, 'a.txt'), randomBytes(10_000));
    writeFileSync(path.join(small, 'b.txt'), 'b');
    const first = await runCli(['backup', small], env());
    assert.equal(first.code, 0, first.stderr);
    const tree1 = snapshot(small);
    writeFileSync(path.join(small, 'b.txt'), 'b, changed');
    const second = await runCli(['backup', small], env());
    assert.match(second.stderr, /^1 changed, 0 added, 0 removed/m);
    for (const [id, tree] of [[first.stdout.trim(), tree1], [second.stdout.trim(), snapshot(small)]] as const) {
      const res = await runCli(['download', id, path.join(work, 'dl-small')], env());
      assert.equal(res.code, 0, res.stderr);
      assert.deepEqual(snapshot(path.join(res.stdout.trim(), 'small')), tree);
    }
  });
});

/** Downloads an object as `aws s3 cp` would, into `dir`; returns its path. */
async function saved(dir: string, key: string): Promise<string> {
  const file = path.join(dir, path.basename(key));
  writeFileSync(file, await getObject(key));
  return file;
}
