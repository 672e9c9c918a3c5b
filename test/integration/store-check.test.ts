/**
 * Set-up's live check (core/jobs/storeCheck.ts) against real stores: moto for S3, real folders.
 * Each failure must name the problem that picks the fix VS Code offers.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { GetPublicAccessBlockCommand, HeadBucketCommand } from '@aws-sdk/client-s3';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { openStore } from '../../src/core/jobs/openStore';
import { checkStore } from '../../src/core/jobs/storeCheck';
import { createS3Client } from '../../src/core/store/s3/client';
import type { StoreConfig } from '../../src/core/config';
import { startMoto, type Moto } from '../helpers/moto';
import { tempDir } from '../helpers/tree';

describe('store check (set-up)', () => {
  let moto: Moto;
  let dir: string;
  const s3 = (bucket: string): StoreConfig => ({ bucket, prefix: 'glacier-backup/', storageClass: 'DEEP_ARCHIVE', endpoint: moto.endpoint, forcePathStyle: true, region: 'eu-west-1', maxAttempts: 1 });

  before(async () => {
    process.env.AWS_ACCESS_KEY_ID = 'test';
    process.env.AWS_SECRET_ACCESS_KEY = 'test';
    moto = await startMoto();
    dir = tempDir('gb-store-check-');
  });
  after(() => moto.stop());

  it('an existing bucket passes, and says what was checked', async () => {
    await moto.createBucket('present');
    const result = await checkStore(openStore({ kind: 's3', ...s3('present') }));
    assert.equal(result.ok, true, result.message);
    assert.match(result.message, /^s3:\/\/present\/glacier-backup\/ exists, and these credentials may list it and upload to it$/);
  });

  it('a missing bucket fails as no-store with Create offered; Create Bucket makes it with public access blocked and the abort rule, then the check passes', async () => {
    const store = openStore({ kind: 's3', ...s3('made-by-setup') });
    const result = await checkStore(store);
    assert.equal(result.ok, false);
    assert.ok(!result.ok && result.problem === 'no-store' && result.canCreate, JSON.stringify(result));
    assert.match(result.message, /bucket "made-by-setup" does not exist/);
    await store.createBucket!();
    const client = createS3Client(s3('made-by-setup'));
    await client.send(new HeadBucketCommand({ Bucket: 'made-by-setup' }));
    const block = (await client.send(new GetPublicAccessBlockCommand({ Bucket: 'made-by-setup' }))).PublicAccessBlockConfiguration;
    assert.deepEqual(block, { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true });
    const again = await checkStore(store);
    assert.equal(again.ok, true, again.message);
    assert.equal(again.report?.abortIncompleteDays, 7);
    await store.createBucket!(); // already ours: succeeds
  });

  it('an endpoint that does not answer fails as unreachable', async () => {
    const result = await checkStore(openStore({ kind: 's3', ...s3('present'), endpoint: 'http://127.0.0.1:9' }));
    assert.ok(!result.ok && result.problem === 'unreachable', JSON.stringify(result));
  });

  it('a folder that exists passes and is left as it was (the test file is removed)', async () => {
    const root = path.join(dir, 'drive');
    mkdirSync(root);
    const result = await checkStore(openStore({ kind: 'file', root }));
    assert.equal(result.ok, true, result.message);
    assert.match(result.message, /^file:\/\/\/.*\/drive\/ exists and takes files$/);
    assert.deepEqual(readdirSync(path.join(root, '.uploads')), []);
    const listed = [];
    for await (const o of openStore({ kind: 'file', root }).list('')) listed.push(o);
    assert.deepEqual(listed, []);
  });

  it('a missing folder or a file in its place fails as no-store, with nothing to create', async () => {
    const missing = await checkStore(openStore({ kind: 'file', root: path.join(dir, 'unmounted') }));
    assert.ok(!missing.ok && missing.problem === 'no-store' && !missing.canCreate, JSON.stringify(missing));
    assert.match(missing.message, /does not exist \(is the drive mounted\?/);
    writeFileSync(path.join(dir, 'a-file'), 'x');
    const file = await checkStore(openStore({ kind: 'file', root: path.join(dir, 'a-file') }));
    assert.ok(!file.ok && file.problem === 'no-store', JSON.stringify(file));
    assert.match(file.message, /is not a folder/);
  });
});
