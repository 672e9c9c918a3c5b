import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatStoreUrl, parseStoreUrl, type StoreUrl } from '../../src/core/config';
import { GlacierError } from '../../src/core/errors';

function refused(text: string, message: RegExp): void {
  assert.throws(
    () => parseStoreUrl(text, '--store'),
    (err) => err instanceof GlacierError && err.code === 'usage' && message.test(err.message) && err.message.startsWith('--store '),
    text,
  );
}

describe('parseStoreUrl', () => {
  it('reads s3://BUCKET/PREFIX with the prefix exactly as written, ending in "/"', () => {
    assert.deepEqual(parseStoreUrl('s3://my-bucket/glacier-backup/'), { kind: 's3', bucket: 'my-bucket', prefix: 'glacier-backup/' });
    assert.deepEqual(parseStoreUrl('s3://my-bucket/laptop/home'), { kind: 's3', bucket: 'my-bucket', prefix: 'laptop/home/' });
    assert.deepEqual(parseStoreUrl('S3://My.Bucket_1/a%20b/'), { kind: 's3', bucket: 'My.Bucket_1', prefix: 'a%20b/' }, 'S3 keys are literal: no %-decoding');
  });

  it('takes s3://BUCKET as the bucket’s root (the default prefix must be written)', () => {
    assert.deepEqual(parseStoreUrl('s3://my-bucket'), { kind: 's3', bucket: 'my-bucket', prefix: '' });
    assert.deepEqual(parseStoreUrl('s3://my-bucket/'), { kind: 's3', bucket: 'my-bucket', prefix: '' });
  });

  it('reads file:///absolute/path, %-escapes decoded, without a trailing slash', () => {
    assert.deepEqual(parseStoreUrl('file:///mnt/backup/glacier-backup'), { kind: 'file', root: '/mnt/backup/glacier-backup' });
    assert.deepEqual(parseStoreUrl('file:///mnt/backup/glacier-backup/'), { kind: 'file', root: '/mnt/backup/glacier-backup' });
    assert.deepEqual(parseStoreUrl('file://localhost/media/My%20Drive'), { kind: 'file', root: '/media/My Drive' });
    assert.deepEqual(parseStoreUrl('  file:///srv/b  '), { kind: 'file', root: '/srv/b' }, 'spaces around it (an environment file) are ignored');
  });

  it('writes the URL back as it reads it', () => {
    const locations: StoreUrl[] = [
      { kind: 's3', bucket: 'bkt', prefix: '' },
      { kind: 's3', bucket: 'bucket', prefix: 'glacier-backup/' },
      { kind: 'file', root: '/media/My Drive/backups #1' },
    ];
    for (const l of locations) assert.deepEqual(parseStoreUrl(formatStoreUrl(l)), l);
    assert.equal(formatStoreUrl({ kind: 'file', root: '/mnt/backup' }), 'file:///mnt/backup/');
  });

  it('refuses a bare path or bucket name and shows the URL to write', () => {
    refused('/mnt/backup', /not a URL; for this folder write file:\/\/\/mnt\/backup$/);
    refused('./backup', /for a folder write file:\/\/\/absolute\/path/);
    refused('~/backup', /for a folder write file:\/\/\/absolute\/path/);
    refused('my-bucket', /for a bucket write s3:\/\/my-bucket\/PREFIX/);
    refused('', /not a URL/);
  });

  it('refuses near misses with the form to use', () => {
    refused('s3:my-bucket/x', /write s3:\/\/my-bucket\/x/);
    refused('s3:/my-bucket', /write s3:\/\/my-bucket/);
    refused('s3://', /no bucket/);
    refused('s3://b/x', /not a bucket name/);
    refused('s3://bad bucket/x', /not a bucket name/);
    refused('s3://bucket/a/../b', /"\.\." segment/);
    refused('s3://bucket/a//b', /empty/);
    refused('s3://bucket/a?versionId=1', /"\?"/);
    refused('file:/mnt/backup', /three slashes/);
    refused('file://mnt/backup', /not on "mnt"/);
    refused('file:///mnt/backup?x=1', /"\?" or "#"/);
    refused('gs://bucket/x', /unknown scheme "gs:"; use s3:\/\/BUCKET\/PREFIX or file:\/\/\/path/);
    refused('https://s3.amazonaws.com/bucket', /unknown scheme "https:"/);
    refused('s3://bucket/a\nb', /control characters/);
  });
});
