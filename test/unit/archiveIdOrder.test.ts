/**
 * A chain's archive ids ascend (model/chain.ts nextChain refuses others), and two backups of one
 * second share an id's time: the second one's random part must then be drawn above the first's.
 * A previous snapshot dated after this clock (a clock set back) makes the next backup a full one.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lastIdOf, newArchiveId } from '../../src/core/jobs/uploadPlan';
import { fullReason } from '../../src/core/jobs/increment';
import { defaultChainPolicy } from '../../src/core/model/chain';
import type { Manifest } from '../../src/core/catalog/manifest';

const now = new Date('2026-12-01T18:11:13.456Z');

describe('archive ids of a chain', () => {
  it('sorts after an id of the same second, however high its random part', () => {
    for (const suffix of ['0000000000000000', '7fffffffffffffff', 'fffffffffffffff0', 'fffffffffffffffe']) {
      const after = `20261201T181113Z-${suffix}`;
      for (let i = 0; i < 200; i++) {
        const id = newArchiveId(now, after);
        assert.match(id, /^20261201T181113Z-[0-9a-f]{16}$/);
        assert.ok(id > after, `${id} after ${after}`);
      }
    }
    assert.equal(newArchiveId(now, '20261201T181113Z-fffffffffffffffe'), '20261201T181113Z-ffffffffffffffff');
  });

  it('sorts ids of one second by their millisecond, as one machine makes them', () => {
    const ids = [0, 1, 2, 455, 456, 457, 998, 999].map((ms) => newArchiveId(new Date(Date.UTC(2026, 11, 1, 18, 11, 13, ms))));
    for (let round = 0; round < 50; round++) {
      const again = [0, 1, 2, 455, 456, 457, 998, 999].map((ms) => newArchiveId(new Date(Date.UTC(2026, 11, 1, 18, 11, 13, ms))));
      assert.deepEqual([...again].sort(), again);
      const merged = [...ids, ...again].sort();
      for (let i = 0; i < 8; i++) assert.deepEqual(merged.slice(2 * i, 2 * i + 2).sort(), [ids[i], again[i]].sort());
    }
    assert.deepEqual([...ids].sort(), ids);
    // An id drawn above a later millisecond's still sorts after it.
    const later = newArchiveId(new Date(Date.UTC(2026, 11, 1, 18, 11, 13, 900)));
    assert.ok(newArchiveId(now, later) > later);
  });

  it('keeps 54 random bits after an id of an earlier second, and without one', () => {
    const ids = new Set(Array.from({ length: 100 }, () => newArchiveId(now, '20261201T181112Z-ffffffffffffffff')));
    assert.equal(ids.size, 100);
    for (const id of ids) assert.ok(id.startsWith('20261201T181113Z-'));
    assert.match(newArchiveId(now), /^20261201T181113Z-[0-9a-f]{16}$/);
  });

  it('makes a full backup when no id of this second can come after the last one', () => {
    const reason = (previousId: string) =>
      fullReason({
        previous: { id: previousId, encryption: { mode: 'passphrase', recipients: [] } } as unknown as Manifest,
        plan: { entries: [], renames: [] } as never,
        toStore: 0,
        fileBytes: 10,
        encryption: { mode: 'passphrase', recipients: [] },
        policy: defaultChainPolicy,
        forced: false,
        now,
      });
    assert.equal(reason('20261201T181113Z-0123456789abcdef'), undefined);
    assert.equal(reason('20261201T181112Z-ffffffffffffffff'), undefined);
    assert.match(reason('20261201T181114Z-0000000000000000') ?? '', /dated after this computer's clock/);
    assert.match(reason(lastIdOf(now)) ?? '', /dated after this computer's clock/);
  });
});
