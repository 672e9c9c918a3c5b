import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isAwsEndpoint, trustsListedRestore } from '../../src/core/store/s3/listedRestore';

describe('when a listing\'s restore states are trusted', () => {
  it('knows AWS by its endpoint: none, or a host under amazonaws.com (or .com.cn)', () => {
    for (const e of [undefined, '', 'https://s3.eu-west-1.amazonaws.com', 'https://bucket.s3.us-east-1.amazonaws.com/', 'https://s3.cn-north-1.amazonaws.com.cn']) assert.equal(isAwsEndpoint(e), true, String(e));
    for (const e of ['http://127.0.0.1:9000', 'https://minio.example.com', 'https://amazonaws.com.evil.example', 'https://notamazonaws.com', 'not a url']) assert.equal(isAwsEndpoint(e), false, e);
  });

  it('trusts AWS always, any other server once it showed a RestoreStatus', () => {
    assert.equal(trustsListedRestore(undefined, false), true);
    assert.equal(trustsListedRestore('http://127.0.0.1:9000', false), false);
    assert.equal(trustsListedRestore('http://127.0.0.1:9000', true), true);
  });
});
