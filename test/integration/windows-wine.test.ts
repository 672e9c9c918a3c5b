/**
 * The Windows round trip: the built CLI under Node.js for Windows (Wine) backs up a tree with
 * awkward names to moto and downloads it again; the Windows-made archive restores with GNU tar
 * on Linux to folders a user can enter and with our Linux CLI byte for byte; and a Linux archive
 * with names Windows cannot hold restores under Windows with each renaming listed.
 *
 * Needs wine and the Windows node.exe, which .ci/run installs. Under CI (CI set) or with
 * GLACIER_REQUIRE_WINE=1 their absence fails the test; elsewhere it is skipped with the reason.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { useMoto, type Moto } from '../helpers/moto';
import { cliEnv, runCli } from '../helpers/cli';
import { Gpg } from '../helpers/gpg';
import { makeTree } from '../helpers/tree';
import { findWine, linuxPath, preparePrefix, runWineCli, winPath, type Wine } from '../helpers/wine';

const bucket = 'windows-wine-tests';
const passphrase = 'wine is not an emulator';
const required = !['', '0', 'false'].includes(process.env.CI ?? '') || process.env.GLACIER_REQUIRE_WINE === '1';
const found = findWine();
let moto: Moto;
let work: string;

/** Linux-side environment of the CLI: state inside the test's folder. */
function linuxEnv(): NodeJS.ProcessEnv {
  return cliEnv({ endpoint: moto.endpoint, bucket, work, passphrase });
}

/** The same for the Windows CLI: its folders as Windows paths, path-style requests to loopback. */
function windowsEnv(): NodeJS.ProcessEnv {
  return cliEnv(
    { endpoint: moto.endpoint, bucket, work, passphrase },
    { GLACIER_BACKUP_STATE_DIR: winPath(path.join(work, 'win-state')), GLACIER_BACKUP_CONFIG_DIR: winPath(path.join(work, 'win-config')) },
  );
}

/** Type, content hash and whole-second mtime of files; folders by name: what must survive any system. */
function contents(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const visit = (dir: string, rel: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const abs = path.join(dir, name);
      const r = rel ? `${rel}/${name}` : name;
      const st = lstatSync(abs);
      if (st.isDirectory()) {
        out.set(r, 'dir');
        visit(abs, r);
      } else {
        out.set(r, `file ${createHash('sha256').update(readFileSync(abs)).digest('hex')} ${Math.floor(st.mtimeMs / 1000)}`);
      }
    }
  };
  visit(root, '');
  return out;
}

async function fetchArchive(id: string): Promise<Buffer> {
  const key = `glacier-backup/archives/${id}.tar.gpg`;
  const head = await moto.client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  if (!head.Restore) await moto.restore(bucket, key);
  const res = await moto.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await res.Body!.transformToByteArray());
}

function roundTrip(wine: Wine): void {
  useMoto(bucket, (m, w) => {
    moto = m;
    work = w;
  });
  before(() => preparePrefix(wine));
  // Wine's server for the prefix outlives the last program by a few seconds: ended here.
  after(() => spawnSync('wineserver', ['-k'], { env: { ...process.env, WINEPREFIX: wine.prefix }, stdio: 'ignore' }));

  let source: string;
  let id: string;

  it('backs up a tree with awkward names: a Windows long path in, "/" names and portable modes out', async () => {
    source = path.join(work, 'project');
    mkdirSync(source);
    makeTree(source);
    // Wine shows Linux symlinks as their targets (not as Windows links), and node_modules is excluded.
    unlinkSync(path.join(source, 'link-to-readme'));
    unlinkSync(path.join(source, 'dangling-link'));
    rmSync(path.join(source, 'node_modules'), { recursive: true });
    // The long-path form (\\?\Z:\…), as Windows tools hand over paths past 260 characters.
    const res = await runWineCli(wine, ['backup', `\\\\?\\${winPath(source)}`, '--path-style', '--label', 'From Windows'], windowsEnv(), work);
    assert.equal(res.code, 0, res.stderr);
    id = res.stdout.trim();
    assert.match(id, /^\d{8}T\d{6}Z-[0-9a-f]{16}$/, res.stderr);

    const gpg = new Gpg();
    try {
      const file = path.join(work, 'windows-made.tar.gpg');
      writeFileSync(file, await fetchArchive(id));
      const plain = gpg.decryptFileWithPassphrase(file, passphrase);
      assert.equal(plain.status, 0, plain.stderr);
      const listed = spawnSync('tar', ['-tv', '--numeric-owner', '-f', '-'], { input: plain.stdout }).stdout.toString().trim().split('\n');
      assert.ok(listed.length > 10, listed.join('\n'));
      for (const line of listed) {
        assert.doesNotMatch(line, /\\|Z:/, 'no backslash or drive letter in a name');
        assert.match(line, /^(drwxr-xr-x|-rw-r--r--) 0\/0 /, `portable mode and owner: ${line}`);
      }
      assert.ok(listed[0]!.endsWith(' project/'), `the top-level name is the base name: ${listed[0]}`);
      assert.ok(listed.some((l) => l.endsWith(' project/docs/sub dir with spaces/file with spaces.txt')));

      // GNU tar on Linux, as a user restoring by hand: every folder can be entered.
      const byHand = path.join(work, 'gnu-tar');
      mkdirSync(byHand);
      const x = spawnSync('tar', ['-x', '-f', '-', '-C', byHand], { input: plain.stdout });
      assert.equal(x.status, 0, x.stderr.toString());
      const dirs = [...contents(byHand)].filter(([, v]) => v === 'dir').map(([k]) => k);
      assert.ok(dirs.length >= 6);
      for (const d of dirs) assert.equal(statSync(path.join(byHand, d)).mode & 0o777, 0o755, d);
      assert.deepEqual(contents(path.join(byHand, 'project')), contents(source));
    } finally {
      gpg.dispose();
    }
  });

  it('downloads it again under Windows: the same files, contents and times', async () => {
    const dest = path.join(work, 'wine-restore');
    const res = await runWineCli(wine, ['download', id, winPath(dest), '--path-style'], windowsEnv(), work);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stderr, /verified against its manifest/);
    assert.deepEqual(contents(path.join(linuxPath(res.stdout), 'project')), contents(source));
  });

  it('downloads the Windows-made archive on Linux byte for byte, folders 0755 and files 0644', async () => {
    const res = await runCli(['download', id, path.join(work, 'linux-restore')], linuxEnv());
    assert.equal(res.code, 0, res.stderr);
    const restored = path.join(res.stdout.trim(), 'project');
    assert.deepEqual(contents(restored), contents(source));
    assert.equal(statSync(path.join(restored, 'docs')).mode & 0o777, 0o755);
    assert.equal(statSync(path.join(restored, 'script.sh')).mode & 0o777, 0o644, 'no execute bit is guessed');
  });

  it('restores a Linux archive with names Windows cannot hold under mapped names, listing each', async () => {
    const src = path.join(work, 'linux-names');
    mkdirSync(path.join(src, 'CON'), { recursive: true });
    const files: Record<string, string> = { 'a:b.txt': 'colon', 'A.txt': 'upper', 'a.txt': 'lower', 'trailing.': 'dot', 'what?': 'question', 'CON/in.txt': 'device' };
    for (const [name, body] of Object.entries(files)) writeFileSync(path.join(src, name), body);
    const backup = await runCli(['backup', src], linuxEnv());
    assert.equal(backup.code, 0, backup.stderr);
    const linuxId = backup.stdout.trim();
    await moto.restore(bucket, `glacier-backup/archives/${linuxId}.tar.gpg`);

    const dest = path.join(work, 'names-on-windows');
    const res = await runWineCli(wine, ['download', linuxId, winPath(dest), '--path-style'], windowsEnv(), work);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stderr, /note: "linux-names\/a:b\.txt": restored as "linux-names\/a%3Ab\.txt": Windows cannot hold this name/);
    assert.match(res.stderr, /note: "linux-names\/a\.txt": restored as "linux-names\/a~2\.txt": it differs from "A\.txt" only in case/);
    assert.match(res.stderr, /\(6 under other names; see the notes above\)/);
    const restored = path.join(linuxPath(res.stdout), 'linux-names');
    const mapped: Record<string, string> = { 'a%3Ab.txt': 'colon', 'A.txt': 'upper', 'a~2.txt': 'lower', 'trailing%2E': 'dot', 'what%3F': 'question', '%43ON/in.txt': 'device' };
    for (const [name, body] of Object.entries(mapped)) assert.equal(readFileSync(path.join(restored, name), 'utf8'), body, name);
  });
}

if ('missing' in found) {
  describe('the Windows CLI under Wine', () => {
    it('needs wine and the Windows Node.js', (t) => {
      if (required) assert.fail(`the Windows round trip cannot run: ${found.missing}; CI installs both in .ci/run`);
      console.log(`skipping the Windows round trip: ${found.missing}`);
      t.skip(found.missing);
    });
  });
} else {
  const wine = found;
  describe('the Windows CLI under Wine', { timeout: 240_000 }, () => roundTrip(wine));
}
