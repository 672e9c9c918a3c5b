/**
 * Resuming an interrupted backup: the CLI is killed with SIGKILL in the middle of a multipart
 * upload (parts 1 and 2 stored, the others held by the proxy), then run again. With the source
 * unchanged the next run continues the same upload without sending the stored parts again, and
 * the archive restores byte-identical; with the source changed, or the passphrase, it aborts the
 * old upload and uploads anew; a stored part whose bytes differ from what is read now is sent
 * again. Every case ends with no unfinished upload in the bucket and no journal left.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { ListMultipartUploadsCommand, ListPartsCommand, UploadPartCommand } from '@aws-sdk/client-s3';
import { useMotoBehindFaultProxy, type Moto } from '../helpers/moto';
import type { FaultProxy } from '../helpers/faultProxy';
import { Gpg } from '../helpers/gpg';
import { assertRestores, cliEnv, runCli, type CliResult } from '../helpers/cli';
import { snapshot } from '../helpers/tree';

const bucket = 'resume-tests';
const passphrase = 'resume passphrase';
let moto: Moto;
let proxy: FaultProxy;
let work: string;

function env(endpoint = moto.endpoint, pass: string | undefined = passphrase): NodeJS.ProcessEnv {
  return cliEnv({ endpoint, bucket, work, passphrase: pass }, { GLACIER_BACKUP_STORAGE_CLASS: 'STANDARD' });
}

/** About 40 MiB: four full 8 MiB parts and a short fifth of up to 16 MiB (store/partSchedule.ts). */
function folder(name: string): string {
  const dir = path.join(work, name);
  mkdirSync(path.join(dir, 'sub'), { recursive: true });
  writeFileSync(path.join(dir, 'data.bin'), randomBytes(40 << 20));
  writeFileSync(path.join(dir, 'sub', 'note.txt'), `${name}\n`);
  return dir;
}

async function until(condition: () => Promise<boolean> | boolean, what: string, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface Open {
  key: string;
  uploadId: string;
  id: string;
}

async function openUploads(): Promise<Open[]> {
  const list = await moto.client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
  return (list.Uploads ?? []).map((u) => ({ key: u.Key!, uploadId: u.UploadId!, id: path.basename(u.Key!).replace(/\.tar\.gpg$/, '') }));
}

async function storedPartNumbers(open: Open): Promise<number[]> {
  const parts = await moto.client.send(new ListPartsCommand({ Bucket: bucket, Key: open.key, UploadId: open.uploadId }));
  return (parts.Parts ?? []).map((p) => p.PartNumber!).sort((a, b) => a - b);
}

/** Backs up `source` through the proxy, which holds parts 3 and later; kills the CLI once parts 1 and 2 are stored. */
async function killAfterTwoParts(source: string, pass = passphrase): Promise<Open> {
  const { open, res } = await signalAfterTwoParts(source, 'SIGKILL', pass);
  assert.equal(res.signal, 'SIGKILL');
  assert.deepEqual(await storedPartNumbers(open), [1, 2]);
  return open;
}

/** Like killAfterTwoParts, but stops the CLI with `signal` and returns how it ended. */
async function signalAfterTwoParts(source: string, signal: NodeJS.Signals, pass: string | undefined = passphrase, args: string[] = []): Promise<{ open: Open; res: CliResult }> {
  proxy.clear();
  proxy.add({ name: 'hold-later-parts', method: 'PUT', url: /[?&]partNumber=([3-9]|\d\d+)&/, times: Infinity, fault: { kind: 'stall-request' } });
  let pid = 0;
  const run: Promise<CliResult> = runCli(['backup', source, ...args], env(proxy.endpoint, pass), { onSpawn: (p) => (pid = p) });
  let open: Open | undefined;
  await until(async () => {
    [open] = await openUploads();
    return open !== undefined && (await storedPartNumbers(open)).length === 2 && proxy.fired('hold-later-parts') > 0;
  }, 'parts 1 and 2 to be stored');
  process.kill(pid, signal);
  const res = await run;
  proxy.clear();
  return { open: open!, res };
}

/** Part numbers the proxy saw uploaded since log line `from`. */
function partsSent(from: number): number[] {
  return proxy.log
    .slice(from)
    .map((l) => (l.method === 'PUT' ? /[?&]partNumber=(\d+)/.exec(l.url)?.[1] : undefined))
    .filter((n): n is string => n !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
}

function restoreAndCompare(id: string, source: string): Promise<void> {
  return assertRestores(id, source, work, env());
}

function journals(): string[] {
  const dir = path.join(work, 'state', 'uploads');
  return existsSync(dir) ? readdirSync(dir).filter((n) => n.endsWith('.json')) : [];
}

useMotoBehindFaultProxy(bucket, (m, w, p) => {
  moto = m;
  work = w;
  proxy = p;
});

describe('kill -9 in the middle of a multipart upload, then run again', () => {
  it('the same source: the upload is resumed at part 3, parts 1 and 2 are not sent again, and it restores byte-identical', async () => {
    const source = folder('unchanged');
    const killed = await killAfterTwoParts(source);
    const journal = journals();
    assert.equal(journal.length, 1, 'the killed run left its journal');
    assert.equal(statSync(path.join(work, 'state', 'uploads', journal[0]!)).mode & 0o777, 0o600);

    const from = proxy.log.length;
    const res = await runCli(['backup', source], env(proxy.endpoint));
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stdout.trim(), killed.id, 'the resumed archive keeps the id of the interrupted one');
    assert.match(res.stderr, new RegExp(`^note: resumed upload of archive ${killed.id} at part 3 of about 5: 16\\.0 MiB were already stored by the run started \\d{4}-`, 'm'));
    assert.deepEqual(partsSent(from), [3, 4, 5]);
    assert.deepEqual(await openUploads(), []);
    assert.deepEqual(journals(), []);
    await restoreAndCompare(killed.id, source);
    // And it counts as the newest backup of that source.
    const again = await runCli(['backup', source], env());
    assert.match(again.stderr, new RegExp(`unchanged since archive ${killed.id}`));
  });

  it('an increment: resumed at part 3 with the same bytes, and it restores as that snapshot', async () => {
    const source = folder('increment');
    const full = await runCli(['backup', source], env());
    assert.equal(full.code, 0, full.stderr);
    writeFileSync(path.join(source, 'more.bin'), randomBytes(30 << 20));
    const killed = await killAfterTwoParts(source);
    const from = proxy.log.length;
    const res = await runCli(['backup', source], env(proxy.endpoint));
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stdout.trim(), killed.id);
    assert.match(res.stderr, new RegExp(`^note: resumed upload of archive ${killed.id} at part 3 of about \\d+`, 'm'));
    assert.match(res.stderr, /^0 changed, 1 added, 0 removed: 30\.\d MiB uploaded$/m);
    assert.ok(!partsSent(from).includes(1) && !partsSent(from).includes(2), `parts sent again: ${partsSent(from).join(', ')}`);
    await restoreAndCompare(killed.id, source);
  });

  it('the source changed in between: the old upload is aborted and the archive uploaded anew', async () => {
    const source = folder('changed');
    const killed = await killAfterTwoParts(source);
    appendFileSync(path.join(source, 'sub', 'note.txt'), 'one more line\n');

    const from = proxy.log.length;
    const res = await runCli(['backup', source], env(proxy.endpoint));
    assert.equal(res.code, 0, res.stderr);
    const id = res.stdout.trim();
    assert.notEqual(id, killed.id);
    assert.match(res.stderr, new RegExp(`^note: abandoned the interrupted upload of archive ${killed.id} \\(started [^)]+\\): the files changed since; uploading anew$`, 'm'));
    assert.doesNotMatch(res.stderr, /resumed/);
    assert.deepEqual(partsSent(from), [1, 2, 3, 4, 5]);
    assert.deepEqual(await openUploads(), []);
    assert.ok(!(await moto.keys(bucket)).includes(killed.key));
    assert.deepEqual(journals(), []);
    await restoreAndCompare(id, source);
  });

  it('a different passphrase: the old upload is aborted, never continued under the new one', async () => {
    const source = folder('passphrase');
    const killed = await killAfterTwoParts(source);
    const res = await runCli(['backup', source], env(proxy.endpoint, 'another passphrase'));
    assert.equal(res.code, 0, res.stderr);
    assert.notEqual(res.stdout.trim(), killed.id);
    assert.match(res.stderr, new RegExp(`abandoned the interrupted upload of archive ${killed.id} \\(started [^)]+\\): the passphrase changed since`));
    assert.deepEqual(await openUploads(), []);
    assert.deepEqual(journals(), []);
  });

  it('SIGTERM (shutdown) stops the backup but keeps its upload, which the next run resumes; SIGINT (Ctrl-C) cancels and cleans up', async () => {
    const source = folder('sigterm');
    const { open, res } = await signalAfterTwoParts(source, 'SIGTERM');
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /^glacier-backup: backup interrupted; its upload is kept, and the next backup of the same files resumes it$/m);
    assert.deepEqual(await openUploads(), [open], 'the upload is kept');
    assert.equal(journals().length, 1);
    const from = proxy.log.length;
    const again = await runCli(['backup', source], env(proxy.endpoint));
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout.trim(), open.id);
    assert.match(again.stderr, /resumed upload of archive \S+ at part 3 of about 5/);
    assert.deepEqual(partsSent(from), [3, 4, 5]);
    await restoreAndCompare(open.id, source);

    const cancelled = folder('sigint');
    const stopped = await signalAfterTwoParts(cancelled, 'SIGINT');
    assert.notEqual(stopped.res.code, 0);
    assert.match(stopped.res.stderr, /backup cancelled/);
    assert.deepEqual(await openUploads(), [], 'a cancelled upload is aborted');
    assert.deepEqual(journals(), []);
  });

  it('public-key mode: resumed without any private key, and the recipient restores it byte-identical', async () => {
    const gpg = new Gpg();
    try {
      const key = gpg.generateKey('Carol <carol@example.org>', 'carol-key-pass', 'default');
      writeFileSync(path.join(work, 'carol.asc'), key.publicKey);
      writeFileSync(path.join(work, 'carol-secret.asc'), key.secretKey);
      const source = folder('public-key');
      const recipient = ['--recipient', path.join(work, 'carol.asc')];
      const { open, res } = await signalAfterTwoParts(source, 'SIGKILL', undefined, recipient);
      assert.equal(res.signal, 'SIGKILL');
      const from = proxy.log.length;
      const again = await runCli(['backup', source, ...recipient], env(proxy.endpoint, undefined));
      assert.equal(again.code, 0, again.stderr);
      assert.equal(again.stdout.trim(), open.id);
      assert.match(again.stderr, /resumed upload of archive \S+ at part 3 of about 5/);
      assert.deepEqual(partsSent(from), [3, 4, 5]);
      assert.deepEqual(journals(), [], 'the journal, which held the session key, is gone');
      const dest = path.join(work, 'restore-public-key');
      const down = await runCli(['download', open.id, dest, '--identity', path.join(work, 'carol-secret.asc')], {
        ...env(moto.endpoint, undefined),
        GLACIER_BACKUP_KEY_PASSPHRASE: 'carol-key-pass',
      });
      assert.equal(down.code, 0, down.stderr);
      assert.deepEqual(snapshot(path.join(down.stdout.trim(), 'public-key')), snapshot(source));
    } finally {
      gpg.dispose();
    }
  });

  it('check names an interrupted upload this machine can resume; --repair aborts it, and the next backup starts over quietly', async () => {
    const source = folder('checked');
    const killed = await killAfterTwoParts(source);
    // Against the same endpoint as the backup (the journal belongs to that store).
    const found = await runCli(['check', '--older-than', '0'], env(proxy.endpoint));
    assert.equal(found.code, 1);
    assert.match(found.stdout, new RegExp(`^unfinished-upload\t${killed.key}\tunfinished upload of ${killed.key} started \\S+ \\(a backup interrupted on this machine: the next backup of ${source} resumes it\\)$`, 'm'));
    const repaired = await runCli(['check', '--repair', '--older-than', '0'], env(proxy.endpoint));
    assert.equal(repaired.code, 0, repaired.stderr);
    assert.match(repaired.stderr, /repairing: abort the upload of \S+ \(that backup then starts over\)/);
    assert.deepEqual(await openUploads(), []);
    assert.deepEqual(journals(), []);
    const res = await runCli(['backup', source], env(proxy.endpoint));
    assert.equal(res.code, 0, res.stderr);
    assert.doesNotMatch(res.stderr, /resumed|abandoned/);
    assert.notEqual(res.stdout.trim(), killed.id);
  });

  it('an interrupted --force upload of unchanged files is dropped by the next (unchanged) backup', async () => {
    const source = folder('forced');
    const first = await runCli(['backup', source], env());
    assert.equal(first.code, 0, first.stderr);
    const { open, res } = await signalAfterTwoParts(source, 'SIGKILL', passphrase, ['--force']);
    assert.equal(res.signal, 'SIGKILL');
    const again = await runCli(['backup', source], env(proxy.endpoint));
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout.trim(), first.stdout.trim());
    assert.match(again.stderr, new RegExp(`abandoned the interrupted upload of archive ${open.id} \\(started [^)]+\\): the files are unchanged since archive ${first.stdout.trim()}`));
    assert.match(again.stderr, /unchanged since archive/);
    assert.deepEqual(await openUploads(), []);
    assert.deepEqual(journals(), []);
  });

  it('a stored part whose bytes differ from what is read now is sent again; the others are kept', async () => {
    const source = folder('damaged-part');
    const killed = await killAfterTwoParts(source);
    // Part 2 as stored no longer matches: same size, other bytes (as if the file had changed
    // without its size or modification time changing).
    const parts = await moto.client.send(new ListPartsCommand({ Bucket: bucket, Key: killed.key, UploadId: killed.uploadId }));
    const size = parts.Parts!.find((p) => p.PartNumber === 2)!.Size!;
    await moto.client.send(new UploadPartCommand({ Bucket: bucket, Key: killed.key, UploadId: killed.uploadId, PartNumber: 2, Body: randomBytes(size) }));

    const from = proxy.log.length;
    const res = await runCli(['backup', source], env(proxy.endpoint));
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stdout.trim(), killed.id);
    assert.match(res.stderr, /note: part 2 stored by the interrupted run differs from what was read now: sending it \(and any other that differs\) again/);
    assert.deepEqual(partsSent(from), [2, 3, 4, 5]);
    assert.deepEqual(await openUploads(), []);
    await restoreAndCompare(killed.id, source);
  });
});
