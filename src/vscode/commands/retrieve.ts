/**
 * Getting an archive back is restore, then download; either command may find the archive in the
 * other's state (Restore… on an archive that needs no restore, Download… on one still in Glacier)
 * and offer the other. This loop takes each flow's answer to the next step, so neither flow calls
 * the other. It ends when a flow returns nothing; every step waits for the user, so it cannot spin.
 */
import { downloadFlow } from './downloadFlow';
import { restoreFlow } from './restoreFlow';
import type { Services } from './services';

export type RetrieveStep = { restore: string | undefined } | { download: string; paths?: string[] };

export async function retrieve(s: Services, first: RetrieveStep): Promise<void> {
  let step: RetrieveStep | undefined = first;
  while (step) {
    if ('restore' in step) {
      const next = await restoreFlow(s, step.restore);
      step = next && { download: next.id, ...(next.paths ? { paths: next.paths } : {}) };
    } else {
      const next = await downloadFlow(s, step.download, step.paths);
      step = next === undefined ? undefined : { restore: next };
    }
  }
}
