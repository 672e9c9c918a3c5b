import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { GlacierError } from '../../src/core/errors';
import { isConfigured, isNotSetUp, storeLocation, type StoreSettings } from '../../src/vscode/storeLocation';

/** The settings as a fresh install has them (package.json's defaults). */
const defaults: StoreSettings = {
  store: '',
  bucket: '',
  prefix: 'glacier-backup/',
  region: '',
  endpoint: '',
  forcePathStyle: false,
  storageClass: 'DEEP_ARCHIVE',
  credentials: 'awsChain',
  awsProfile: '',
};

describe('glacierBackup.store and the bucket settings', () => {
  it('nothing set: the "not set up" error that starts Set Up, and isConfigured false', () => {
    assert.equal(isConfigured(defaults), false);
    assert.throws(() => storeLocation(defaults), (err) => isNotSetUp(err) && /Set Up/.test((err as Error).message));
  });

  it('empty store: the bucket, prefix, region and endpoint settings as before', () => {
    const s = { ...defaults, bucket: 'b1', prefix: 'laptop', region: 'eu-central-1', endpoint: 'http://127.0.0.1:9000', awsProfile: 'work' };
    assert.deepEqual(storeLocation(s), {
      kind: 's3',
      bucket: 'b1',
      prefix: 'laptop/',
      storageClass: 'DEEP_ARCHIVE',
      region: 'eu-central-1',
      endpoint: 'http://127.0.0.1:9000',
      forcePathStyle: true,
      profile: 'work',
    });
  });

  it('a file:// URL is a folder store, whatever the bucket settings say', () => {
    const s = { ...defaults, store: 'file:///media/usb/glacier%20backup/', bucket: 'ignored' };
    assert.equal(isConfigured(s), true);
    assert.deepEqual(storeLocation(s), { kind: 'file', root: '/media/usb/glacier backup' });
  });

  it('an s3:// URL names bucket and prefix; region, endpoint and class still come from their settings', () => {
    const s = { ...defaults, store: 's3://other-bucket/team/a', bucket: 'b1', prefix: 'not-used/', region: 'us-west-2', storageClass: 'GLACIER' as const };
    assert.deepEqual(storeLocation(s), { kind: 's3', bucket: 'other-bucket', prefix: 'team/a/', storageClass: 'GLACIER', region: 'us-west-2' });
    assert.deepEqual(storeLocation({ ...s, store: 's3://other-bucket' }), { kind: 's3', bucket: 'other-bucket', prefix: '', storageClass: 'GLACIER', region: 'us-west-2' });
  });

  it('the profile applies only to the AWS credential chain, not to keys from SecretStorage', () => {
    const location = storeLocation({ ...defaults, bucket: 'b1', awsProfile: 'work', credentials: 'secretStorage' });
    assert.equal('profile' in location, false);
  });

  it('a misspelt URL fails with one line naming the setting and the form to use (not "not set up")', () => {
    for (const [text, want] of [
      ['/media/usb', /setting glacierBackup\.store "\/media\/usb": not a URL; for this folder write file:\/\/\/media\/usb/],
      ['my-bucket', /write s3:\/\/my-bucket\/PREFIX/],
      ['ftp://host/x', /unknown scheme "ftp:"/],
    ] as const) {
      assert.throws(
        () => storeLocation({ ...defaults, store: text }),
        (err) => err instanceof GlacierError && !isNotSetUp(err) && want.test(err.message),
        text,
      );
    }
  });
});
