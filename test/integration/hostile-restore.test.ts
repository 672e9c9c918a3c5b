/**
 * Hostile and unlucky restores through the built CLI against moto: manifests that try to move the
 * restore out of its destination, local failures (disk full, file-size limit, name too long, a
 * staging folder removed by another download) named for what they are, restores by a non-root
 * user of archives with locked folders, a download that never settles, a refused resume request
 * and GNU sparse files. Each ends in one line, and leaves the destination as it was.
 */
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { decryptBytes, encryptBytes } from '../../src/core/crypto/openpgp';
import { download } from '../../src/core/jobs/download';
import { hostTag } from '../../src/core/jobs/staging';
import { GlacierError } from '../../src/core/errors';
import { startMoto, type Moto } from '../helpers/moto';
import { startFaultProxy, on } from '../helpers/faultProxy';
import { Gpg } from '../helpers/gpg';
import { cliEnv, runCli, type CliResult } from '../helpers/cli';
import { S3Store } from '../../src/core/store/s3/s3Store';

const bucket = 'hostile-restore-tests';
const passphrase = 'hostile restore passphrase';
const nobody = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];
const isRoot = process.getuid?.() === 0;
let moto: Moto;
/** World-writable, so that the CLI run as "nobody" can keep its state and restore here. */
let work: string;
const gpg = new Gpg();

function env(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  return cliEnv({ endpoint: moto.endpoint, bucket, work, passphrase }, extra);
}

function assertOneLineFailure(res: CliResult, pattern: RegExp): void {
  assert.equal(res.code, 1, `exit code; stderr: ${res.stderr}`);
  assert.equal(res.stdout, '');
  const lines = res.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line on stderr, got: ${res.stderr}`);
  assert.match(lines[0]!, /^glacier-backup: /);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(lines[0]!, /integrity check/);
}

/** The CLI's environment for runs as "nobody": its own state and config folders. */
function nobodyEnv(): NodeJS.ProcessEnv {
  const home = freshDest('nobody-home', true);
  return env({ GLACIER_BACKUP_STATE_DIR: path.join(home, 'state'), GLACIER_BACKUP_CONFIG_DIR: path.join(home, 'config') });
}

/** A new, empty destination (owned by nobody when `forNobody`). */
function freshDest(name: string, forNobody = false): string {
  const dir = path.join(work, name);
  mkdirSync(dir, { recursive: true });
  if (forNobody && isRoot) chownSync(dir, 65534, 65534);
  return dir;
}

async function backup(name: string, fill: (dir: string) => void): Promise<string> {
  const dir = path.join(work, 'sources', name);
  mkdirSync(dir, { recursive: true });
  fill(dir);
  const res = await runCli(['backup', dir, '--storage-class', 'STANDARD'], env());
  assert.equal(res.code, 0, res.stderr);
  return res.stdout.trim();
}

async function getObject(key: string): Promise<Buffer> {
  const res = await moto.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await res.Body!.transformToByteArray());
}

async function putObject(key: string, body: Uint8Array): Promise<void> {
  await moto.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
}

/** What an attacker with write access to the bucket does: a manifest rewritten and encrypted again. */
async function rewriteManifest(id: string, change: (m: Record<string, unknown>) => void): Promise<void> {
  const key = `glacier-backup/catalog/${id}.json.gpg`;
  const m = JSON.parse(Buffer.from(await decryptBytes(await getObject(key), { passphrase }, 'manifest')).toString('utf8'));
  change(m);
  await putObject(key, await encryptBytes(Buffer.from(JSON.stringify(m)), { mode: 'passphrase', passphrase }));
}

/** `gpg -c` of a tar file, uploaded as a foreign object; returns its bucket/key. */
async function foreignObject(name: string, tarFile: string): Promise<string> {
  const out = path.join(work, `${name}.tar.gpg`);
  const res = gpg.run(['--passphrase-fd', '0', '--symmetric', '-o', out, tarFile], `${passphrase}\n`);
  assert.equal(res.status, 0, res.stderr);
  await putObject(`foreign/${name}.tar.gpg`, readFileSync(out));
  return `${bucket}/foreign/${name}.tar.gpg`;
}

function python(script: string, ...args: string[]): void {
  const res = spawnSync('python3', ['-c', script, ...args]);
  assert.equal(res.status, 0, res.stderr.toString());
}

before(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), 'gb-hostile-'));
  chmodSync(work, 0o777);
  moto = await startMoto();
  await moto.createBucket(bucket);
});

after(async () => {
  await moto.stop();
  gpg.dispose();
  rmSync(work, { recursive: true, force: true });
});

describe('manifest fields are untrusted', () => {
  let id: string;
  before(async () => {
    id = await backup('plain', (dir) => writeFileSync(path.join(dir, 'payload.txt'), 'payload\n'));
  });

  it('a "created" that leaves the destination is refused; nothing is written anywhere', async () => {
    await rewriteManifest(id, (m) => (m.created = '/../../bin'));
    try {
      const dest = freshDest('created/a/restores');
      const res = await runCli(['download', id, dest], env());
      assertOneLineFailure(res, /manifest of .* is invalid: "created" is not an ISO 8601 date/);
      assert.deepEqual(readdirSync(dest), []);
      assert.deepEqual(readdirSync(path.join(work, 'created')), ['a']);
      assert.deepEqual(readdirSync(path.join(work, 'created', 'a')), ['restores']);
    } finally {
      await rewriteManifest(id, (m) => (m.created = new Date().toISOString()));
    }
  });

  const labels: [string, RegExp][] = [
    ['../../../up', /^_\.\._\.\._up-\d{4}-\d{2}-\d{2}$/],
    ['a/b\\c:d', /^a_b_c_d-\d{4}-\d{2}-\d{2}$/],
    ['\u001b[31mred\u0007', /^_\[31mred_-\d{4}-\d{2}-\d{2}$/],
    ['..', /^\d{8}T\d{6}Z-[0-9a-f]{16}-\d{4}-\d{2}-\d{2}$/],
    ['é'.repeat(150), /^(é){80}-\d{4}-\d{2}-\d{2}$/],
  ];
  for (const [label, name] of labels) {
    it(`a label ${JSON.stringify(label.slice(0, 20))} restores into a direct child of the destination`, async () => {
      await rewriteManifest(id, (m) => (m.label = label));
      const dest = freshDest(`labels/${labels.findIndex((l) => l[0] === label)}/dest`);
      const res = await runCli(['download', id, dest], env());
      assert.equal(res.code, 0, res.stderr);
      const out = res.stdout.trim();
      assert.equal(path.dirname(out), dest);
      assert.match(path.basename(out), name);
      assert.equal(readFileSync(path.join(out, 'plain', 'payload.txt'), 'utf8'), 'payload\n');
      assert.deepEqual(readdirSync(path.dirname(dest)), ['dest']);
    });
  }

  for (const folderName of ['../escape', 'a/b', '..', '.', '', 'x\u0000y']) {
    it(`a caller-given folder name ${JSON.stringify(folderName)} is refused before the archive is read`, async () => {
      const dest = freshDest(`folder-name/${Buffer.from(folderName).toString('hex') || 'empty'}/dest`);
      const store = { bucket, prefix: 'glacier-backup/', storageClass: 'STANDARD' as const, endpoint: moto.endpoint };
      await assert.rejects(download({ store: new S3Store(moto.client, store), id, decryption: { passphrase }, dest, folderName }), (err: unknown) => {
        assert.ok(err instanceof GlacierError);
        assert.equal(err.code, 'usage');
        assert.match(err.message, /is not a folder name/);
        return true;
      });
      assert.deepEqual(readdirSync(path.dirname(dest)), ['dest']);
      assert.deepEqual(readdirSync(dest), []);
    });
  }
});

describe('local failures are named, not reported as damage', () => {
  let id: string;
  before(async () => {
    id = await backup('big', (dir) => writeFileSync(path.join(dir, 'one-mebibyte.bin'), Buffer.alloc(1 << 20, 7)));
  });

  it('a full disk (a 256 KiB tmpfs) says so, with the path, and leaves the disk as it was', { skip: !isRoot && 'mounting a tmpfs needs root' }, async () => {
    const dest = freshDest('tiny');
    assert.equal(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', dest]).status, 0);
    try {
      const res = await runCli(['download', id, dest], env());
      assertOneLineFailure(res, /cannot write .*one-mebibyte\.bin: no space left on the device \(ENOSPC\)/);
      assert.deepEqual(readdirSync(dest), []);
    } finally {
      spawnSync('umount', [dest]);
    }
  });

  it('a file-size limit (ulimit -f) says so and leaves the destination as it was', async () => {
    const dest = freshDest('fsize');
    // SIGXFSZ ignored (inherited through exec), so the write fails with EFBIG instead of killing.
    const res = await runCli(['download', id, dest], env(), { wrap: ['bash', '-c', 'trap "" XFSZ; ulimit -f 256; exec "$@"', 'limit'] });
    assertOneLineFailure(res, /cannot write .*one-mebibyte\.bin: the file is larger than .* allows \(EFBIG\)/);
    assert.deepEqual(readdirSync(dest), []);
  });

  it('a name too long for the file system says so', async () => {
    const tarFile = path.join(work, 'long-name.tar');
    python(
      'import io,sys,tarfile\nt=tarfile.open(sys.argv[1],"w",format=tarfile.PAX_FORMAT)\nd=b"x"*10\ni=tarfile.TarInfo("dir/"+"n"*300);i.size=len(d)\nt.addfile(i,io.BytesIO(d));t.close()',
      tarFile,
    );
    const dest = freshDest('long-name');
    const res = await runCli(['download-key', await foreignObject('long-name', tarFile), dest], env());
    assertOneLineFailure(res, /cannot write .*\/dir\/n+….*: the name is too long for this file system \(ENAMETOOLONG\)/);
    assert.deepEqual(readdirSync(dest), []);
  });

  it('a staging folder removed by another download (another host sharing the folder) says so', async () => {
    // What the other host's download did: remove our staging folder while we wrote into it.
    const preload = path.join(work, 'remove-staging.cjs');
    writeFileSync(
      preload,
      "const fs = require('node:fs'); const open = fs.openSync; let done = false;\n" +
        "fs.openSync = function (p, ...rest) { const m = /^(.*\\/\\.glacier-backup-staging-[^/]+)\\//.exec(String(p));\n" +
        '  if (m && !done) { done = true; fs.rmSync(m[1], { recursive: true, force: true }); } return open.call(this, p, ...rest); };\n',
    );
    const dest = freshDest('removed-staging');
    const res = await runCli(['download', id, dest], env({ NODE_OPTIONS: `--require ${preload}` }));
    assertOneLineFailure(res, /the staging folder .*\.glacier-backup-staging-.* was removed while this download ran/);
    assert.deepEqual(readdirSync(dest), []);
  });

  it("another host's staging folder is left alone unless it is a day old; this host's of a dead process is removed", async () => {
    const dest = freshDest('shared');
    const otherHost = hostTag('some-other-host');
    // Same pid as ours would be, on another host: running there, not ours to remove.
    const fresh = `.glacier-backup-staging-${id}-${otherHost}-999999-0123abcd`;
    const old = `.glacier-backup-staging-${id}-${otherHost}-999998-0123abcd`;
    const dead = `.glacier-backup-staging-${id}-${hostTag()}-999997-0123abcd`;
    for (const n of [fresh, old, dead]) mkdirSync(path.join(dest, n, 'inside'), { recursive: true });
    const twoDaysAgo = (Date.now() - 2 * 24 * 3600_000) / 1000;
    utimesSync(path.join(dest, old), twoDaysAgo, twoDaysAgo);
    const res = await runCli(['download', id, dest], env());
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stderr, new RegExp(`removed ${old}`));
    assert.match(res.stderr, new RegExp(`removed ${dead}`));
    assert.deepEqual(readdirSync(dest).filter((n) => n.startsWith('.')), [fresh]);
  });
});

describe('a non-root user restoring locked folders', () => {
  let id: string;
  before(async () => {
    id = await backup('locked', (dir) => {
      for (const [name, mode] of [['no-access', 0o000], ['read-only', 0o555]] as const) {
        mkdirSync(path.join(dir, name, 'deeper'), { recursive: true });
        writeFileSync(path.join(dir, name, 'deeper', 'f.txt'), name);
        chmodSync(path.join(dir, name, 'deeper'), mode);
        chmodSync(path.join(dir, name), mode);
      }
    });
  });

  it('a restore refused after extraction leaves no staging behind, and the next download into the folder works', async () => {
    const dest = freshDest('locked-dest', true);
    // A manifest whose sha256 of one file differs: refused only once the whole tree is written
    // and the folder modes are applied.
    let saved = '';
    await rewriteManifest(id, (m) => {
      const entry = (m.entries as { path: string; sha256?: string }[]).find((e) => e.path === 'locked/no-access/deeper/f.txt')!;
      saved = entry.sha256!;
      entry.sha256 = '0'.repeat(64);
    });
    try {
      const res = await runCli(['download', id, dest], nobodyEnv(), { wrap: nobody });
      assertOneLineFailure(res, /"locked\/no-access\/deeper\/f\.txt" does not match the sha256 in the manifest/);
      assert.deepEqual(readdirSync(dest), []);
    } finally {
      await rewriteManifest(id, (m) => {
        (m.entries as { path: string; sha256?: string }[]).find((e) => e.path === 'locked/no-access/deeper/f.txt')!.sha256 = saved;
      });
    }
    const res = await runCli(['download', id, dest], nobodyEnv(), { wrap: nobody });
    assert.equal(res.code, 0, res.stderr);
    const out = res.stdout.trim();
    assert.equal(lstatSync(path.join(out, 'locked', 'no-access')).mode & 0o777, 0o000);
    assert.equal(lstatSync(path.join(out, 'locked', 'read-only')).mode & 0o777, 0o555);
    assert.deepEqual(readdirSync(dest), [path.basename(out)]);
  });

  it("a killed download's staging with locked folders is removed by the next one", async () => {
    const dest = freshDest('locked-stale', true);
    const stale = path.join(dest, `.glacier-backup-staging-${id}-${hostTag()}-999996-0123abcd`);
    mkdirSync(path.join(stale, 'locked', 'no-access'), { recursive: true });
    writeFileSync(path.join(stale, 'locked', 'no-access', 'f.txt'), 'x');
    if (isRoot) spawnSync('chown', ['-R', '65534:65534', stale]);
    chmodSync(path.join(stale, 'locked', 'no-access'), 0o000);
    chmodSync(path.join(stale, 'locked'), 0o555);
    const res = await runCli(['download', id, dest], nobodyEnv(), { wrap: nobody });
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual(readdirSync(dest), [path.basename(res.stdout.trim())]);
  });
});

describe('however a download ends, its staging folder goes', () => {
  it('a download that never settles ends in one line and leaves no staging', async () => {
    const id = await backup('with-link', (dir) => {
      writeFileSync(path.join(dir, 'a.txt'), 'a');
      spawnSync('ln', ['-s', 'a.txt', path.join(dir, 'link')]);
    });
    // Creating the symlink never answers: the command is left with nothing to wait for.
    const stall = path.join(work, 'stall-symlink.cjs');
    writeFileSync(stall, "require('node:fs').promises.symlink = () => new Promise(() => {});\n");
    const dest = freshDest('never-settles');
    const res = await runCli(['download', id, dest], env({ NODE_OPTIONS: `--require ${stall}` }));
    assertOneLineFailure(res, /internal error: the command stopped before it finished/);
    assert.deepEqual(readdirSync(dest), []);
  });

  it('a resume request that S3 refuses is named as such, not as damage', async () => {
    const id = await backup('resume', (dir) => writeFileSync(path.join(dir, 'r.bin'), randomBytes(2 << 20)));
    const proxy = await startFaultProxy(moto.endpoint);
    try {
      proxy.add(
        { name: 'cut', ...on.archiveGet, fault: { kind: 'reset-response', afterBytes: 200_000 } },
        { name: 'deny', ...on.archiveGet, header: /^range: /, times: Infinity, fault: { kind: 'status', status: 403, code: 'AccessDenied' } },
      );
      const dest = freshDest('resume-refused');
      const res = await runCli(['download', id, dest], env({ GLACIER_BACKUP_ENDPOINT: proxy.endpoint }));
      assertOneLineFailure(res, /access denied to bucket "hostile-restore-tests" while trying to resume the download/);
      assert.equal(proxy.fired('deny'), 1);
      assert.deepEqual(readdirSync(dest), []);
    } finally {
      await proxy.close();
    }
  });
});

describe('GNU sparse files (tar --sparse --format=pax)', () => {
  const sparseSource = (): string => {
    const dir = path.join(work, 'sparse-src');
    mkdirSync(dir, { recursive: true });
    python('import sys\nf=open(sys.argv[1],"wb")\nf.seek(3<<20);f.write(b"middle")\nf.seek(7<<20);f.write(b"end")\nf.truncate(9<<20)', path.join(dir, 'disk.img'));
    return dir;
  };

  it('format 1.0 (GNU tar\'s default) is restored with its content and its holes', async () => {
    const dir = sparseSource();
    const tarFile = path.join(work, 'sparse-1.0.tar');
    assert.equal(spawnSync('tar', ['--sparse', '--format=pax', '-C', dir, '-cf', tarFile, 'disk.img']).status, 0);
    const dest = freshDest('sparse-1.0');
    const res = await runCli(['download-key', await foreignObject('sparse-1.0', tarFile), dest], env());
    assert.equal(res.code, 0, res.stderr);
    const out = res.stdout.trim();
    assert.deepEqual(readdirSync(out), ['disk.img']);
    assert.ok(readFileSync(path.join(out, 'disk.img')).equals(readFileSync(path.join(dir, 'disk.img'))));
    assert.ok(statSync(path.join(out, 'disk.img')).blocks * 512 < 1 << 20, 'the holes stay holes');
  });

  it('format 0.0 is refused with one line, leaving the destination as it was', async () => {
    const tarFile = path.join(work, 'sparse-0.0.tar');
    assert.equal(spawnSync('tar', ['--sparse', '--sparse-version=0.0', '--format=pax', '-C', sparseSource(), '-cf', tarFile, 'disk.img']).status, 0);
    const dest = freshDest('sparse-0.0');
    const res = await runCli(['download-key', await foreignObject('sparse-0.0', tarFile), dest], env());
    assertOneLineFailure(res, /refused entry "disk\.img": a sparse file in GNU format 0\.0, which is not restored/);
    assert.deepEqual(readdirSync(dest), []);
  });
});
