/**
 * The questions of Restore…: the whole snapshot or only some of its files, then the tier (shown
 * with the plan: how many archives, their size, each tier's cost and time for exactly those), then
 * the days. The words and figures of the plan are the engine's (describePlan), as the CLI's are.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { describePlan, type RestorePlan, type RestoreTier } from '../../core/jobs/restoreRequest';
import { formatBytes } from '../../core/model/format';
import { dollars, monthlyCost } from '../viewModel';
import { plural } from '../when';
import { outermost, pathChoices } from '../wantedRestores';
import type { Services } from './services';

/**
 * The whole snapshot, or some of its paths picked from its manifest (folders bring back what they
 * hold). `[]` is the whole snapshot; undefined, cancelled.
 */
export async function pickScope(s: Services, id: string, label: string): Promise<string[] | undefined> {
  const files = s.catalog.get(id)?.summary?.fileCount;
  const scope = await vscode.window.showQuickPick(
    [
      { label: 'Whole snapshot', description: files === undefined ? '' : plural(files, 'file'), some: false },
      { label: 'Only some files or folders…', description: 'only the archives holding them are restored', some: true },
    ],
    { title: `Restore ${label}: all of it, or some files?` },
  );
  if (!scope) return undefined;
  if (!scope.some) return [];
  const m = await s.catalog.manifest(id);
  const { rows, omitted } = pathChoices(m.entries);
  const qp = vscode.window.createQuickPick<vscode.QuickPickItem & { path: string }>();
  qp.title = `Restore ${label}: which files or folders?`;
  qp.placeholder = `Type to filter; check the files or folders to restore${omitted ? ` (${plural(omitted, 'file')} not listed: pick their folder)` : ''}`;
  qp.canSelectMany = true;
  qp.matchOnDescription = true;
  qp.items = rows.map((r) => ({
    path: r.path,
    label: `$(${r.folder ? 'folder' : 'file'}) ${path.posix.basename(r.path)}`,
    description: r.folder ? `${r.path}/` : `${r.path} · ${formatBytes(r.size)}`,
  }));
  const picked = await new Promise<readonly string[] | undefined>((resolve) => {
    qp.onDidAccept(() => resolve(qp.selectedItems.map((i) => i.path)));
    qp.onDidHide(() => resolve(undefined));
    qp.show();
  });
  qp.dispose();
  if (!picked?.length) return undefined;
  return outermost(picked);
}

/** The tier, with the plan in the title: how many archives and how much, each tier's cost and time; what is back already is said. */
export async function pickTier(plan: RestorePlan, what: string, defaultTier: RestoreTier): Promise<RestoreTier | undefined> {
  const said = describePlan(plan);
  const pick = await vscode.window.showQuickPick(
    said.tiers
      .map((t) => ({
        label: t.tier,
        description: t.time,
        detail: `About ${t.cost} to retrieve ${formatBytes(plan.toRetrieve)}${t.tier === defaultTier ? ' · your default' : ''}`,
        picked: t.tier === defaultTier,
        tier: t.tier,
      }))
      .sort((a, b) => Number(b.picked) - Number(a.picked)),
    {
      title: `Restore ${what}: ${said.reads}`,
      placeHolder: said.already ? `${said.already}, not requested again; how fast should the rest come?` : 'How fast? Bulk is cheapest; Standard is faster',
    },
  );
  return pick?.tier;
}

/** How many days the restored copies stay, with what they cost per day while they exist. */
export async function askDays(what: string, bytes: number, defaultDays: number): Promise<number | undefined> {
  const text = await vscode.window.showInputBox({
    title: `Restore ${what}: for how many days?`,
    prompt: `The restored copy can be downloaded for this many days; it costs about ${dollars(monthlyCost(bytes, 'STANDARD') / 30)} per day while it exists.`,
    value: String(defaultDays),
    validateInput: (v) => (/^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 365 ? undefined : 'A whole number of days from 1 to 365'),
  });
  return text === undefined ? undefined : Number(text);
}
