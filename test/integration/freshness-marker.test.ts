/**
 * The freshness marker (PREFIX/freshness/<host>.json) through the built CLI against moto: written
 * in STANDARD after a backup, plaintext without file names or labels, its set's `checked` moved on
 * by an unchanged backup, left alone with --no-freshness-marker, ignored by `check`; a marker a
 * backup cannot write (refused by the endpoint) costs one note and never the backup.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { markerFormat, setHash, type FreshnessMarker } from '../../src/core/catalog/freshnessMarker';
import { sourcesKey } from '../../src/core/catalog/manifest';
import { keys } from '../../src/core/model/keys';
import { useMotoBehindFaultProxy, type Moto } from '../helpers/moto';
import type { FaultProxy } from '../helpers/faultProxy';
import { cliEnv, runCli } from '../helpers/cli';

const bucket = 'freshness-marker-tests';
const passphrase = 'freshness marker passphrase';
const markerKey = `glacier-backup/${keys.freshness(os.hostname())}`;
let moto: Moto;
let proxy: FaultProxy;
let work: string;

useMotoBehindFaultProxy(bucket, (m, w, p) => {
  moto = m;
  work = w;
  proxy = p;
});

const env = (endpoint = moto.endpoint): NodeJS.ProcessEnv => cliEnv({ endpoint, bucket, work, passphrase });

async function marker(): Promise<{ text: string; parsed: FreshnessMarker; storageClass: string }> {
  const head = await moto.client.send(new HeadObjectCommand({ Bucket: bucket, Key: markerKey }));
  const res = await moto.client.send(new GetObjectCommand({ Bucket: bucket, Key: markerKey }));
  const text = await res.Body!.transformToString();
  return { text, parsed: JSON.parse(text) as FreshnessMarker, storageClass: head.StorageClass ?? 'STANDARD' };
}

function folder(name: string): string {
  const dir = path.join(work, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'secret-plan.txt'), `${name}\n`);
  return dir;
}

describe('the freshness marker', () => {
  const source = (): string => path.join(work, 'Quarterly Report');
  const hash = (): string => setHash(sourcesKey(os.hostname(), [{ path: source() }]));

  it('is written in STANDARD after a backup, with the set as a hash and no file name or label', async () => {
    folder('Quarterly Report');
    const res = await runCli(['backup', source(), '--label', 'Board label'], env());
    assert.equal(res.code, 0, res.stderr);
    const id = res.stdout.trim();
    const { text, parsed, storageClass } = await marker();
    assert.equal(storageClass, 'STANDARD');
    assert.equal(parsed.format, markerFormat);
    assert.equal(parsed.version, 1);
    assert.equal(parsed.host, os.hostname());
    assert.deepEqual(Object.keys(parsed.sets), [hash()]);
    // The id names when the upload began; the manifest's creation time comes once it is stored.
    const began = Date.parse(`${id.slice(0, 4)}-${id.slice(4, 6)}-${id.slice(6, 8)}T${id.slice(9, 11)}:${id.slice(11, 13)}:${id.slice(13, 15)}Z`);
    const newest = Date.parse(parsed.sets[hash()]!.newest);
    assert.ok(newest >= began && newest - began < 60_000, `newest ${parsed.sets[hash()]!.newest} is the archive's creation (id ${id})`);
    assert.doesNotMatch(text, /Quarterly|Report|secret-plan|Board label/, 'nothing names a file or a label');
  });

  it('an unchanged backup moves "checked" on and keeps "newest"; --no-freshness-marker leaves it alone', async () => {
    const before = (await marker()).parsed.sets[hash()]!;
    await new Promise((r) => setTimeout(r, 1100));
    const again = await runCli(['backup', source()], env());
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /unchanged since archive/);
    const after = (await marker()).parsed.sets[hash()]!;
    assert.equal(after.newest, before.newest);
    assert.ok(Date.parse(after.checked) > Date.parse(before.checked), `${after.checked} after ${before.checked}`);

    const text = (await marker()).text;
    const other = await runCli(['backup', folder('other'), '--no-freshness-marker'], env());
    assert.equal(other.code, 0, other.stderr);
    assert.equal((await marker()).text, text, 'not rewritten');
  });

  it('a second source set joins the marker; a damaged marker is replaced, not merged', async () => {
    const second = await runCli(['backup', folder('second')], env());
    assert.equal(second.code, 0, second.stderr);
    assert.equal(Object.keys((await marker()).parsed.sets).length, 2);
    await moto.client.send(new PutObjectCommand({ Bucket: bucket, Key: markerKey, Body: '{"format":"glacier-backup-freshness","version":1,"sets":{"x":1}' }));
    writeFileSync(path.join(work, 'second', 'more.txt'), 'more\n');
    const third = await runCli(['backup', path.join(work, 'second')], env());
    assert.equal(third.code, 0, third.stderr);
    assert.equal(Object.keys((await marker()).parsed.sets).length, 1, 'only the set just backed up');
  });

  it('check does not count it as a problem', async () => {
    const res = await runCli(['check', '--older-than', '0'], env());
    assert.equal(res.code, 0, res.stderr + res.stdout);
    assert.match(res.stdout + res.stderr, /: 4 archives, consistent$/m);
    assert.doesNotMatch(res.stdout + res.stderr, /freshness\//, 'the marker is not named');
  });

  it('a marker the store refuses costs one note; the backup succeeds', async () => {
    proxy.add({ name: 'refuse-marker', method: 'PUT', url: /\/freshness\//, times: Infinity, fault: { kind: 'status', status: 403, code: 'AccessDenied', message: 'Access Denied' } });
    try {
      const res = await runCli(['backup', folder('refused')], env(proxy.endpoint));
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stdout.trim(), /^\d{8}T\d{6}Z-[0-9a-f]{16}$/);
      const notes = res.stderr.split('\n').filter((l) => l.includes('freshness marker'));
      assert.equal(notes.length, 1, res.stderr);
      assert.match(notes[0]!, /was not updated \(the backup itself succeeded\)/);
      assert.ok(proxy.fired('refuse-marker') > 0);
    } finally {
      proxy.clear();
    }
  });
});
