/**
 * The commands that act on a chain's archives one by one (format version 2, docs/format.md
 * "Chains"), through the CLI against moto behind a logging proxy: `delete` refuses an archive that
 * later snapshots need (reading their summaries, not their manifests) and `--with-dependents`
 * deletes them newest first; `check --repair` never writes a manifest claiming an increment's
 * archive is a whole tree, and still rebuilds a full's; a backup finds its previous snapshot by
 * the summaries and reads one manifest; `restore` HEADs each archive once before its request.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { useMotoBehindFaultProxy, type Moto } from '../helpers/moto';
import type { FaultProxy, LogLine } from '../helpers/faultProxy';
import { cliEnv, runCli } from '../helpers/cli';
import { S3Store } from '../../src/core/store/s3/s3Store';
import { planRestore, requestRestore } from '../../src/core/jobs/restoreRequest';

const bucket = 'chain-lifecycle';
const passphrase = 'chain lifecycle passphrase';
const prefix = 'glacier-backup/';
let moto: Moto;
let work: string;
let proxy: FaultProxy;

useMotoBehindFaultProxy(bucket, (m, w, p) => {
  moto = m;
  work = w;
  proxy = p;
});

const env = (extra: Record<string, string> = {}): NodeJS.ProcessEnv =>
  cliEnv({ endpoint: proxy.endpoint, bucket, work, passphrase }, { GLACIER_BACKUP_STORAGE_CLASS: 'STANDARD', ...extra });
const key = (kind: 'archive' | 'manifest' | 'summary', id: string): string =>
  `${prefix}${kind === 'archive' ? 'archives' : 'catalog'}/${id}${{ archive: '.tar.gpg', manifest: '.json.gpg', summary: '.summary.gpg' }[kind]}`;
const exists = (k: string): Promise<boolean> =>
  moto.client.send(new HeadObjectCommand({ Bucket: bucket, Key: k })).then(
    () => true,
    () => false,
  );
async function getObject(k: string): Promise<Buffer> {
  const res = await moto.client.send(new GetObjectCommand({ Bucket: bucket, Key: k }));
  return Buffer.from(await res.Body!.transformToByteArray());
}
/** What the proxy saw while `run` ran. */
async function logged<T>(run: () => Promise<T>): Promise<{ result: T; log: LogLine[] }> {
  const from = proxy.log.length;
  const result = await run();
  return { result, log: proxy.log.slice(from) };
}
const gets = (log: LogLine[], suffix: string): string[] => log.filter((l) => l.method === 'GET' && l.url.split('?')[0]!.endsWith(suffix)).map((l) => l.url.split('?')[0]!);

describe('a chain through delete, check --repair, backup and restore', () => {
  let src: string;
  /** The chain of `src`: a full, then two increments (d[1] changes a.txt, d[2] b.txt). */
  const d: string[] = [];
  let other: string;
  let thirdBackupLog: LogLine[] = [];

  const backUp = async (dir: string, extra: Record<string, string> = {}): Promise<string> => {
    const res = await runCli(['backup', dir], env(extra));
    assert.equal(res.code, 0, res.stderr);
    return res.stdout.trim();
  };

  before(async () => {
    src = path.join(work, 'data');
    mkdirSync(src, { recursive: true });
    for (const n of ['a', 'b', 'c']) writeFileSync(path.join(src, `${n}.txt`), `${n} on day 1\n`.repeat(500));
    d.push(await backUp(src));
    writeFileSync(path.join(src, 'a.txt'), 'a on day 2\n'.repeat(500));
    d.push(await backUp(src));
    // Another set of sources in between: the newest listed snapshot is not of `src` (ids order by
    // their second, then at random: the next second makes it the newest).
    await new Promise((resolve) => setTimeout(resolve, 1005 - (Date.now() % 1000)));
    const otherDir = path.join(work, 'other');
    mkdirSync(otherDir);
    writeFileSync(path.join(otherDir, 'o.txt'), 'other\n');
    other = await backUp(otherDir);
    writeFileSync(path.join(src, 'b.txt'), 'b on day 3\n'.repeat(500));
    const third = await logged(() => backUp(src));
    d.push(third.result);
    thirdBackupLog = third.log;
  });

  it('a backup finds the previous snapshot by the summaries and reads that one manifest only', () => {
    assert.deepEqual(gets(thirdBackupLog, '.json.gpg'), [`/${bucket}/${key('manifest', d[1]!)}`]);
    assert.ok(gets(thirdBackupLog, '.summary.gpg').includes(`/${bucket}/${key('summary', other)}`), 'the other set is told by its summary');
  });

  it('delete refuses the full that two increments need, reading their summaries only', async () => {
    const { result: res, log } = await logged(() => runCli(['delete', d[0]!, '--yes'], env()));
    assert.equal(res.code, 2, res.stderr);
    assert.equal(res.stderr.trim().split('\n').length, 1, res.stderr);
    assert.match(res.stderr, new RegExp(`archive ${d[0]} is not deleted: 2 later snapshots \\(${d[1]}, ${d[2]}\\) of its chain need it to be restored; delete those first \\(newest first\\), or use prune.*--with-dependents deletes them with it`));
    assert.deepEqual(gets(log, '.json.gpg'), [], 'no manifest is read');
    assert.ok(gets(log, '.summary.gpg').length >= 2);
    assert.equal(log.filter((l) => l.method === 'DELETE').length, 0);
    for (const id of d) assert.ok(await exists(key('archive', id)) && (await exists(key('manifest', id))));
    // Without the passphrase it cannot tell, and says why.
    const blind = await runCli(['delete', d[0]!, '--yes'], env({ GLACIER_BACKUP_PASSPHRASE: '' }));
    assert.equal(blind.code, 1, blind.stderr);
    assert.match(blind.stderr, new RegExp(`^glacier-backup: whether a later snapshot needs archive ${d[0]} is read from their catalog: no passphrase`));
    assert.equal(await exists(key('archive', d[0]!)), true);
  });

  it('check --repair refuses to rebuild an increment\'s manifest, named by the next snapshot, without downloading it', async () => {
    const saved = { manifest: await getObject(key('manifest', d[1]!)), summary: await getObject(key('summary', d[1]!)) };
    await moto.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key('manifest', d[1]!) }));
    await moto.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key('summary', d[1]!) }));
    const { result: res, log } = await logged(() => runCli(['check', '--repair', '--older-than', '0'], env()));
    assert.equal(res.code, 1, res.stderr);
    const out = res.stdout + res.stderr;
    assert.match(out, new RegExp(`the manifest of ${d[1]} is not rebuilt: ${d[1]} is an increment of a chain \\(the later snapshots of its chain name it as one\\).*1 later snapshot \\(${d[2]}\\) still restores through it`));
    assert.deepEqual(gets(log, '.tar.gpg'), [], 'the archive was not downloaded');
    assert.equal(await exists(key('manifest', d[1]!)), false, 'no manifest was written');
    assert.equal(await exists(key('archive', d[1]!)), true, 'the archive is kept');
    // Nor is it deleted as an orphan while a later snapshot needs it.
    const del = await runCli(['check', '--repair', '--delete-orphan-archives', '--older-than', '0'], env());
    assert.equal(del.code, 1, del.stderr);
    assert.match(del.stdout + del.stderr, new RegExp(`${d[1]} is kept: 1 later snapshot \\(${d[2]}\\) of its chain needs it to be restored`));
    assert.equal(await exists(key('archive', d[1]!)), true, 'the archive is kept');
    await moto.client.send(new PutObjectCommand({ Bucket: bucket, Key: key('manifest', d[1]!), Body: saved.manifest }));
    await moto.client.send(new PutObjectCommand({ Bucket: bucket, Key: key('summary', d[1]!), Body: saved.summary }));
  });

  it('check --repair tells the newest increment by its records, and rebuilds the full\'s manifest', async () => {
    const saved = new Map<string, Buffer>();
    for (const id of [d[0]!, d[2]!]) {
      for (const kind of ['manifest', 'summary'] as const) {
        saved.set(key(kind, id), await getObject(key(kind, id)));
        await moto.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key(kind, id) }));
      }
    }
    const res = await runCli(['check', '--repair', '--older-than', '0'], env());
    const out = res.stdout + res.stderr;
    assert.equal(res.code, 1, out);
    assert.match(out, new RegExp(`the manifest of ${d[2]} is not rebuilt: ${d[2]} is an increment of a chain \\(it holds the \\.glacier-backup/ records increments end with\\)`));
    assert.equal(await exists(key('manifest', d[2]!)), false, 'no manifest was written for the increment');
    // The full is a version 1 archive: the later snapshot's chain names it as its full.
    assert.equal(await exists(key('manifest', d[0]!)), true, 'the full\'s manifest is rebuilt');
    const list = await runCli(['list', '--json'], env());
    assert.equal(list.code, 0, list.stderr);
    const rebuilt = (JSON.parse(list.stdout) as { id: string; label: string }[]).find((s) => s.id === d[0]);
    assert.equal(rebuilt?.label, '(rebuilt)');
    for (const [k, body] of saved) await moto.client.send(new PutObjectCommand({ Bucket: bucket, Key: k, Body: body }));
  });

  it('delete --with-dependents deletes the snapshots that need the archive, newest first, then it', async () => {
    const { result: res, log } = await logged(() => runCli(['delete', d[1]!, '--with-dependents', '--yes'], env()));
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stderr, new RegExp(`this deletes archive ${d[1]} .* and the 1 later snapshot \\(${d[2]}\\) that need it`));
    assert.deepEqual(res.stdout.trim().split('\n'), [d[2], d[1]]);
    const deletedArchives = log.filter((l) => l.method === 'DELETE' && l.url.includes('/archives/')).map((l) => l.url);
    assert.equal(deletedArchives.length, 2);
    assert.ok(deletedArchives[0]!.includes(d[2]!) && deletedArchives[1]!.includes(d[1]!), 'newest first');
    for (const id of [d[1]!, d[2]!]) assert.equal(await exists(key('archive', id)), false);
    assert.equal(await exists(key('archive', d[0]!)), true, 'the full, which nothing later needs now, stays');
    const again = await runCli(['delete', d[0]!, '--yes'], env());
    assert.equal(again.code, 0, again.stderr);
  });
});

describe('restore of a chain in Deep Archive', () => {
  const ids: string[] = [];

  before(async () => {
    const cold = path.join(work, 'cold');
    mkdirSync(cold, { recursive: true });
    writeFileSync(path.join(cold, 'x.txt'), 'x\n'.repeat(1000));
    writeFileSync(path.join(cold, 'y.txt'), 'y\n'.repeat(1000));
    for (const change of ['', 'y changed\n']) {
      if (change) writeFileSync(path.join(cold, 'y.txt'), change);
      const res = await runCli(['backup', cold], env({ GLACIER_BACKUP_STORAGE_CLASS: 'DEEP_ARCHIVE' }));
      assert.equal(res.code, 0, res.stderr);
      ids.push(res.stdout.trim());
    }
  });

  it('looks at each archive once before its request (the plan\'s HEAD), a few at a time', async () => {
    const { result: res, log } = await logged(() => runCli(['restore', ids[1]!], env()));
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stderr, new RegExp(`reads 2 archives .*${ids[0]}, ${ids[1]}`));
    for (const id of ids) {
      const heads = log.filter((l) => l.method === 'HEAD' && l.url.split('?')[0]!.endsWith(key('archive', id)));
      // The plan's, then the one after the request that reports the new state: not a third before it.
      assert.equal(heads.length, 2, `HEADs of ${id}`);
      assert.equal(log.filter((l) => l.method === 'POST' && l.url.includes(key('archive', id)) && l.url.includes('restore')).length, 1);
    }
  });

  it('a state that changed between the plan and the request is still answered right', async () => {
    const store = new S3Store(moto.client, { bucket, prefix, endpoint: moto.endpoint, forcePathStyle: true, storageClass: 'DEEP_ARCHIVE', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    const dir = path.join(work, 'changing');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'z.txt'), 'z\n');
    const made: string[] = [];
    for (const n of [1, 2]) {
      writeFileSync(path.join(dir, 'z.txt'), `z ${n}\n`);
      const res = await runCli(['backup', dir, '--full'], env({ GLACIER_BACKUP_STORAGE_CLASS: 'DEEP_ARCHIVE' }));
      assert.equal(res.code, 0, res.stderr);
      made.push(res.stdout.trim());
    }
    const plan = await planRestore(store, made);
    assert.deepEqual(plan.archives.map((a) => a.state.state), ['archived', 'archived']);
    // Deleted since the plan: the one line of a missing archive.
    await moto.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key('archive', made[0]!) }));
    await assert.rejects(requestRestore(store, made[0]!, { tier: 'Standard', days: 1, known: plan.archives[0] }), new RegExp(`archive ${made[0]} does not exist`));
    // Replaced by an object in STANDARD since the plan: looked at afresh, no restore needed.
    await moto.client.send(new PutObjectCommand({ Bucket: bucket, Key: key('archive', made[1]!), Body: await Buffer.from('replaced'), StorageClass: 'STANDARD' }));
    const moved = await requestRestore(store, made[1]!, { tier: 'Standard', days: 1, known: plan.archives[1] });
    assert.equal(moved.outcome, 'not-needed');
    assert.equal(moved.status.storageClass, 'STANDARD');
  });
});
