/**
 * Catalog summaries (core/catalog/summary.ts) against moto, behind a proxy that counts GETs: a
 * backup writes one, listing reads summaries and never manifests (except for a snapshot without a
 * summary), a second listing reads nothing (the local cache), a damaged summary falls back to the
 * manifest, and delete and check know that summaries exist.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { backup, newArchiveId } from '../../src/core/jobs/backup';
import { check } from '../../src/core/jobs/check';
import { deleteArchive } from '../../src/core/jobs/delete';
import { listArchivesWithState } from '../../src/core/jobs/listing';
import { listSnapshots } from '../../src/core/jobs/snapshots';
import { readSummary, summaryFormat, summaryOf } from '../../src/core/catalog/summary';
import { openStore } from '../../src/core/jobs/openStore';
import { keys } from '../../src/core/model/keys';
import { derivedKeysOf } from '../../src/core/crypto/derivedKeys';
import type { ArchiveStore } from '../../src/core/store/archiveStore';
import { forward, pathOf, startProxy, type Proxy } from '../helpers/proxy';
import { useMoto, type Moto } from '../helpers/moto';

const bucket = 'summary-tests';
const prefix = 'p/';
const passphrase = 'summary passphrase';
let moto: Moto;
let work: string;
let proxy: Proxy;
/** Object keys (bucket/key) of the GETs that went through the proxy. */
let gets: string[] = [];

useMoto(bucket, (m, w) => {
  moto = m;
  work = w;
});

before(async () => {
  proxy = await startProxy((req, res) => {
    if (req.method === 'GET' && !req.url?.includes('list-type') && !req.url?.includes('?uploads')) gets.push(pathOf(req));
    forward(moto.endpoint, req, res);
  });
});
after(() => proxy.close());

function store(): ArchiveStore {
  return openStore({ kind: 's3', bucket, prefix, endpoint: proxy.endpoint, forcePathStyle: true, storageClass: 'STANDARD', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
}

const inBucket = (key: string): string => `/${bucket}/${prefix}${key}`;

async function backUp(name: string): Promise<string> {
  const dir = path.join(work, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'a.txt'), `${name}\n`);
  const res = await backup({ store: store(), paths: [dir], label: name, encryption: { mode: 'passphrase', passphrase }, force: true });
  return res.id;
}

describe('catalog summaries', () => {
  const ids: string[] = [];
  const cacheDir = (): string => path.join(work, 'state');
  const list = () => listArchivesWithState({ store: store(), decryption: async () => ({ passphrase }), cacheDir: cacheDir() });

  it('a backup writes its summary: the manifest without its file lists', async () => {
    for (const name of ['one', 'two', 'three']) ids.push(await backUp(name));
    const all = await moto.keys(bucket);
    for (const id of ids) assert.ok(all.includes(`${prefix}${keys.summary(id)}`), `summary of ${id}`);
    const dir = path.join(work, 'one');
    const res = await backup({ store: store(), paths: [dir], label: 'again', encryption: { mode: 'passphrase', passphrase }, force: true });
    const summary = await readSummary(store(), res.id, { passphrase });
    assert.equal(summary.format, summaryFormat);
    assert.deepEqual(summary, JSON.parse(JSON.stringify(summaryOf(res.manifest!))));
    for (const field of ['entries', 'skipped', 'changed']) assert.ok(!(field in summary), field);
    assert.equal(summary.fileCount, 1);
    assert.equal(summary.label, 'again');
    ids.push(res.id);
  });

  it('listing reads summaries only, then nothing once cached; a snapshot without one is read from its manifest', async () => {
    // An archive from before summaries: its manifest alone.
    const old = ids[0]!;
    await moto.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: `${prefix}${keys.summary(old)}` }));
    gets = [];
    const dec = { passphrase };
    const first = await listArchivesWithState({ store: store(), decryption: async () => dec, cacheDir: cacheDir() });
    assert.deepEqual(first.archives.map((a) => a.summary?.label).sort(), ['again', 'one', 'three', 'two']);
    const expected = [...ids.slice(1).map((id) => inBucket(keys.summary(id))), inBucket(keys.manifest(old))].sort();
    assert.deepEqual([...gets].sort(), expected, 'one GET per summary, the manifest only where there is none');
    assert.equal(derivedKeysOf(dec).derivations, 1, 'one key derivation for all: summaries and manifests share the store salt');
    assert.equal(readdirSync(path.join(cacheDir(), 'summaries')).length, 1);

    gets = [];
    const second = await list();
    assert.deepEqual(gets, [], 'nothing read again');
    assert.deepEqual(second.archives.map((a) => a.summary), first.archives.map((a) => a.summary));
  });

  it('a replaced or damaged summary is read again, and a damaged one is replaced by its manifest', async () => {
    const id = ids[1]!;
    await moto.client.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}${keys.summary(id)}`, Body: 'not a summary' }));
    gets = [];
    const listed = await list();
    assert.equal(listed.archives.find((a) => a.id === id)!.summary?.label, 'two');
    assert.equal(listed.archives.find((a) => a.id === id)!.problem, undefined);
    assert.deepEqual(gets, [inBucket(keys.summary(id)), inBucket(keys.manifest(id))]);
    gets = [];
    await list();
    assert.deepEqual(gets, [], 'the manifest read is cached too');
    // Retention reads the same way.
    const snapshots = await listSnapshots(store(), { passphrase });
    assert.deepEqual(snapshots.snapshots.map((s) => s.label).sort(), ['again', 'one', 'three', 'two']);
  });

  it('a damaged cache file is an empty cache', async () => {
    const [file] = readdirSync(path.join(cacheDir(), 'summaries'));
    writeFileSync(path.join(cacheDir(), 'summaries', file!), '{"format":"glacier-backup/summary-cache","entries":[');
    gets = [];
    const listed = await list();
    assert.equal(listed.archives.filter((a) => a.summary).length, 4);
    assert.equal(gets.length, 5, 'three summaries, a damaged one and its manifest, a manifest');
  });

  it('delete removes the summary; check reports a leftover summary and --repair deletes it', async () => {
    const id = ids[2]!;
    const res = await deleteArchive({ store: store(), id });
    assert.deepEqual(res.deleted, ['summary', 'manifest', 'archive']);
    const all = await moto.keys(bucket);
    assert.ok(!all.some((k) => k.includes(id)));

    const leftover = newArchiveId(new Date('2026-01-01T00:00:00Z'));
    await moto.client.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}${keys.summary(leftover)}`, Body: 'left over' }));
    const listed = await list();
    assert.ok(!listed.archives.some((a) => a.id === leftover), 'a summary alone is no snapshot');
    const report = await check({ store: store(), olderThan: 0 });
    assert.deepEqual(
      report.problems.map((p) => [p.kind, p.id]),
      [['summary-without-manifest', leftover]],
    );
    assert.equal(report.consistent, false);
    const repaired = await check({ store: store(), olderThan: 0, repair: true });
    assert.equal(repaired.consistent, true);
    assert.ok(!(await moto.keys(bucket)).some((k) => k.includes(leftover)));
  });
});
