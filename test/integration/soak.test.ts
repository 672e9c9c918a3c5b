/**
 * A soak: many small backups in a row through the fault proxy, each with random faults drawn from
 * a seeded generator (the seed is printed; SOAK_SEED=N replays a run, SOAK_RUNS=N changes the
 * count). Each backup must end as its faults predict: a correct archive, or a clear failure with
 * nothing recorded and no open upload. Then `check` finds the bucket consistent and every archive
 * restores byte-identical.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { StoreConfig } from '../../src/core/config';
import { backup } from '../../src/core/jobs/backup';
import { check } from '../../src/core/jobs/check';
import { download } from '../../src/core/jobs/download';
import { openStore } from '../../src/core/jobs/openStore';
import { S3Store } from '../../src/core/store/s3/s3Store';
import { startMoto, type Moto } from '../helpers/moto';
import { on, startFaultProxy, type FaultProxy, type FaultRule } from '../helpers/faultProxy';
import { snapshot, tempDir } from '../helpers/tree';

const bucket = 'soak-tests';
const passphrase = 'soak passphrase';
const runs = Number(process.env.SOAK_RUNS ?? 25);
const seed = Number(process.env.SOAK_SEED ?? Math.floor(Math.random() * 2 ** 31));
/** Transient faults hit one request at most maxAttempts - 2 times: one attempt to spare for a slow machine. */
const maxAttempts = 4;
let moto: Moto;
let proxy: FaultProxy;
let work: string;

/** mulberry32: small, fast, good enough to draw faults reproducibly. */
function prng(s: number): () => number {
  let a = s >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function store(endpoint: string): StoreConfig {
  return { bucket, prefix: 'glacier-backup/', endpoint, storageClass: 'STANDARD', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, requestTimeout: 1500, maxAttempts };
}

type Target = 'put' | 'part' | 'complete' | 'manifest' | 'head' | 'list';
interface Pick {
  target: Target;
  /** A fault the job cannot get past. */
  fatal: boolean;
  rule: Omit<FaultRule, 'name'>;
}

const slowDown = { kind: 'status', status: 503, code: 'SlowDown' } as const;
/** What S3 answers to data that fails the checksum sent with it (moto does not check, so the proxy says it). */
const badDigest = { kind: 'status', status: 400, code: 'BadDigest', message: 'The CRC32 you specified did not match the calculated checksum.' } as const;
/** The menu: [target, fatal, fault, times]; at most one fault per kind of request, so the count of failed attempts is known. */
function menu(rand: () => number, multipart: boolean): Pick[] {
  const transient = maxAttempts - 2;
  const n = (k: number): number => 1 + Math.floor(rand() * k);
  const all: Pick[] = [
    { target: 'put', fatal: false, rule: { ...on.archivePut, times: n(transient), fault: slowDown } },
    { target: 'put', fatal: false, rule: { ...on.archivePut, fault: { kind: 'reset-request', afterBytes: Math.floor(rand() * 20_000) } } },
    { target: 'put', fatal: false, rule: { ...on.archivePut, fault: { kind: 'stall-response' } } },
    { target: 'put', fatal: false, rule: { ...on.archivePut, fault: { kind: 'stall-request' } } },
    { target: 'put', fatal: true, rule: { ...on.archivePut, times: Infinity, fault: slowDown } },
    { target: 'put', fatal: false, rule: { ...on.archivePut, fault: badDigest } },
    { target: 'manifest', fatal: false, rule: { ...on.manifestPut, times: n(transient), fault: slowDown } },
    { target: 'manifest', fatal: false, rule: { ...on.manifestPut, fault: { kind: 'stall-response' } } },
    { target: 'manifest', fatal: false, rule: { ...on.manifestPut, fault: { kind: 'reset-response', afterBytes: 0 } } },
    { target: 'manifest', fatal: true, rule: { ...on.manifestPut, times: Infinity, fault: { kind: 'status', status: 500, code: 'InternalError' } } },
    { target: 'head', fatal: false, rule: { ...on.archiveHead, fault: { kind: 'stall-response' } } },
    { target: 'list', fatal: false, rule: { ...on.list, times: n(transient), fault: slowDown } },
  ];
  const parts: Pick[] = [
    { target: 'part', fatal: false, rule: { ...on.part, times: n(transient), fault: slowDown } },
    { target: 'part', fatal: false, rule: { ...on.part, fault: { kind: 'reset-request', afterBytes: Math.floor(rand() * (4 << 20)) } } },
    { target: 'part', fatal: false, rule: { ...on.part, fault: { kind: 'stall-request' } } },
    { target: 'part', fatal: true, rule: { ...on.part, times: Infinity, fault: { kind: 'reset-request', afterBytes: 1000 } } },
    // moto accepts a damaged part and computes its checksum from what it got: verification catches it.
    { target: 'part', fatal: true, rule: { ...on.part, fault: { kind: 'corrupt-request', atByte: Math.floor(rand() * (8 << 20)) } } },
    { target: 'complete', fatal: false, rule: { ...on.complete, fault: { kind: 'stall-response' } } },
    { target: 'complete', fatal: false, rule: { ...on.complete, fault: { kind: 'reset-response', afterBytes: 0 } } },
    { target: 'complete', fatal: false, rule: { ...on.complete, times: n(transient), fault: slowDown } },
  ];
  return multipart ? [...all.filter((p) => p.target !== 'put'), ...parts] : all;
}

function draw(rand: () => number, multipart: boolean): Pick[] {
  const options = menu(rand, multipart);
  const count = rand() < 0.15 ? 0 : 1 + Math.floor(rand() * 2); // mostly one or two faults
  const chosen: Pick[] = [];
  for (let i = 0; i < count; i++) {
    const p = options[Math.floor(rand() * options.length)]!;
    if (!chosen.some((c) => c.target === p.target)) chosen.push(p);
  }
  return chosen;
}

function describeFault(p: Pick): string {
  const f = p.rule.fault;
  const times = p.rule.times === Infinity ? '∞' : String(p.rule.times ?? 1);
  return `${p.target}: ${f.kind === 'status' ? `${f.status} ${f.code}` : f.kind} ×${times}`;
}

before(async () => {
  work = tempDir();
  moto = await startMoto();
  await moto.createBucket(bucket);
  proxy = await startFaultProxy(moto.endpoint);
  process.stdout.write(`soak: ${runs} backups, seed ${seed} (SOAK_SEED=${seed} replays it)\n`);
});

after(async () => {
  await proxy.close();
  await moto.stop();
  rmSync(work, { recursive: true, force: true });
});

describe(`soak: ${runs} backups with random faults (seed ${seed})`, () => {
  const created: { id: string; source: string }[] = [];
  const outcomes = new Map<string, number>();

  it('each backup ends as its faults predict, with nothing half-done left', async () => {
    const rand = prng(seed);
    for (let i = 0; i < runs; i++) {
      const multipart = i % 6 === 5;
      const source = path.join(work, `src-${i}`);
      mkdirSync(path.join(source, 'd'), { recursive: true });
      const bytes = Buffer.alloc(multipart ? (9 << 20) + Math.floor(rand() * 1000) : 1000 + Math.floor(rand() * 50_000));
      for (let j = 0; j < bytes.length; j += 4) bytes.writeUInt32LE(Math.floor(rand() * 2 ** 32), j - (j + 4 > bytes.length ? j + 4 - bytes.length : 0));
      writeFileSync(path.join(source, 'd', 'data.bin'), bytes);
      writeFileSync(path.join(source, 'n.txt'), `backup ${i}\n`);
      const faults = draw(rand, multipart);
      const fatal = faults.some((f) => f.fatal);
      proxy.clear();
      proxy.add(...faults.map((f, k) => ({ ...f.rule, name: `${i}-${k}` })));
      const keysBefore = await moto.keys(bucket);
      const label = faults.length ? faults.map(describeFault).join(' + ') : 'no fault';
      const s = store(proxy.endpoint);
      let outcome: string;
      try {
        const res = await backup({ store: openStore({ kind: 's3', ...s }), paths: [source], encryption: { mode: 'passphrase', passphrase }, force: true });
        assert.ok(!fatal, `backup ${i} (${label}) should have failed but made ${res.id}`);
        created.push({ id: res.id, source });
        outcome = 'archive';
      } catch (err) {
        const message = (err as Error).message;
        assert.ok(fatal, `backup ${i} (${label}) failed: ${message} (seed ${seed})`);
        assert.doesNotMatch(message, /\n/);
        assert.deepEqual(await moto.keys(bucket), keysBefore, `backup ${i} (${label}) left objects behind`);
        outcome = 'clear failure';
      } finally {
        proxy.clear();
      }
      assert.deepEqual(await moto.openUploads(bucket), [], `backup ${i} (${label}) left an upload open`);
      const key = `${label} → ${outcome}`;
      outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
    }
    const lines = [...outcomes.entries()].sort().map(([k, v]) => `  ${String(v).padStart(3)}  ${k}`);
    process.stdout.write(`soak outcomes (seed ${seed}), count and case:\n${lines.join('\n')}\n`);
    assert.ok(created.length > 0);
  });

  it('check finds the catalog consistent', async () => {
    const report = await check({ store: new S3Store(moto.client, store(moto.endpoint)), olderThan: 0 });
    assert.deepEqual(report.problems, []);
    assert.equal(report.archives, created.length);
  });

  it('every archive restores byte-identical', async () => {
    const s = store(moto.endpoint);
    const opened = openStore({ kind: 's3', ...s });
    for (const { id, source } of created) {
      const dest = path.join(work, `restore-${id}`);
      const res = await download({ store: opened, id, decryption: { passphrase }, dest });
      assert.deepEqual(snapshot(path.join(res.path, path.basename(source))), snapshot(source), `archive ${id}`);
      rmSync(dest, { recursive: true, force: true });
    }
  });
});
