/**
 * Two CLI backups at once into the same bucket and prefix, and CLI processes killed with SIGKILL
 * in the middle of an upload and of a download: nothing half-done is ever listed or published,
 * and what a killed process leaves behind is cleaned by the next run (download) or by
 * `check --repair` (an unfinished multipart upload).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { useMotoBehindFaultProxy, type Moto } from '../helpers/moto';
import { on, type FaultProxy } from '../helpers/faultProxy';
import { assertRestores, cliEnv, runCli, type CliResult } from '../helpers/cli';
import { snapshot } from '../helpers/tree';

const bucket = 'concurrency-tests';
const passphrase = 'concurrency passphrase';
let moto: Moto;
let proxy: FaultProxy;
let work: string;

function env(endpoint = moto.endpoint): NodeJS.ProcessEnv {
  return cliEnv({ endpoint, bucket, work, passphrase }, { GLACIER_BACKUP_STORAGE_CLASS: 'STANDARD' });
}

function folder(name: string, bytes: number): string {
  const dir = path.join(work, name);
  mkdirSync(path.join(dir, 'sub'), { recursive: true });
  writeFileSync(path.join(dir, 'data.bin'), randomBytes(bytes));
  writeFileSync(path.join(dir, 'sub', 'note.txt'), `${name}\n`);
  return dir;
}

async function until(condition: () => boolean, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Runs the CLI and kills it with SIGKILL once `ready` holds. */
async function killWhen(args: string[], e: NodeJS.ProcessEnv, ready: () => boolean, what: string): Promise<CliResult> {
  let pid = 0;
  const run = runCli(args, e, { onSpawn: (p) => (pid = p) });
  await until(ready, what);
  process.kill(pid, 'SIGKILL');
  return run;
}

function restoreAndCompare(id: string, source: string): Promise<void> {
  return assertRestores(id, source, work, env());
}

useMotoBehindFaultProxy(bucket, (m, w, p) => {
  moto = m;
  work = w;
  proxy = p;
});

describe('two backups at once', () => {
  it('both finish, both are listed, both restore byte-identical', async () => {
    const a = folder('alpha', 9 << 20);
    const b = folder('beta', 9 << 20);
    const [ra, rb] = await Promise.all([runCli(['backup', a, '--label', 'alpha'], env()), runCli(['backup', b, '--label', 'beta'], env())]);
    assert.equal(ra.code, 0, ra.stderr);
    assert.equal(rb.code, 0, rb.stderr);
    const [ia, ib] = [ra.stdout.trim(), rb.stdout.trim()];
    assert.notEqual(ia, ib);
    const list = await runCli(['list', '--json'], env());
    assert.equal(list.code, 0, list.stderr);
    const rows = JSON.parse(list.stdout) as { id: string; label: string; files: number; problem?: string }[];
    assert.deepEqual(rows.filter((r) => r.id === ia || r.id === ib).map((r) => [r.label, r.files, r.problem]).sort(), [['alpha', 2, undefined], ['beta', 2, undefined]]);
    await restoreAndCompare(ia, a);
    await restoreAndCompare(ib, b);
    // Both were recorded for the unchanged-content check, despite writing the same state file at once.
    const again = await Promise.all([runCli(['backup', a], env()), runCli(['backup', b], env())]);
    assert.deepEqual(again.map((r) => r.stdout.trim()), [ia, ib]);
    for (const r of again) assert.match(r.stderr, /unchanged since archive/);
    assert.deepEqual(await moto.openUploads(bucket), []);
  });
});

describe('kill -9', () => {
  it('in the middle of a multipart upload: nothing is listed; check --repair aborts the leftover upload', async () => {
    const source = folder('killed-upload', 9 << 20);
    const keysBefore = await moto.keys(bucket);
    proxy.clear();
    proxy.add({ name: 'hold-part-2', method: 'PUT', url: /[?&]partNumber=2&/, times: Infinity, fault: { kind: 'stall-request' } });
    const res = await killWhen(['backup', source], env(proxy.endpoint), () => proxy.fired('hold-part-2') > 0, 'part 2 to be sent');
    proxy.clear();
    assert.equal(res.signal, 'SIGKILL');
    assert.deepEqual(await moto.keys(bucket), keysBefore, 'no archive and no manifest of the killed backup');
    assert.equal((await moto.openUploads(bucket)).length, 1);
    const list = await runCli(['list', '--json'], env());
    // Each snapshot before it: an archive, a catalog summary and a manifest.
    assert.equal(JSON.parse(list.stdout).length, keysBefore.length / 3);
    const check = await runCli(['check', '--older-than', '0'], env());
    assert.equal(check.code, 1);
    assert.match(check.stdout, /^unfinished-upload\t.*\.tar\.gpg\tunfinished upload of /m);
    const repair = await runCli(['check', '--repair', '--older-than', '0'], env());
    assert.equal(repair.code, 0, repair.stderr);
    assert.match(repair.stderr, /repairing: abort the upload of /);
    assert.deepEqual(await moto.openUploads(bucket), []);
  });

  it('in the middle of a download: the destination is untouched; the next run cleans up and completes', async () => {
    const source = folder('killed-download', 9 << 20);
    const backup = await runCli(['backup', source], env());
    assert.equal(backup.code, 0, backup.stderr);
    const id = backup.stdout.trim();
    const dest = path.join(work, 'killed-dest');
    mkdirSync(dest);
    writeFileSync(path.join(dest, 'already-here.txt'), 'keep me\n');
    proxy.clear();
    proxy.add({ name: 'hold-body', ...on.archiveGet, fault: { kind: 'stall-response', afterBytes: 4 << 20 } });
    // Killed once the first megabytes of the file are on disk in the staging folder.
    const partial = (): boolean => {
      const staging = readdirSync(dest).find((n) => n.startsWith('.glacier-backup-staging-'));
      const file = staging && path.join(dest, staging, 'killed-download', 'data.bin');
      return proxy.fired('hold-body') > 0 && Boolean(file && existsSync(file) && statSync(file).size > 1 << 20);
    };
    const res = await killWhen(['download', id, dest], env(proxy.endpoint), partial, 'part of the file to be written in staging');
    proxy.clear();
    assert.equal(res.signal, 'SIGKILL');
    const left = readdirSync(dest).sort();
    assert.equal(left.length, 2, left.join(', '));
    assert.equal(left[1], 'already-here.txt');
    assert.match(left[0]!, /^\.glacier-backup-staging-/, 'only the hidden staging folder is left');

    const again = await runCli(['download', id, dest], env());
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /note: removed \.glacier-backup-staging-.* left by an interrupted download/);
    const final = again.stdout.trim();
    assert.deepEqual(readdirSync(dest).sort(), [path.basename(final), 'already-here.txt'].sort());
    assert.deepEqual(snapshot(path.join(final, path.basename(source))), snapshot(source));
    assert.ok(!existsSync(path.join(dest, left[0]!)));
  });
});
