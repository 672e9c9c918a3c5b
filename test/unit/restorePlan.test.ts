import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { describePlan, type RestorePlan } from '../../src/core/jobs/restoreRequest';

const archive = (id: string, size: number, state: RestorePlan['archives'][number]['state']): RestorePlan['archives'][number] => ({ id, size, storageClass: 'DEEP_ARCHIVE', state });

describe('a restore plan in words', () => {
  it('says how many archives and how much, and each tier with its cost and time', () => {
    const said = describePlan({
      archives: [archive('a', 1024, { state: 'archived' }), archive('b', 2048, { state: 'archived' })],
      bytes: 3072,
      toRetrieve: 3072,
      tiers: [
        { tier: 'Standard', cost: 0.25, time: 'within 12 hours' },
        { tier: 'Bulk', cost: 0.004, time: 'within 48 hours' },
      ],
    });
    assert.equal(said.reads, '2 archives (3.0 KiB)');
    assert.equal(said.cost, 'retrieving 3.0 KiB costs about $0.25 (Standard, within 12 hours), < $0.01 (Bulk, within 48 hours)');
    assert.deepEqual(said.tiers, [
      { tier: 'Standard', cost: '$0.25', time: 'within 12 hours' },
      { tier: 'Bulk', cost: '< $0.01', time: 'within 48 hours' },
    ]);
    assert.equal(said.already, undefined);
  });

  it('names the archives that are back already or on their way; nothing to retrieve costs nothing', () => {
    const some = describePlan({
      archives: [archive('a', 10, { state: 'restored' }), archive('b', 10, { state: 'archived' }), archive('c', 10, { state: 'restoring' })],
      bytes: 30,
      toRetrieve: 10,
      tiers: [{ tier: 'Bulk', cost: 0 }],
    });
    assert.equal(some.already, '1 of 3 is restored already; 1 of 3 is being restored');
    assert.equal(some.reads, '3 archives (30 B)');
    const one = describePlan({ archives: [archive('a', 10, { state: 'restored' })], bytes: 10, toRetrieve: 0, tiers: [] });
    assert.equal(one.reads, '1 archive (10 B)');
    assert.equal(one.already, 'it is restored already');
    assert.equal(one.cost, undefined);
    assert.equal(describePlan({ archives: [archive('a', 1, { state: 'restoring' }), archive('b', 1, { state: 'restoring' })], bytes: 2, toRetrieve: 0, tiers: [] }).already, 'all 2 are being restored');
  });
});
