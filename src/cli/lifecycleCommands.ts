/** CLI commands for an archive's life after backup: delete one, prune by a retention policy, watch freshness. */
import * as path from 'node:path';
import { createInterface } from 'node:readline/promises';
import { archiveIdPattern } from '../core/config';
import { GlacierError } from '../core/errors';
import { deleteArchive, deletionCost, deletionCostNote, findArchive, keepsOldVersions } from '../core/jobs/delete';
import { deleteRefusal, deleteWithDependents, dependentsOf, namedSnapshots, unreadableNote, type Dependent } from '../core/jobs/dependents';
import { formatAge, freshness } from '../core/jobs/freshness';
import { executePrune, planPrune, pruneTotals, type PruneItem, type PruneSet } from '../core/jobs/prune';
import { FilePendingStore } from '../core/jobs/restoreTracker';
import { listSnapshots, type SnapshotListing } from '../core/jobs/snapshots';
import { className, dollars } from '../core/model/pricing';
import { formatDuration, isEmptyPolicy, parseDuration, type RetentionPolicy } from '../core/model/retention';
import { formatBytes } from '../core/model/format';
import { decryption, type Context } from './context';
import { configDir, stateDir } from './options';

export const lifecycleUsage = `  delete <id> [--yes] [--with-dependents]      delete an archive and its manifest (states the early-deletion fee);
                                               refused while later snapshots of its chain need it, unless
                                               --with-dependents deletes them too
  prune --keep-… [--dry-run] [--allow-early-deletion] [--host H] [--path P]
                                               delete what a retention policy forgets, per source set:
                                               --keep-last/-hourly/-daily/-weekly/-monthly/-yearly N,
                                               --keep-within DURATION (e.g. 1y6m, 30d, 26h)
  freshness [--max-age 26h] [--json]           newest backup of each source set; exit 1 if one is older
`;

export const lifecycleCommands: Record<string, (ctx: Context, args: string[]) => Promise<void>> = {
  delete: runDelete,
  prune: runPrune,
  freshness: runFreshness,
};

/** The clock. GLACIER_BACKUP_NOW (an ISO 8601 time) is a test hook: tests set it to age archives. */
function now(env: NodeJS.ProcessEnv): Date {
  const text = env.GLACIER_BACKUP_NOW;
  if (!text) return new Date();
  const d = new Date(text);
  if (Number.isNaN(d.getTime())) throw new GlacierError('usage', 'GLACIER_BACKUP_NOW must be an ISO 8601 time');
  return d;
}

/** Said before any deletion where it applies: on a versioned bucket, nothing is saved until old versions expire. */
async function versioningNote(ctx: Context): Promise<void> {
  if (await keepsOldVersions(ctx.store, ctx.signal)) {
    ctx.err(`note: ${ctx.location.kind === 's3' ? `bucket ${ctx.location.bucket}` : ctx.store.name} keeps old versions: a deleted archive stays as an old version, billed as before, until a lifecycle rule expires it; the savings below assume that`);
  }
}

function day(d: Date): string {
  return d.toISOString().slice(0, 10);
}

function minute(d: Date): string {
  return d.toISOString().slice(0, 16).replace('T', ' ');
}

/** Local time, as the policy's hour/day/week buckets see it. */
function localMinute(d: Date): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

async function runDelete(ctx: Context, args: string[]): Promise<void> {
  const id = args[0];
  if (!id || args.length > 1) throw new GlacierError('usage', 'delete needs one archive id (see "glacier-backup list")');
  if (!archiveIdPattern.test(id)) throw new GlacierError('usage', `"${id}" is not an archive id (see "glacier-backup list")`);
  const found = await findArchive(ctx.store, id);
  // Later snapshots of its chain that need it (format.md "Chains"): refused, or deleted with it when asked.
  const deps = await dependentsOf(ctx.store, id, () => decryption(ctx, false), ctx.signal);
  const withDependents = ctx.options['with-dependents'] === true;
  const refusal = deleteRefusal(id, deps, '; --with-dependents deletes them with it');
  if (refusal && !(withDependents && deps.needers.length > 0)) throw refusal;
  const note = unreadableNote(id, deps);
  if (note) ctx.err(`note: ${note}`);
  const also = withDependents ? deps.closure : [];
  const at = now(ctx.env);
  const a = found.archive;
  const parts = a ? [`archive ${id} (${formatBytes(a.size)} in ${className(a.storageClass)}${a.uploaded ? `, uploaded ${minute(a.uploaded)} UTC` : ''})`] : [`archive ${id} (its archive object is already gone)`];
  if (found.manifest) parts.push('its manifest');
  if (also.length) parts.push(`the ${namedSnapshots(also.map((d) => d.id))} that need it, ${dependentsCost(also, at)}`);
  ctx.err(`this deletes ${parts.join(' and ')}; it cannot be undone`);
  await versioningNote(ctx);
  if (a) ctx.err(deletionCostNote(a, at));
  if (!ctx.options.yes) await confirm(also.length ? `Delete archive ${id} and ${also.length} later snapshot${also.length === 1 ? '' : 's'}? [y/N] ` : `Delete archive ${id}? [y/N] `);
  const request = { store: ctx.store, id, stateDir: stateDir(ctx.env), pending: pendingStore(ctx), signal: ctx.signal };
  if (also.length) {
    const deleted = await deleteWithDependents(request, also);
    ctx.err(`deleted ${deleted.length} snapshots: ${deleted.join(', ')}`);
    for (const d of deleted) ctx.out(d);
    return;
  }
  const result = await deleteArchive(request);
  const names = result.deleted.map((w) => (w === 'summary' ? 'the catalog summary' : `the ${w}`));
  ctx.err(`deleted ${names.length > 1 ? `${names.slice(0, -1).join(', ')} and ${names.at(-1)!}` : names.join('')} of ${id}`);
  ctx.out(id);
}

/** What the dependents deleted along take: their size, and the early-deletion fees of those still within their minimum. */
function dependentsCost(list: readonly Dependent[], at: Date): string {
  const archives = list.flatMap((d) => (d.archive ? [d.archive] : []));
  const bytes = archives.reduce((n, a) => n + a.size, 0);
  const fees = archives.reduce((n, a) => n + deletionCost(a, at).fee, 0);
  return `${formatBytes(bytes)}${fees > 0 ? `, early-deletion fees about ${dollars(fees)}` : ''}`;
}

/** Asks on the terminal; refuses outright where nobody can answer. */
async function confirm(question: string): Promise<void> {
  if (!process.stdin.isTTY) throw new GlacierError('usage', 'not deleting: standard input is not a terminal, so nobody can confirm; add --yes');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(question);
    if (!/^y(es)?$/i.test(answer.trim())) throw new GlacierError('cancelled', 'not deleted');
  } finally {
    rl.close();
  }
}

function pendingStore(ctx: Context): FilePendingStore {
  return new FilePendingStore(path.join(configDir(ctx.env), 'pending-restores.json'));
}

/**
 * The snapshots, from their manifests (source sets, creation times): public-key mode needs the
 * private key for that. When no manifest at all can be read (a wrong passphrase or key), that is
 * the command's failure, not an empty bucket.
 */
async function snapshots(ctx: Context, command: string): Promise<SnapshotListing> {
  if ((ctx.options.recipient ?? []).length > 0 && !ctx.options.identity) {
    throw new GlacierError('usage', `${command} reads manifests (source sets, creation times), which are encrypted to your public keys: pass --identity KEY.asc`);
  }
  const dec = (await decryption(ctx, true))!;
  const listing = await listSnapshots(ctx.store, dec, ctx.signal);
  const first = listing.unreadable[0];
  if (listing.snapshots.length === 0 && first) {
    throw new GlacierError('crypto', `no manifest could be read (${listing.unreadable.length} tried): ${first.problem}`);
  }
  return listing;
}

function count(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < -1) throw new GlacierError('usage', `--${name} must be a whole number (or -1 for all)`);
  return n;
}

export function policyOf(o: Context['options']): RetentionPolicy {
  const p: RetentionPolicy = {};
  for (const rule of ['last', 'hourly', 'daily', 'weekly', 'monthly', 'yearly'] as const) {
    const n = count(o[`keep-${rule}`], `keep-${rule}`);
    if (n !== undefined) p[rule] = n;
  }
  if (o['keep-within'] !== undefined) p.within = parseDuration(o['keep-within']);
  return p;
}

function filterOf(o: Context['options']): { host?: string; paths?: string[] } {
  return { ...(o.host !== undefined ? { host: o.host } : {}), ...(o.path ? { paths: o.path.map((p) => path.resolve(p)) } : {}) };
}

async function runPrune(ctx: Context, args: string[]): Promise<void> {
  if (args.length > 0) throw new GlacierError('usage', `prune takes no arguments (got "${args[0]}"); use --host and --path to choose source sets`);
  const policy = policyOf(ctx.options);
  if (isEmptyPolicy(policy)) {
    throw new GlacierError('usage', 'prune needs a policy: --keep-last N, --keep-hourly/daily/weekly/monthly/yearly N, or --keep-within DURATION');
  }
  const at = now(ctx.env);
  const listing = await snapshots(ctx, 'prune');
  for (const u of listing.unreadable) ctx.err(`kept (manifest unreadable: ${u.problem}): ${u.id}`);
  await versioningNote(ctx);
  const plan = planPrune(listing.snapshots, { policy, now: at, allowEarlyDeletion: ctx.options['allow-early-deletion'], filter: filterOf(ctx.options) });
  printPlan(ctx, plan);
  const t = pruneTotals(plan);
  const deferred = t.defer ? `; ${t.defer} deferred until their minimum storage duration ends` : '';
  const fees = t.fees > 0 ? `, paying early-deletion fees of about ${dollars(t.fees)}` : '';
  const what = `${t.delete} archive${t.delete === 1 ? '' : 's'} (${formatBytes(t.bytes)}), saving about ${dollars(t.monthly)} per month${fees}`;
  if (ctx.options['dry-run']) {
    ctx.err(`dry run: would delete ${what}; keep ${t.keep}${deferred}; nothing was deleted`);
    return;
  }
  const result = await executePrune(plan, {
    store: ctx.store,
    stateDir: stateDir(ctx.env),
    pending: pendingStore(ctx),
    signal: ctx.signal,
    onFailed: (item, message) => ctx.err(`delete failed: ${item.snapshot.id}: ${message}`),
  });
  if (result.failed.length) {
    throw new GlacierError('s3', `prune deleted ${result.deleted.length} of ${t.delete} archives; ${result.failed.length} could not be deleted (see above)`);
  }
  ctx.err(`deleted ${what}; kept ${t.keep}${deferred}`);
}

/** Per source set, newest first; times in local time (the buckets' time). */
function printPlan(ctx: Context, plan: readonly PruneSet[]): void {
  for (const set of plan) {
    ctx.out(`${set.host}: ${set.sources.join(', ')}`);
    for (const item of set.items) ctx.out(`  ${item.action.padEnd(6)}  ${item.snapshot.id}  ${localMinute(item.snapshot.time)}  ${itemNote(ctx, item)}`);
  }
}

function itemNote(ctx: Context, i: PruneItem): string {
  const a = i.snapshot.archive;
  switch (i.action) {
    case 'keep':
      return i.reasons.join(', ');
    case 'needed':
      return `kept: snapshot ${i.reasons.join(', ')} needs it`;
    case 'defer':
      return `kept until ${day(i.minimumEnds!)}: deleting earlier saves nothing and costs the early-deletion fee of ${dollars(i.fee)}`;
    default: {
      const early = i.fee > 0 ? `; early: costs the early-deletion fee of ${dollars(i.fee)}` : '';
      return `${formatBytes(a.size)} ${className(a.storageClass)}, ${ctx.options['dry-run'] ? 'would save' : 'saves'} ${dollars(i.monthly)}/month${early}`;
    }
  }
}

async function runFreshness(ctx: Context, args: string[]): Promise<void> {
  if (args.length > 0) throw new GlacierError('usage', `freshness takes no arguments (got "${args[0]}"); use --host and --path to choose source sets`);
  const maxAge = parseDuration(ctx.options['max-age'] ?? '26h');
  const listing = await snapshots(ctx, 'freshness');
  const report = freshness(listing.snapshots, now(ctx.env), maxAge, filterOf(ctx.options));
  const unreadable = listing.unreadable.map((u) => u.id);
  if (ctx.options.json) {
    ctx.out(JSON.stringify({ ...report, unreadable }, null, 2));
  } else {
    ctx.out(['STATE', 'AGE', 'NEWEST', 'CREATED', 'HOST', 'SOURCES'].join('\t'));
    for (const s of report.sets) {
      ctx.out([s.stale ? 'STALE' : 'ok', formatAge(s.ageSeconds), s.newest.id, s.newest.created.replace(/\.\d+Z$/, 'Z'), s.host, s.sources.join(', ')].join('\t'));
    }
  }
  for (const id of unreadable) ctx.err(`note: manifest of ${id} unreadable; its archive is not counted`);
  if (report.sets.length === 0) throw new GlacierError('not-found', `no snapshots${ctx.options.host || ctx.options.path ? ' match --host/--path' : ''} in ${ctx.store.name}`);
  for (const s of report.sets.filter((x) => x.stale)) ctx.err(`stale: ${s.host}: ${s.sources.join(', ')}: newest backup ${formatAge(s.ageSeconds)} old (${s.newest.id})`);
  if (report.stale > 0) {
    throw new GlacierError('not-found', `${report.stale} of ${report.sets.length} source set${report.sets.length === 1 ? '' : 's'} not backed up within ${formatDuration(maxAge)}`);
  }
}
