import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { describeState, glacierState, listedGlacierState } from '../../src/core/model/glacierState';

const now = new Date('2026-11-23T12:00:00Z');

describe('glacierState', () => {
  it('needs no restore outside the Glacier classes', () => {
    for (const c of [undefined, 'STANDARD', 'STANDARD_IA', 'GLACIER_IR']) assert.deepEqual(glacierState(c, undefined, now), { state: 'available' });
  });

  it('is archived without a restore header', () => {
    assert.deepEqual(glacierState('DEEP_ARCHIVE', undefined, now), { state: 'archived' });
    assert.deepEqual(glacierState('GLACIER', '', now), { state: 'archived' });
  });

  it('is restoring while the request is ongoing', () => {
    assert.deepEqual(glacierState('DEEP_ARCHIVE', 'ongoing-request="true"', now), { state: 'restoring' });
  });

  it('is restored until the expiry date, and archived again after it', () => {
    const header = 'ongoing-request="false", expiry-date="Fri, 27 Nov 2026 00:00:00 GMT"';
    const s = glacierState('DEEP_ARCHIVE', header, now);
    assert.equal(s.state, 'restored');
    assert.equal(s.state === 'restored' && s.expiry?.toISOString(), '2026-11-27T00:00:00.000Z');
    assert.equal(describeState(s), 'restored until 2026-11-27T00:00:00Z');
    assert.deepEqual(glacierState('DEEP_ARCHIVE', 'ongoing-request="false", expiry-date="Fri, 20 Nov 2026 00:00:00 GMT"', now), { state: 'archived' });
  });
});

describe('listedGlacierState (a listing that reports RestoreStatus)', () => {
  it('reads no RestoreStatus on a cold object as archived, and any other class as available', () => {
    assert.deepEqual(listedGlacierState('DEEP_ARCHIVE', undefined, now), { state: 'archived' });
    assert.deepEqual(listedGlacierState('STANDARD', undefined, now), { state: 'available' });
    assert.deepEqual(listedGlacierState('STANDARD', { inProgress: true }, now), { state: 'available' });
  });

  it('is restoring, restored until the expiry, or archived once it passed', () => {
    assert.deepEqual(listedGlacierState('GLACIER', { inProgress: true }, now), { state: 'restoring' });
    const expiry = new Date('2026-11-27T00:00:00Z');
    assert.deepEqual(listedGlacierState('DEEP_ARCHIVE', { inProgress: false, expiry }, now), { state: 'restored', expiry });
    assert.deepEqual(listedGlacierState('DEEP_ARCHIVE', { inProgress: false, expiry: new Date('2026-11-20T00:00:00Z') }, now), { state: 'archived' });
  });

  it('leaves to a HEAD a status that does not say enough', () => {
    assert.equal(listedGlacierState('DEEP_ARCHIVE', { inProgress: false }, now), undefined, 'done, but no expiry');
    assert.equal(listedGlacierState('DEEP_ARCHIVE', { inProgress: false, expiry: new Date('garbage') }, now), undefined, 'an invalid date');
    assert.equal(listedGlacierState('DEEP_ARCHIVE', {}, now), undefined, 'neither field');
  });
});
