/**
 * The pure side of `glacierBackup.retention` (retentionRun.ts runs it): the setting read into a
 * policy, the plan for one folder's own source set (core/jobs/prune.ts), and the preview a user
 * reads before the first prune. No `vscode` here, so it is unit-tested.
 */
import { sourcesKey } from '../../core/jobs/manifest';
import { planPrune, pruneTotals, type PruneSet } from '../../core/jobs/prune';
import type { SnapshotInfo } from '../../core/jobs/snapshots';
import { formatBytes } from '../../core/model/format';
import { dollars } from '../../core/model/pricing';
import { isEmptyPolicy, parseDuration, type RetentionPolicy } from '../../core/model/retention';

/** The setting → a policy; undefined when empty. A bad value is one line in the log. */
export function retentionPolicy(raw: Record<string, unknown> | undefined): RetentionPolicy | undefined {
  const r = raw ?? {};
  const count = (k: string): number | undefined => (typeof r[k] === 'number' && Number.isInteger(r[k]) && (r[k] as number) >= -1 ? (r[k] as number) : undefined);
  const policy: RetentionPolicy = {};
  const map = [
    ['keepLast', 'last'],
    ['keepHourly', 'hourly'],
    ['keepDaily', 'daily'],
    ['keepWeekly', 'weekly'],
    ['keepMonthly', 'monthly'],
    ['keepYearly', 'yearly'],
  ] as const;
  for (const [setting, rule] of map) {
    const n = count(setting);
    if (n !== undefined && n !== 0) policy[rule] = n;
  }
  if (typeof r.keepWithin === 'string' && r.keepWithin.trim()) policy.within = parseDuration(r.keepWithin.trim());
  return isEmptyPolicy(policy) ? undefined : policy;
}

/** The plan for the source set of exactly this folder on this host; other sets are not touched. */
export function folderPlan(snapshots: readonly SnapshotInfo[], host: string, folder: string, policy: RetentionPolicy, now: Date): PruneSet[] {
  const set = sourcesKey(host, [{ path: folder }]);
  return planPrune(snapshots.filter((x) => x.set === set), { policy, now });
}

/** The plan as a document: each archive, what happens to it and why, in local time. */
export function previewText(name: string, plan: readonly PruneSet[]): string {
  const t = pruneTotals(plan);
  const lines = [`# Retention preview: ${name}`, '', `Deletes ${t.delete} archive(s), ${formatBytes(t.bytes)}, saving about ${dollars(t.monthly)} per month; defers ${t.defer}; keeps ${t.keep}.`, ''];
  for (const set of plan) {
    for (const i of set.items) {
      const when = i.snapshot.time.toLocaleString();
      const size = formatBytes(i.snapshot.archive.size);
      const why =
        i.action === 'keep'
          ? `kept (${i.reasons.join(', ')})`
          : i.action === 'needed'
            ? `kept: ${i.reasons.join(', ')} needs it`
            : i.action === 'defer'
              ? `deferred until ${i.minimumEnds?.toLocaleDateString()}: deleting earlier saves nothing (early-deletion fee ${dollars(i.fee)})`
              : `**deleted**, saves ${dollars(i.monthly)} per month`;
      lines.push(`- \`${i.snapshot.id}\` ${when}, ${size}: ${why}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
