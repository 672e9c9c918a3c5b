/**
 * VS Code's retention after scheduled backups (src/vscode/schedule/retentionPlan.ts): the setting
 * read into restic's rules, the plan limited to the folder's own source set, and the preview that
 * says what goes, what it saves and what Deep Archive's 180 days defer, and until when.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sourcesKey } from '../../src/core/catalog/manifest';
import { pruneTotals } from '../../src/core/jobs/prune';
import type { SnapshotInfo } from '../../src/core/jobs/snapshots';
import { folderPlan, previewText, retentionPolicy } from '../../src/vscode/schedule/retentionPlan';

const day = 86_400_000;
const now = new Date('2027-06-01T12:00:00Z');

function snap(id: string, folder: string, daysAgo: number, storageClass = 'DEEP_ARCHIVE', host = 'laptop'): SnapshotInfo {
  const time = new Date(now.getTime() - daysAgo * day);
  return {
    id,
    time,
    host,
    sources: [folder],
    set: sourcesKey(host, [{ path: folder }]),
    label: folder,
    format: 1,
    needs: [id],
    archive: { size: 100 * 1024 ** 3, storageClass, uploaded: time },
  };
}

describe('retention in VS Code', () => {
  it('reads the setting into a policy; empty or zero rules mean nothing is pruned; a bad duration is refused', () => {
    assert.equal(retentionPolicy(undefined), undefined);
    assert.equal(retentionPolicy({}), undefined);
    assert.equal(retentionPolicy({ keepDaily: 0 }), undefined);
    assert.deepEqual(retentionPolicy({ keepLast: 2, keepDaily: 7, keepMonthly: -1, keepWithin: '1y6m', keepYearly: 1.5, keepWeekly: 'x' }), {
      last: 2,
      daily: 7,
      monthly: -1,
      within: { years: 1, months: 6, days: 0, hours: 0 },
    });
    assert.throws(() => retentionPolicy({ keepWithin: 'a week' }), /not a duration/);
  });

  it('plans only the folder own source set on this host; the preview says what goes, what it saves, what waits and until when', () => {
    const snapshots = [
      snap('new', '/w/a', 1),
      snap('young', '/w/a', 100),
      snap('old', '/w/a', 400),
      snap('other-folder', '/w/b', 400),
      snap('other-host', '/w/a', 400, 'DEEP_ARCHIVE', 'desktop'),
    ];
    const plan = folderPlan(snapshots, 'laptop', '/w/a', { last: 1 }, now);
    const actions = Object.fromEntries(plan.flatMap((s) => s.items).map((i) => [i.snapshot.id, i.action]));
    assert.deepEqual(actions, { new: 'keep', young: 'defer', old: 'delete' });
    const t = pruneTotals(plan);
    assert.equal(t.delete, 1);
    assert.equal(t.defer, 1);
    assert.ok(t.monthly > 0);
    const text = previewText('a', plan);
    assert.match(text, /^# Retention preview: a$/m);
    assert.match(text, /Deletes 1 archive\(s\), 100(\.0)? GiB, saving about \$[\d.]+ per month; defers 1; keeps 1\./);
    assert.match(text, /`old` .*: \*\*deleted\*\*, saves \$[\d.]+ per month/);
    const ends = new Date(now.getTime() - 100 * day + 180 * day).toLocaleDateString();
    assert.ok(text.includes(`\`young\``) && text.includes(`deferred until ${ends}: deleting earlier saves nothing`), text);
    assert.match(text, /`new` .*: kept \(/);
  });
});
