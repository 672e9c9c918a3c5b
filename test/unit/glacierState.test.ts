import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { describeState, glacierState } from '../../src/core/model/glacierState';

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
