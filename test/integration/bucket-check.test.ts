import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateBucketCommand,
  GetBucketLifecycleConfigurationCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketVersioningCommand,
  PutObjectLockConfigurationCommand,
} from '@aws-sdk/client-s3';
import { abortRuleId, addAbortRule, checkBucket, iamPolicies } from '../../src/core/store/s3/bucketCheck';
import { createS3Client } from '../../src/core/store/s3/client';
import type { StoreConfig } from '../../src/core/config';
import { GlacierError } from '../../src/core/errors';
import { startMoto, type Moto } from '../helpers/moto';

describe('Check bucket (against moto)', () => {
  let moto: Moto;
  const store = (bucket: string): StoreConfig => ({ bucket, prefix: 'glacier-backup/', storageClass: 'DEEP_ARCHIVE', endpoint: moto.endpoint, region: 'us-east-1' });

  before(async () => {
    process.env.AWS_ACCESS_KEY_ID = 'test';
    process.env.AWS_SECRET_ACCESS_KEY = 'test';
    moto = await startMoto();
  });
  after(() => moto.stop());

  it('reports access, versioning off and no abort rule on a fresh bucket, then adds the rule', async () => {
    await moto.createBucket('fresh');
    const client = createS3Client(store('fresh'));
    const before = await checkBucket(client, store('fresh'));
    assert.equal(before.canList, true);
    assert.equal(before.versioning, 'Off');
    assert.equal(before.abortIncompleteDays, undefined);
    await addAbortRule(client, store('fresh'), 7);
    assert.equal((await checkBucket(client, store('fresh'))).abortIncompleteDays, 7);
  });

  it('keeps the rules a bucket already has and sees versioning', async () => {
    await moto.createBucket('ruled');
    const client = createS3Client(store('ruled'));
    await client.send(new PutBucketVersioningCommand({ Bucket: 'ruled', VersioningConfiguration: { Status: 'Enabled' } }));
    await client.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: 'ruled',
        LifecycleConfiguration: { Rules: [{ ID: 'logs-expire', Status: 'Enabled', Filter: { Prefix: 'logs/' }, Expiration: { Days: 30 } }] },
      }),
    );
    const report = await checkBucket(client, store('ruled'));
    assert.equal(report.versioning, 'Enabled');
    assert.equal(report.abortIncompleteDays, undefined, 'a rule for another prefix does not count');
    await addAbortRule(client, store('ruled'), 3);
    const rules = (await client.send(new GetBucketLifecycleConfigurationCommand({ Bucket: 'ruled' }))).Rules ?? [];
    assert.deepEqual(rules.map((r) => r.ID).sort(), [abortRuleId, 'logs-expire'].sort());
    assert.equal((await checkBucket(client, store('ruled'))).abortIncompleteDays, 3);
  });

  it("reports Object Lock with its default retention, finds every permission allowed for the emulator's root, and writes nothing", async () => {
    const client = createS3Client(store('locked'));
    await client.send(new CreateBucketCommand({ Bucket: 'locked', ObjectLockEnabledForBucket: true }));
    await client.send(new PutObjectLockConfigurationCommand({ Bucket: 'locked', ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 30 } } } }));
    const report = await checkBucket(client, store('locked'));
    assert.equal(report.objectLock, 'GOVERNANCE, 30 days');
    assert.equal(report.versioning, 'Enabled', 'Object Lock turns versioning on');
    assert.deepEqual(report.permissions.filter((p) => p.answer !== 'allowed'), []);
    assert.equal(report.permissions.length, 9);
    assert.deepEqual(await moto.keys('locked'), []);
    assert.equal((await checkBucket(client, store('fresh'))).objectLock, 'Off');
  });

  it('names a missing bucket in one line', async () => {
    const client = createS3Client(store('no-such-bucket'));
    await assert.rejects(checkBucket(client, store('no-such-bucket')), (err: unknown) => err instanceof GlacierError && err.code === 'no-bucket' && /"no-such-bucket" does not exist/.test(err.message));
  });

  it('scopes the IAM policies to the prefix', () => {
    const p = JSON.stringify(iamPolicies('b', 'glacier-backup/'));
    assert.match(p, /arn:aws:s3:::b\/glacier-backup\/archives\/\*/);
    assert.match(p, /"s3:prefix":\["glacier-backup\/\*"\]/);
    assert.doesNotMatch(JSON.stringify(iamPolicies('b', 'x/').backupOnly), /RestoreObject/);
  });
});
