/**
 * delete, prune and freshness through the CLI against moto. Snapshots with chosen creation times
 * are written as the engine writes them (an encrypted manifest in the catalog, an archive object
 * in the chosen storage class); the clock of prune and freshness is moved with the test hook
 * GLACIER_BACKUP_NOW, so objects uploaded now can be young or past their minimum duration.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { HeadObjectCommand, PutBucketVersioningCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { readManifest, writeManifest } from '../../src/core/catalog/catalog';
import { recordsOf } from '../../src/core/catalog/dedupState';
import type { Manifest } from '../../src/core/catalog/manifest';
import type { StorageClass, StoreConfig } from '../../src/core/config';
import { useMotoBehindFaultProxy, type Moto } from '../helpers/moto';
import type { FaultProxy } from '../helpers/faultProxy';
import { spawn } from 'node:child_process';
import { cliEnv, cliPath, runCli, type CliResult } from '../helpers/cli';
import { S3Store } from '../../src/core/store/s3/s3Store';

const bucket = 'prune-tests';
const passphrase = 'prune passphrase';
const prefix = 'glacier-backup/';
const day = 86_400_000;
let moto: Moto;
let work: string;
let proxy: FaultProxy;

function env(extra: Record<string, string | undefined> = {}, through: 'proxy' | 'moto' = 'moto'): NodeJS.ProcessEnv {
  return cliEnv({ endpoint: through === 'proxy' ? proxy.endpoint : moto.endpoint, bucket, work, passphrase }, { TZ: 'UTC', ...extra });
}

const archiveKey = (id: string): string => `${prefix}archives/${id}.tar.gpg`;
const manifestKey = (id: string): string => `${prefix}catalog/${id}.json.gpg`;
const store = (): StoreConfig => ({ bucket, prefix, endpoint: moto.endpoint, forcePathStyle: true, storageClass: 'DEEP_ARCHIVE', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
const idAt = (iso: string, n: number): string => `${iso.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${n.toString(16).padStart(16, '0')}`;

let template: Manifest;
let realId: string;
let counter = 0;

/** A snapshot of `source` created at `iso`: the real backup's manifest with another id, time and source. */
async function snapshotAt(iso: string, source: string, storageClass: StorageClass): Promise<string> {
  const id = idAt(iso, ++counter);
  const m: Manifest = {
    ...template,
    id,
    created: iso,
    sources: [{ path: source, name: path.basename(source), type: 'directory' }],
    archive: { ...template.archive, key: archiveKey(id), size: 64, storageClass },
  };
  await writeManifest(new S3Store(moto.client, store()), m, { mode: 'passphrase', passphrase });
  await moto.client.send(new PutObjectCommand({ Bucket: bucket, Key: archiveKey(id), Body: Buffer.alloc(64), StorageClass: storageClass }));
  return id;
}

const archived = async (): Promise<string[]> => (await moto.keys(bucket)).filter((k) => k.includes('/archives/'));
const inFuture = (days: number): string => new Date(Date.now() + days * day).toISOString();

useMotoBehindFaultProxy(bucket, (m, w, p) => {
  moto = m;
  work = w;
  proxy = p;
});

// Set A (/data/a, Deep Archive): daily at noon on 2026-09-01…10, plus 08:00 on the 10th and 20:00 on the 9th.
// Set B (/data/b, Standard-IA): weekly on Mondays in August 2026.
const a: Record<string, string> = {};
const b: Record<string, string> = {};

describe('prune', () => {
  before(async () => {
    const dir = path.join(work, 'real');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'f.txt'), 'a file\n');
    const res = await runCli(['backup', dir, '--storage-class', 'STANDARD'], env());
    assert.equal(res.code, 0, res.stderr);
    realId = res.stdout.trim();
    template = await readManifest(new S3Store(moto.client, store()), realId, { passphrase });
    for (let d = 1; d <= 10; d++) a[`09-${d}`] = await snapshotAt(`2026-09-${String(d).padStart(2, '0')}T12:00:00.000Z`, '/data/a', 'DEEP_ARCHIVE');
    a['09-10-early'] = await snapshotAt('2026-09-10T08:00:00.000Z', '/data/a', 'DEEP_ARCHIVE');
    a['09-9-late'] = await snapshotAt('2026-09-09T20:00:00.000Z', '/data/a', 'DEEP_ARCHIVE');
    for (const d of ['03', '10', '17', '24', '31']) b[d] = await snapshotAt(`2026-08-${d}T06:30:00.000Z`, '/data/b', 'STANDARD_IA');
  });

  it('refuses without a policy, and in public-key mode without the private key', async () => {
    const none = await runCli(['prune'], env());
    assert.equal(none.code, 2);
    assert.match(none.stderr, /^glacier-backup: prune needs a policy: --keep-last N/);
    const pub = await runCli(['prune', '--keep-last', '1', '--recipient', path.join(work, 'nobody.asc')], env());
    assert.equal(pub.code, 2);
    assert.match(pub.stderr, /^glacier-backup: prune reads manifests .* pass --identity KEY\.asc\n$/);
  });

  it('fails, deleting nothing, when no manifest can be read (a wrong passphrase)', async () => {
    const before = await moto.keys(bucket);
    const res = await runCli(['prune', '--keep-last', '1'], env({ GLACIER_BACKUP_PASSPHRASE: 'wrong', GLACIER_BACKUP_NOW: inFuture(200) }));
    assert.equal(res.code, 1);
    assert.match(res.stderr, /^glacier-backup: no manifest could be read \(18 tried\): cannot open the manifest of \S+: wrong passphrase or key\n$/);
    assert.deepEqual(await moto.keys(bucket), before);
  });

  it('--dry-run says what would go and what it saves, and deletes nothing', async () => {
    const before = await moto.keys(bucket);
    const res = await runCli(['prune', '--keep-daily', '3', '--dry-run'], env({ GLACIER_BACKUP_NOW: inFuture(200) }));
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, new RegExp(`delete  ${a['09-1']}  2026-09-01 12:00  64 B Deep Archive, would save < \\$0\\.01/month\n`));
    assert.match(res.stdout, new RegExp(`keep    ${a['09-10']}  2026-09-10 12:00  daily snapshot`));
    // A: 12 snapshots, 3 days kept; B: 5 snapshots on 5 days, 3 kept; the real backup's set: 1 kept.
    assert.match(res.stderr, /^dry run: would delete 11 archives \(704 B\), saving about < \$0\.01 per month; keep 7; nothing was deleted\n$/);
    assert.deepEqual(await moto.keys(bucket), before);
  });

  it('buckets and prints times in local time, as restic does', async () => {
    // In Tokyo (UTC+9) 2026-09-09 20:00 UTC is already the 10th, so the 9th's newest is its noon (UTC) snapshot.
    const res = await runCli(['prune', '--keep-daily', '3', '--path', '/data/a', '--dry-run'], env({ GLACIER_BACKUP_NOW: inFuture(200), TZ: 'Asia/Tokyo' }));
    assert.equal(res.code, 0, res.stderr);
    const kept = [...res.stdout.matchAll(/^ {2}keep {4}(\S+) {2}(\S+ \S+)/gm)].map((m) => `${m[1]} ${m[2]}`);
    assert.deepEqual(kept, [`${a['09-10']} 2026-09-10 21:00`, `${a['09-9']} 2026-09-09 21:00`, `${a['09-8']} 2026-09-08 21:00`]);
    assert.match(res.stdout, new RegExp(`delete  ${a['09-9-late']}  2026-09-10 05:00  `));
  });

  it('defers young Deep Archive objects and says until when; deletes Standard-IA past its 30 days', async () => {
    const res = await runCli(['prune', '--keep-last', '2'], env({ GLACIER_BACKUP_NOW: inFuture(100) }));
    assert.equal(res.code, 0, res.stderr);
    const head = await moto.client.send(new HeadObjectCommand({ Bucket: bucket, Key: archiveKey(a['09-1']!) }));
    const until = new Date(head.LastModified!.getTime() + 180 * day).toISOString().slice(0, 10);
    assert.match(res.stdout, new RegExp(`defer   ${a['09-1']}  2026-09-01 12:00  kept until ${until}: deleting earlier saves nothing and costs the early-deletion fee of < \\$0\\.01\n`));
    const left = await archived();
    for (const id of Object.values(a)) assert.ok(left.includes(archiveKey(id)), `${id} deferred`);
    assert.deepEqual(
      Object.entries(b).filter(([, id]) => left.includes(archiveKey(id))).map(([d]) => d),
      ['24', '31'],
    );
    assert.match(res.stderr, /^deleted 3 archives .*; kept \d+; 10 deferred until their minimum storage duration ends\n$/);
  });

  it('deletes exactly what the policy forgets, only in the chosen source set, and check is clean after', async () => {
    const res = await runCli(['prune', '--keep-daily', '3', '--path', '/data/a'], env({ GLACIER_BACKUP_NOW: inFuture(200) }));
    assert.equal(res.code, 0, res.stderr);
    const left = await archived();
    const kept = Object.entries(a).filter(([, id]) => left.includes(archiveKey(id))).map(([k]) => k).sort();
    assert.deepEqual(kept, ['09-10', '09-8', '09-9-late']);
    for (const id of [b['24']!, b['31']!]) assert.ok(left.includes(archiveKey(id)), 'set B untouched');
    const keys = await moto.keys(bucket);
    for (const [k, id] of Object.entries(a)) assert.equal(keys.includes(manifestKey(id)), kept.includes(k), `manifest of ${k}`);
    const check = await runCli(['check'], env());
    assert.equal(check.code, 0, check.stderr);
    assert.match(check.stderr, /consistent/);
  });

  it('--allow-early-deletion deletes young objects and states the fee', async () => {
    const res = await runCli(['prune', '--keep-last', '1', '--path', '/data/a', '--allow-early-deletion'], env());
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, new RegExp(`delete  ${a['09-9-late']}  .*; early: costs the early-deletion fee of (< )?\\$0\\.\\d\\d`));
    assert.match(res.stderr, /^deleted 2 archives .*, paying early-deletion fees of about (< )?\$0\.\d\d; kept \d+\n$/);
    const left = await archived();
    assert.deepEqual(Object.entries(a).filter(([, id]) => left.includes(archiveKey(id))).map(([k]) => k), ['09-10']);
  });
});

describe('freshness', () => {
  const soon = (): string => new Date(Date.now() + 3_600_000).toISOString();

  it('exits 1 and names each source set older than --max-age', async () => {
    const res = await runCli(['freshness', '--max-age', '26h'], env({ GLACIER_BACKUP_NOW: soon() }));
    assert.equal(res.code, 1, res.stderr);
    const lines = res.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 3, res.stderr);
    assert.match(lines[0]!, /^stale: .*: \/data\/a: newest backup \d+d( \d+h)? old \(/);
    assert.match(lines[1]!, /^stale: .*: \/data\/b: newest backup/);
    assert.equal(lines[2], 'glacier-backup: 2 of 3 source sets not backed up within 26h');
    assert.match(res.stdout, /^STATE\tAGE\tNEWEST/);
    assert.match(res.stdout, /\nok\t1h\t/);
  });

  it('prints JSON for monitors, with the same exit code', async () => {
    const now = soon();
    const res = await runCli(['freshness', '--json'], env({ GLACIER_BACKUP_NOW: now }));
    assert.equal(res.code, 1);
    const report = JSON.parse(res.stdout) as { now: string; maxAge: string; stale: number; sets: { sources: string[]; stale: boolean; ageSeconds: number; newest: { id: string; created: string } }[]; unreadable: string[] };
    assert.equal(report.maxAge, '26h');
    assert.equal(report.stale, 2);
    assert.deepEqual(report.unreadable, []);
    const setA = report.sets.find((s) => s.sources[0] === '/data/a')!;
    assert.equal(setA.newest.id, a['09-10']);
    assert.equal(setA.ageSeconds, Math.floor((Date.parse(now) - Date.parse('2026-09-10T12:00:00Z')) / 1000));
    assert.equal(report.sets.filter((s) => !s.stale).length, 1);
  });

  it('exits 0 when every chosen set is fresh enough', async () => {
    const res = await runCli(['freshness', '--path', '/data/a', '--path', '/data/a', '--max-age', '1y', '--json'], env({ GLACIER_BACKUP_NOW: soon() }));
    assert.equal(res.code, 0, res.stderr);
    assert.equal((JSON.parse(res.stdout) as { sets: unknown[] }).sets.length, 1);
  });
});

describe('delete', () => {
  it('states what goes and the fee, and refuses without --yes when nobody can confirm', async () => {
    const id = b['31']!;
    const res = await runCli(['delete', id], env());
    assert.equal(res.code, 2);
    assert.match(res.stderr, new RegExp(`^this deletes archive ${id} \\(64 B in Standard-IA, uploaded .* UTC\\) and its manifest; it cannot be undone\n`));
    assert.match(res.stderr, /\nearly-deletion fee: about (< )?\$0\.\d\d \(Standard-IA bills at least until \d{4}-\d\d-\d\d\); it saves nothing before then\n/);
    assert.match(res.stderr, /\nglacier-backup: not deleting: standard input is not a terminal, so nobody can confirm; add --yes\n$/);
    assert.ok((await moto.keys(bucket)).includes(archiveKey(id)));
  });

  it('--yes deletes the manifest and the archive', async () => {
    const id = b['31']!;
    const res = await runCli(['delete', id, '--yes'], env());
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stdout, `${id}\n`);
    assert.match(res.stderr, new RegExp(`\ndeleted the manifest and the archive of ${id}\n$`));
    const keys = await moto.keys(bucket);
    assert.ok(!keys.includes(archiveKey(id)) && !keys.includes(manifestKey(id)));
    const again = await runCli(['delete', id, '--yes'], env());
    assert.equal(again.code, 1);
    assert.equal(again.stderr, `glacier-backup: archive ${id} is not in s3://${bucket}/${prefix}\n`);
  });

  it('reports a half-done delete as such: the manifest went, the archive did not', async () => {
    const id = b['24']!;
    proxy.add({ name: 'deny-archive-delete', method: 'DELETE', url: /\/archives\//, times: Infinity, fault: { kind: 'status', status: 403, code: 'AccessDenied' } });
    try {
      const res = await runCli(['delete', id, '--yes'], env({}, 'proxy'));
      assert.equal(res.code, 1);
      assert.equal(res.stdout, '');
      assert.match(res.stderr, new RegExp(`\nglacier-backup: archive ${id}: its manifest was deleted but its archive object was not \\(access denied .*\\); "glacier-backup delete \\S+" again removes it\n$`));
    } finally {
      proxy.clear();
    }
    const keys = await moto.keys(bucket);
    assert.ok(keys.includes(archiveKey(id)) && !keys.includes(manifestKey(id)));
    const again = await runCli(['delete', id, '--yes'], env());
    assert.equal(again.code, 0, again.stderr);
    assert.ok(!(await moto.keys(bucket)).includes(archiveKey(id)));
  });

  it('asks on a terminal and deletes only on yes', async () => {
    const answer = await onTerminal(['delete', a['09-10']!], 'n\n');
    assert.equal(answer.code, 1);
    assert.match(answer.stdout, /Delete archive \S+\? \[y\/N\] .*n\r+\n+glacier-backup: not deleted\r?\n$/s);
    assert.ok((await moto.keys(bucket)).includes(archiveKey(a['09-10']!)));
    const stateDir = path.join(work, 'state');
    assert.deepEqual((await recordsOf(stateDir, new S3Store(moto.client, store()))).map((r) => r.record.id), [realId]);
    const yes = await onTerminal(['delete', realId], 'y\n');
    assert.equal(yes.code, 0, yes.stdout);
    assert.ok(!(await moto.keys(bucket)).some((k) => k.includes(realId)));
    assert.deepEqual(await recordsOf(stateDir, new S3Store(moto.client, store())), [], 'the last-backup record of the deleted archive is gone');
  });

  it('says that a versioned bucket keeps the deleted archive (and bills it) until a lifecycle rule expires it', async () => {
    await moto.client.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
    const id = a['09-10']!;
    const res = await runCli(['delete', id, '--yes'], env());
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stderr, new RegExp(`\nnote: bucket ${bucket} keeps old versions: a deleted archive stays as an old version, billed as before, until a lifecycle rule expires it`));
  });
});

/** Runs the CLI on a pseudo-terminal (util-linux `script`), typing `input`; stdout carries the terminal's output. */
function onTerminal(args: string[], input: string): Promise<CliResult> {
  const quote = (a: string): string => `'${a.replace(/'/g, "'\\''")}'`;
  const command = [process.execPath, cliPath, ...args].map(quote).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], { env: env(), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    // Typed once the question is on screen.
    const typeWhenAsked = (): void => {
      if (stdout.includes('[y/N]')) child.stdin.end(input);
      else setTimeout(typeWhenAsked, 50);
    };
    typeWhenAsked();
  });
}
