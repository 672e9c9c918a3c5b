/** CLI commands for getting archives back: restore, status, download. */
import { GlacierError } from '../core/errors';
import { download } from '../core/jobs/download';
import { describeState, type GlacierState } from '../core/model/glacierState';
import { archivesToRestore, archiveStatus, combinedState, describePlan, planRestore, requestRestore, restoreTiers, type PlannedArchive, type RestoreTier } from '../core/jobs/restoreRequest';
import { formatBytes } from '../core/model/format';
import { decryption, type Context } from './context';
import * as path from 'node:path';
import { FilePendingStore, RestoreTracker } from '../core/jobs/restoreTracker';
import { configDir, seconds } from './options';
import { restoreTime } from '../core/model/restoreTimes';
import { restoreNotes, restoreNotesSummary } from '../core/jobs/restoreNotes';

function tracker(ctx: Context, intervalMs = 15 * 60_000): RestoreTracker {
  return new RestoreTracker({
    store: ctx.store,
    pending: new FilePendingStore(path.join(configDir(ctx.env), 'pending-restores.json')),
    interval: intervalMs,
    maxInterval: Math.max(intervalMs, Math.min(intervalMs * 8, 60 * 60_000)),
  });
}

function needId(id: string | undefined, command: string): string {
  if (!id) throw new GlacierError('usage', `${command} needs an archive id (see "glacier-backup list")`);
  return id;
}

/**
 * The archives snapshot `id` reads: its own, or for an increment those of its chain holding its
 * bytes. Read from its manifest when a passphrase or key is at hand; else just its own, and a
 * download names any other it needs.
 */
async function snapshotArchives(ctx: Context, id: string, only?: readonly string[]): Promise<string[]> {
  if (only?.length) return archivesToRestore(ctx.store, id, await decryption(ctx, true), ctx.signal, { only });
  const dec = await decryption(ctx, false).catch(() => undefined);
  return archivesToRestore(ctx.store, id, dec, ctx.signal).catch((err: unknown) => {
    ctx.err(`note: the manifest of ${id} could not be read (${(err as Error).message}): only its own archive is considered`);
    return [id];
  });
}

export async function runRestore(ctx: Context, idArg: string | undefined): Promise<void> {
  const tierText = ctx.options.tier ?? 'Standard';
  const tier = restoreTiers.find((t) => t.toLowerCase() === tierText.toLowerCase());
  if (!tier) throw new GlacierError('usage', `unknown tier "${tierText}": use Standard or Bulk`);
  const days = ctx.options.days === undefined ? 7 : Number(ctx.options.days);
  const only = ctx.options.only;
  const ids = await snapshotArchives(ctx, needId(idArg, 'restore'), only);
  // The plan before acting: which archives, how much, and what each tier costs.
  const plan = await planRestore(ctx.store, ids, ctx.signal);
  const whose = only?.length ? `${only.join(', ')} in snapshot ${idArg}` : `snapshot ${idArg}`;
  const said = describePlan(plan);
  ctx.err(`${whose} reads ${said.reads}: ${ids.join(', ')}`);
  if (said.cost) ctx.err(said.cost);
  if (ctx.options['dry-run']) {
    ctx.err('dry run: nothing was requested');
    return;
  }
  const states = [];
  // The plan's look at each archive stands for the one before its request (one HEAD less each).
  for (const archive of plan.archives) states.push(await restoreOne(ctx, archive, tier as RestoreTier, days));
  ctx.out(combinedState(states).state);
}

async function restoreOne(ctx: Context, known: PlannedArchive, tier: RestoreTier, days: number): Promise<GlacierState> {
  const id = known.id;
  const res = await requestRestore(ctx.store, id, { tier, days, known });
  const state = describeState(res.status.glacier);
  const when = restoreTime(res.status.storageClass, tier);
  const said = {
    requested: `restore of ${id} requested (${tier}${when ? `, ${when.text}` : ''}, kept ${days} days): ${state}`,
    'already-in-progress': `a restore of ${id} is already in progress`,
    extended: `the restored copy of ${id} is kept ${days} more days: ${state}`,
    'not-needed': `archive ${id} is in ${res.status.storageClass} and needs no restore`,
  }[res.outcome];
  ctx.err(said);
  if (res.outcome !== 'not-needed') await tracker(ctx).add(res.status.id, { tier, days, storageClass: res.status.storageClass });
  return res.status.glacier;
}

/** One line (or object) for the snapshot: the least ready state of the archives it reads, and their total size; then each archive when there are several. */
export async function runStatus(ctx: Context, idArg: string | undefined): Promise<void> {
  const id = needId(idArg, 'status');
  const ids = await snapshotArchives(ctx, id);
  const { archives: all, bytes: size } = await planRestore(ctx.store, ids, ctx.signal);
  const state = combinedState(all.map((s) => s.state));
  const storageClass = all[all.length - 1]!.storageClass;
  if (ctx.options.json) {
    const expiry = (g: GlacierState): string | null => (g.state === 'restored' ? (g.expiry?.toISOString() ?? null) : null);
    const archives = all.length > 1 ? { archives: all.map((s) => ({ id: s.id, state: s.state.state, expiry: expiry(s.state), storageClass: s.storageClass, size: s.size })) } : {};
    ctx.out(JSON.stringify({ id, state: state.state, expiry: expiry(state), storageClass, size, ...archives }, null, 2));
    return;
  }
  ctx.out(`${id}\t${describeState(state)}\t${storageClass}\t${formatBytes(size)}`);
  if (all.length > 1) for (const s of all) ctx.out(`  ${s.id}\t${describeState(s.state)}\t${s.storageClass}\t${formatBytes(s.size)}`);
}

export async function runDownload(ctx: Context, id: string | undefined, dest: string | undefined): Promise<void> {
  if (!dest) throw new GlacierError('usage', 'download needs an archive id and a destination folder');
  const dec = await decryption(ctx, true);
  const res = await download({
    store: ctx.store,
    id: needId(id, 'download'),
    decryption: dec!,
    dest,
    only: ctx.options.only,
    allowOutsideLinks: ctx.options['allow-outside-links'],
    signal: ctx.signal,
    onNotice: (m) => ctx.err(`note: ${m}`),
  }).catch(outsideLinkHint);
  await tracker(ctx).remove(res.manifest.id);
  const files = res.entries.filter((e) => e.type === 'file').length;
  for (const line of restoreNotes(res.entries)) ctx.err(`note: ${line}`);
  ctx.err(`restored ${files} files from ${res.manifest.id}, verified against its manifest${restoreNotesSummary(res.entries)}`);
  ctx.out(res.path);
}

/** Polls until the archive is restored (exit 0), or fails / times out (exit 1). For scripts. */
export async function runWait(ctx: Context, idArg: string | undefined): Promise<void> {
  const snapshotId = needId(idArg, 'wait');
  const intervalMs = seconds(ctx.options.interval, 'interval', 15 * 60) * 1000;
  const timeoutMs = ctx.options.timeout === undefined ? Infinity : seconds(ctx.options.timeout, 'timeout', 0) * 1000;
  const t = tracker(ctx, intervalMs);
  const started = Date.now();
  // A snapshot of a chain is ready when every archive it reads is; they restore side by side.
  for (const id of await snapshotArchives(ctx, snapshotId)) await waitOne(ctx, t, id, started, timeoutMs);
  ctx.out('restored');
}

async function waitOne(ctx: Context, t: RestoreTracker, id: string, started: number, timeoutMs: number): Promise<void> {
  if (!(await t.pending()).some((p) => p.id === id)) {
    const s = await archiveStatus(ctx.store, id, ctx.signal);
    if (s.glacier.state === 'archived') throw new GlacierError('usage', `no restore of ${id} was requested: run "glacier-backup restore ${id}" first`);
    await t.add(id);
  }
  for (;;) {
    for (const e of await t.checkDue(ctx.signal)) {
      if (e.id !== id) continue;
      if (e.type === 'ready') {
        ctx.err(`archive ${id} is ready${e.expiry ? ` until ${e.expiry.toISOString().replace(/\.\d+Z$/, 'Z')}` : ''}: glacier-backup download ${id} DEST`);
        return;
      }
      if (e.type === 'failed' || e.type === 'expired') {
        await t.remove(id);
        throw new GlacierError('s3', e.type === 'failed' ? e.message : `the restored copy of ${id} expired before it was downloaded`);
      }
      ctx.err(`archive ${id} is still being restored (${Math.round((Date.now() - started) / 1000)}s)`);
    }
    const mine = (await t.pending()).find((p) => p.id === id);
    if (!mine) throw new GlacierError('s3', `archive ${id} is no longer tracked`);
    if (mine.state === 'ready') return;
    if (Date.now() - started > timeoutMs) throw new GlacierError('s3', `archive ${id} is still being restored after ${Math.round(timeoutMs / 1000)}s`);
    const wait = Math.max(50, Math.min(mine.nextCheck - Date.now(), timeoutMs - (Date.now() - started) + 50));
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, wait);
      ctx.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      }, { once: true });
    });
    if (ctx.signal.aborted) throw new GlacierError('cancelled', 'wait cancelled');
  }
}

/** Adds how to restore links that point outside the folder, when that is what was refused. */
export function outsideLinkHint(err: unknown): never {
  if (err instanceof GlacierError && /symlink target ".*" (leaves the root|has "\.\." after a name)|absolute symlink target/.test(err.message)) {
    throw new GlacierError(err.code, `${err.message} (if the archive is your own, --allow-outside-links restores such links)`);
  }
  throw err;
}
