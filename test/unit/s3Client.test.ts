import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { HeadObjectCommand, PutObjectCommand, UploadPartCommand } from '@aws-sdk/client-s3';
import { createS3Client } from '../../src/core/store/s3/client';

/** The signed request the client would send to `endpoint`: captured in place of the network (nothing listens there). */
async function signed(endpoint: string, command: object): Promise<Record<string, string>> {
  const client = createS3Client({ bucket: 'b', prefix: '', storageClass: 'DEEP_ARCHIVE', endpoint, credentials: { accessKeyId: 'AKID', secretAccessKey: 'secret' }, maxAttempts: 1 });
  let headers: Record<string, string> | undefined;
  client.config.requestHandler = {
    handle: (request: { headers: Record<string, string> }) => {
      headers = request.headers;
      return Promise.reject(new Error('captured'));
    },
  } as unknown as typeof client.config.requestHandler;
  await assert.rejects(client.send(command as never), /captured/);
  assert.ok(headers, 'a request was made');
  return headers;
}

describe('S3 client', () => {
  const body = Buffer.from('ciphertext bytes');
  const sha = createHash('sha256').update(body).digest('hex');

  it('signs uploads without hashing the body over HTTPS (TLS and the CRC32 header protect it)', async () => {
    for (const command of [
      new UploadPartCommand({ Bucket: 'b', Key: 'k', UploadId: 'u', PartNumber: 1, Body: body, ContentLength: body.length, ChecksumCRC32: 'AAAAAA==' }),
      new PutObjectCommand({ Bucket: 'b', Key: 'k', Body: body, ContentLength: body.length }),
    ]) {
      const h = await signed('https://s3.example.test', command);
      assert.equal(h['x-amz-content-sha256'], 'UNSIGNED-PAYLOAD');
      assert.match(h.authorization ?? '', /SignedHeaders=[^,]*x-amz-content-sha256/);
    }
  });

  it('keeps the body signed over plain HTTP, and leaves other requests alone', async () => {
    const part = await signed('http://127.0.0.1:9', new UploadPartCommand({ Bucket: 'b', Key: 'k', UploadId: 'u', PartNumber: 1, Body: body, ContentLength: body.length }));
    assert.equal(part['x-amz-content-sha256'], sha);
    const head = await signed('https://s3.example.test', new HeadObjectCommand({ Bucket: 'b', Key: 'k' }));
    assert.notEqual(head['x-amz-content-sha256'], 'UNSIGNED-PAYLOAD');
  });
});
