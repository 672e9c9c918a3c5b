/**
 * The uploader's memory bound against moto: a body that comes faster than S3 takes it uses no
 * more than `queueSize` part buffers in flight and one being filled, and a second upload given
 * the same PartBuffers (as a backup's manifest is) allocates none.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import type { StoreConfig } from '../../src/core/config';
import { createS3Client } from '../../src/core/store/s3/client';
import { minPartSize, uploadObject } from '../../src/core/store/s3/upload';
import { PartBuffers } from '../../src/core/store/partBuffers';
import { useMoto, type Moto } from '../helpers/moto';

const bucket = 'upload-tests';
let moto: Moto;

useMoto(bucket, (m) => {
  moto = m;
});

function client() {
  const store: StoreConfig = { bucket, prefix: '', endpoint: moto.endpoint, storageClass: 'STANDARD', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
  return createS3Client(store);
}

/** `parts` parts' worth of random bytes (and a bit), in 1 MiB chunks that are all ready at once. */
function body(parts: number): { chunks: Buffer[]; sha256: string } {
  const chunks = Array.from({ length: (parts * minPartSize) / (1 << 20) }, () => randomBytes(1 << 20));
  chunks.push(randomBytes(1000));
  return { chunks, sha256: createHash('sha256').update(Buffer.concat(chunks)).digest('hex') };
}

async function* iterate(chunks: Buffer[]): AsyncGenerator<Buffer> {
  yield* chunks;
}

async function storedSha256(key: string): Promise<string> {
  const res = await client().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return createHash('sha256')
    .update(await res.Body!.transformToByteArray())
    .digest('hex');
}

describe('uploadObject part buffers', () => {
  it('holds at most queueSize parts in flight and one filling, and a second upload on the same pool allocates none', async () => {
    const buffers = new PartBuffers(3);
    const first = body(5);
    const c = client();
    const common = { client: c, bucket, storageClass: 'STANDARD' as const, partSize: minPartSize, queueSize: 2, buffers };
    const res = await uploadObject({ ...common, key: 'first', body: iterate(first.chunks) });
    assert.equal(res.size, 5 * minPartSize + 1000);
    assert.equal(await storedSha256('first'), first.sha256);
    // The body is always ready, so two parts were in flight while a third filled, and never a fourth.
    assert.equal(buffers.made, 3);

    const second = body(3);
    await uploadObject({ ...common, key: 'second', body: iterate(second.chunks) });
    assert.equal(await storedSha256('second'), second.sha256);
    assert.equal(buffers.made, 3, 'the second upload reused the first one’s buffers');
  });
});
