/**
 * Network faults injected between the engine and moto (test/helpers/faultProxy.ts): 503 bursts,
 * resets in the middle of a part or an answer, stalls (including on CompleteMultipartUpload, whose
 * first attempt succeeds while its answer is lost), corruption in flight, an endpoint that rejects
 * checksum headers, truncated and cut downloads. Every case must end either in a correct archive
 * (restored byte-identical) or a clear one-line failure with nothing recorded and no multipart
 * upload left open. The table of cases and outcomes is printed at the end.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import type { StoreConfig } from '../../src/core/config';
import { backup, type BackupResult } from '../../src/core/jobs/backup';
import { download } from '../../src/core/jobs/download';
import { openStore } from '../../src/core/jobs/openStore';
import { startMoto, type Moto } from '../helpers/moto';
import { on, startFaultProxy, type FaultProxy, type FaultRule } from '../helpers/faultProxy';
import { snapshot, tempDir } from '../helpers/tree';

const bucket = 'fault-tests';
const passphrase = 'fault passphrase';
const timeout = 1500;
/**
 * Fewer than the default 5, to keep the failing cases short (the bound is the same mechanism), and
 * more than any transient case injects on one request, with a spare for a slow machine.
 */
const maxAttempts = 4;
let moto: Moto;
let proxy: FaultProxy;
let work: string;
let big: string;
let small: string;
const table: { case: string; outcome: string }[] = [];

function store(endpoint: string): StoreConfig {
  return { bucket, prefix: 'glacier-backup/', endpoint, storageClass: 'STANDARD', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, requestTimeout: timeout, maxAttempts };
}

async function runBackup(source: string): Promise<BackupResult> {
  const s = store(proxy.endpoint);
  return backup({ store: openStore({ kind: 's3', ...s }), paths: [source], encryption: { mode: 'passphrase', passphrase }, force: true });
}

/** Restores through moto directly (or the proxy) and compares with the source. */
async function assertRestores(id: string, source: string, endpoint = moto.endpoint): Promise<void> {
  const s = store(endpoint);
  const dest = path.join(work, `restore-${id}`);
  const res = await download({ store: openStore({ kind: 's3', ...s }), id, decryption: { passphrase }, dest });
  assert.deepEqual(snapshot(path.join(res.path, path.basename(source))), snapshot(source));
  rmSync(dest, { recursive: true, force: true });
}

/**
 * Runs one backup with the rules in place and checks the outcome: a correct archive, or (when
 * `failure` is given) a one-line error matching it, nothing new in the bucket, no open upload.
 */
async function faultCase(name: string, rules: FaultRule[], source: string, failure?: RegExp, options: { rejectChecksums?: boolean; maxMs?: number } = {}): Promise<void> {
  proxy.clear();
  proxy.add(...rules);
  proxy.rejectChecksums = options.rejectChecksums ?? false;
  const keysBefore = await moto.keys(bucket);
  const started = Date.now();
  let result: BackupResult | undefined;
  let error: Error | undefined;
  try {
    result = await runBackup(source);
  } catch (err) {
    error = err as Error;
  } finally {
    proxy.clear();
    proxy.rejectChecksums = false;
  }
  const ms = Date.now() - started;
  for (const r of rules) assert.ok(proxy.fired(r.name) > 0, `rule ${r.name} never fired`);
  assert.deepEqual(await moto.openUploads(bucket), [], 'no multipart upload may stay open');
  if (failure) {
    assert.ok(error, `expected a failure, got archive ${result?.id}`);
    assert.match(error.message, failure);
    assert.doesNotMatch(error.message, /\n/);
    assert.deepEqual(await moto.keys(bucket), keysBefore, 'nothing may be recorded');
    if (options.maxMs) assert.ok(ms < options.maxMs, `failed after ${ms} ms, more than ${options.maxMs}`);
    table.push({ case: name, outcome: `clear failure in ${(ms / 1000).toFixed(1)} s: ${error.message}` });
    return;
  }
  assert.ifError(error);
  const id = result!.id;
  const keys = await moto.keys(bucket);
  assert.ok(keys.includes(`glacier-backup/archives/${id}.tar.gpg`) && keys.includes(`glacier-backup/catalog/${id}.json.gpg`));
  await assertRestores(id, source);
  table.push({ case: name, outcome: `correct archive, restored byte-identical (${(ms / 1000).toFixed(1)} s)` });
}

const slowDown = { kind: 'status', status: 503, code: 'SlowDown', message: 'Please reduce your request rate.' } as const;
/** What S3 answers to data that fails the checksum sent with it (moto does not check; the proxy says it). */
const badDigest = { kind: 'status', status: 400, code: 'BadDigest', message: 'The CRC32 you specified did not match the calculated checksum.' } as const;

before(async () => {
  work = tempDir();
  moto = await startMoto();
  await moto.createBucket(bucket);
  proxy = await startFaultProxy(moto.endpoint);
  big = path.join(work, 'big');
  mkdirSync(big);
  writeFileSync(path.join(big, 'data.bin'), randomBytes(9 << 20)); // two parts of 8 MiB
  writeFileSync(path.join(big, 'note.txt'), 'two parts\n');
  small = path.join(work, 'small');
  mkdirSync(path.join(small, 'sub'), { recursive: true });
  writeFileSync(path.join(small, 'a.txt'), 'small archive, one PUT\n');
  writeFileSync(path.join(small, 'sub', 'b.bin'), randomBytes(50_000));
});

after(async () => {
  await proxy.close();
  await moto.stop();
  rmSync(work, { recursive: true, force: true });
  const width = Math.max(...table.map((r) => r.case.length));
  process.stdout.write(`\nfault cases: ${table.length}\n${table.map((r) => `${r.case.padEnd(width)}  ${r.outcome}`).join('\n')}\n`);
});

describe('multipart upload faults', () => {
  it('503 SlowDown burst on parts: retried', () => faultCase('503 SlowDown x3 on parts', [{ name: 'slowdown', ...on.part, times: 3, fault: slowDown }], big));
  it('503 on every part: fails in bounded time, upload aborted', () =>
    faultCase('503 SlowDown on every part', [{ name: 'slowdown', ...on.part, times: Infinity, fault: slowDown }], big, /kept failing while trying to upload the archive \(SlowDown, HTTP 503\); gave up after 4 attempts/, { maxMs: 20_000 }));
  it('500 on CreateMultipartUpload: retried', () =>
    faultCase('500 InternalError x2 on CreateMultipartUpload', [{ name: 'create500', ...on.create, times: 2, fault: { kind: 'status', status: 500, code: 'InternalError' } }], big));
  it('connection reset in the middle of a part: retried', () =>
    faultCase('reset after 512 KiB of part 2 (x2)', [{ name: 'reset', method: 'PUT', url: /[?&]partNumber=2&/, times: 2, fault: { kind: 'reset-request', afterBytes: 512 << 10 } }], big));
  it('connection reset on every part: fails, upload aborted', () =>
    faultCase('reset after 64 KiB of every part', [{ name: 'reset', ...on.part, times: Infinity, fault: { kind: 'reset-request', afterBytes: 65536 } }], big, /the connection to S3 .*kept dropping \(ECONNRESET\) while trying to upload the archive; gave up after 4 attempts/, { maxMs: 20_000 }));
  it('a part stalled before it reaches S3: times out, retried', () =>
    faultCase('part 1 stalled forever (once)', [{ name: 'stall', method: 'PUT', url: /[?&]partNumber=1&/, fault: { kind: 'stall-request' } }], big));
  it('every part answer stalled: fails within a bounded time, upload aborted', () =>
    faultCase('every part answer stalled forever', [{ name: 'stall', ...on.part, times: Infinity, fault: { kind: 'stall-response' } }], big, /stopped answering while trying to upload the archive; gave up after 4 attempts/, { maxMs: 20_000 }));
  it('CompleteMultipartUpload answer lost (S3 completed it): the retry succeeds', () =>
    faultCase('Complete answer stalled, retried', [{ name: 'stall-complete', ...on.complete, fault: { kind: 'stall-response' } }], big));
  it('CompleteMultipartUpload answer lost, and the retry answered NoSuchUpload (as AWS does): no error, no duplicate', () =>
    faultCase(
      'Complete answer lost, retry gets 404 NoSuchUpload',
      [
        { name: 'stall-complete', ...on.complete, fault: { kind: 'stall-response' } },
        { name: 'nosuchupload', ...on.complete, fault: { kind: 'status', status: 404, code: 'NoSuchUpload', message: 'The specified upload does not exist.' } },
      ],
      big,
    ));
  it('connection reset before the Complete answer: retried', () =>
    faultCase('Complete answer reset (x1)', [{ name: 'reset-complete', ...on.complete, fault: { kind: 'reset-response', afterBytes: 0 } }], big));
  it('CompleteMultipartUpload still being done when its retries meet NoSuchUpload: waited for, no error', () =>
    faultCase(
      'Complete slow (done by S3 after its retries failed)',
      [
        // The first attempt times out (1.5 s) and reaches moto only after 5 s, as a slow Complete would end.
        { name: 'slow-complete', ...on.complete, fault: { kind: 'delay-request', ms: 5000 } },
        { name: 'nosuchupload', ...on.complete, times: Infinity, fault: { kind: 'status', status: 404, code: 'NoSuchUpload', message: 'The specified upload does not exist.' } },
      ],
      big,
    ));
  it('503 on every CompleteMultipartUpload: fails, upload aborted', () =>
    faultCase('503 on every Complete', [{ name: 'complete503', ...on.complete, times: Infinity, fault: slowDown }], big, /kept failing while trying to upload the archive \(SlowDown, HTTP 503\)/, { maxMs: 20_000 }));
  it('a part corrupted in flight, accepted by the endpoint: caught by its ETag, upload aborted', () =>
    faultCase('part 2 corrupted in flight (endpoint accepts it)', [{ name: 'corrupt', method: 'PUT', url: /[?&]partNumber=2&/, fault: { kind: 'corrupt-request', atByte: 4096 } }], big, /S3 received part 2 of the archive damaged in transit \(its MD5 differs from what was sent\)/));
  it('a part refused as damaged in transit (BadDigest) once: the archive is uploaded again', () =>
    faultCase('part 2 refused as BadDigest (x1)', [{ name: 'baddigest', method: 'PUT', url: /[?&]partNumber=2&/, fault: badDigest }], big));
  it('BadDigest on every part: clear failure, upload aborted', () =>
    faultCase('BadDigest on every part', [{ name: 'baddigest', ...on.part, times: Infinity, fault: badDigest }], big, /BadDigest.*did not match the calculated checksum/));
  it('an endpoint that rejects checksum headers: falls back, still verified by size', () =>
    faultCase('endpoint rejects checksum headers (multipart)', [], big, undefined, { rejectChecksums: true }));
});

describe('single-request upload and manifest faults', () => {
  it('503 burst on the PUT: retried', () => faultCase('503 SlowDown x2 on PutObject', [{ name: 'slowdown', ...on.archivePut, times: 2, fault: slowDown }], small));
  it('PUT answer lost (stored; the retry meets If-None-Match): success', () =>
    faultCase('PutObject answer stalled, retry gets 412', [{ name: 'stall-put', ...on.archivePut, fault: { kind: 'stall-response' } }], small));
  it('manifest PUT answer lost (stored; the retry meets If-None-Match): success', () =>
    faultCase('manifest PUT answer stalled, retry gets 412', [{ name: 'stall-manifest', ...on.manifestPut, fault: { kind: 'stall-response' } }], small));
  it('manifest PUT failing: the archive is deleted', () =>
    faultCase('503 on every manifest PUT', [{ name: 'manifest503', ...on.manifestPut, times: Infinity, fault: slowDown }], small, /kept failing while trying to write the manifest of .*SlowDown, HTTP 503/, { maxMs: 20_000 }));
  it('verification HEAD stalled once: retried', () =>
    faultCase('verification HEAD stalled (x1)', [{ name: 'stall-head', ...on.archiveHead, fault: { kind: 'stall-response' } }], small));
  it('stored object shorter than sent (HEAD says so): deleted, clear error', () =>
    faultCase('stored size differs from what was sent', [{ name: 'size', ...on.archiveHead, fault: { kind: 'rewrite-headers', headers: { 'content-length': '100' } } }], small, /S3 holds 100 bytes, \d+ were sent; it was deleted/));
  it('stored CRC32 differs: deleted, clear error', () =>
    faultCase('stored CRC32 differs from what was sent', [{ name: 'crc', ...on.archiveHead, fault: { kind: 'rewrite-headers', headers: { 'x-amz-checksum-crc32': 'AAAAAA==' } } }], small, /S3's CRC32 of the object is AAAAAA==/));
  it('an endpoint that rejects checksum headers (single PUT): falls back', () => faultCase('endpoint rejects checksum headers (PutObject)', [], small, undefined, { rejectChecksums: true }));
});

describe('download faults', () => {
  let id: string;
  before(async () => {
    id = (await runBackup(big)).id;
  });

  async function downloadCase(name: string, rules: FaultRule[], failure?: RegExp): Promise<void> {
    proxy.clear();
    proxy.add(...rules);
    const dest = path.join(work, `dl-${table.length}`);
    mkdirSync(dest);
    const started = Date.now();
    try {
      if (failure) {
        const s = store(proxy.endpoint);
        await assert.rejects(download({ store: openStore({ kind: 's3', ...s }), id, decryption: { passphrase }, dest }), (err: Error) => {
          assert.match(err.message, failure);
          assert.doesNotMatch(err.message, /\n/);
          table.push({ case: name, outcome: `clear failure in ${((Date.now() - started) / 1000).toFixed(1)} s, destination untouched: ${err.message}` });
          return true;
        });
        assert.deepEqual(readdirSync(dest), []);
        proxy.clear();
        await assertRestores(id, big, proxy.endpoint);
      } else {
        await assertRestores(id, big, proxy.endpoint);
        table.push({ case: name, outcome: `correct restore, byte-identical (${((Date.now() - started) / 1000).toFixed(1)} s)` });
      }
      for (const r of rules) assert.ok(proxy.fired(r.name) > 0, `rule ${r.name} never fired`);
    } finally {
      proxy.clear();
      rmSync(dest, { recursive: true, force: true });
    }
  }

  it('connection reset twice in the body: resumed with ranged GETs', () =>
    downloadCase('GET body reset after 3 MiB (x2)', [{ name: 'reset-get', ...on.archiveGet, times: 2, fault: { kind: 'reset-response', afterBytes: 3 << 20 } }]));
  it('body stalled midway: times out, resumed', () =>
    downloadCase('GET body stalled after 1 MiB (x1)', [{ name: 'stall-get', ...on.archiveGet, fault: { kind: 'stall-response', afterBytes: 1 << 20 } }]));
  it('connection reset in the body of the manifest: resumed, as an archive is', () =>
    downloadCase('manifest GET body reset after 64 B (x1)', [{ name: 'reset-manifest-get', ...on.manifestGet, fault: { kind: 'reset-response', afterBytes: 64 } }]));
  it('503 on GET: retried', () => downloadCase('503 SlowDown x2 on GET', [{ name: 'get503', ...on.archiveGet, times: 2, fault: slowDown }]));
  it('a truncated body that claims to be complete: refused, destination untouched; the next run restores', () =>
    downloadCase('GET body truncated to 5 MiB (length header agrees)', [{ name: 'truncate', ...on.archiveGet, fault: { kind: 'truncate', afterBytes: 5 << 20 } }], /archive .*(does not match its manifest|truncated|integrity|not a valid)/));
});
