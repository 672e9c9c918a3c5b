/** CLI commands for getting archives back: restore, status, download. */
import { GlacierError } from '../core/errors';
import { download } from '../core/jobs/download';
import { describeState } from '../core/store/glacierState';
import { archiveStatus, requestRestore, restoreTiers, type RestoreTier } from '../core/store/restore';
import { formatBytes } from '../core/store/upload';
import { decryption, type Context } from './commands';

function needId(id: string | undefined, command: string): string {
  if (!id) throw new GlacierError('usage', `${command} needs an archive id (see "glacier-backup list")`);
  return id;
}

export async function runRestore(ctx: Context, id: string | undefined): Promise<void> {
  const tierText = ctx.options.tier ?? 'Standard';
  const tier = restoreTiers.find((t) => t.toLowerCase() === tierText.toLowerCase());
  if (!tier) throw new GlacierError('usage', `unknown tier "${tierText}": use Standard or Bulk`);
  const days = ctx.options.days === undefined ? 7 : Number(ctx.options.days);
  const res = await requestRestore(ctx.client, ctx.store, needId(id, 'restore'), { tier: tier as RestoreTier, days });
  const state = describeState(res.status.glacier);
  const said = {
    requested: `restore of ${id} requested (${tier}${res.status.storageClass === 'DEEP_ARCHIVE' ? (tier === 'Bulk' ? ', within 48 hours' : ', within 12 hours') : ''}, kept ${days} days): ${state}`,
    'already-in-progress': `a restore of ${id} is already in progress`,
    extended: `the restored copy of ${id} is kept ${days} more days: ${state}`,
    'not-needed': `archive ${id} is in ${res.status.storageClass} and needs no restore`,
  }[res.outcome];
  ctx.err(said);
  ctx.out(res.status.glacier.state);
}

export async function runStatus(ctx: Context, id: string | undefined): Promise<void> {
  const s = await archiveStatus(ctx.client, ctx.store, needId(id, 'status'), ctx.signal);
  if (ctx.options.json) {
    const expiry = s.glacier.state === 'restored' ? (s.glacier.expiry?.toISOString() ?? null) : null;
    ctx.out(JSON.stringify({ id: s.id, state: s.glacier.state, expiry, storageClass: s.storageClass, size: s.size }, null, 2));
    return;
  }
  ctx.out(`${s.id}\t${describeState(s.glacier)}\t${s.storageClass}\t${formatBytes(s.size)}`);
}

export async function runDownload(ctx: Context, id: string | undefined, dest: string | undefined): Promise<void> {
  if (!dest) throw new GlacierError('usage', 'download needs an archive id and a destination folder');
  const dec = await decryption(ctx, true);
  const res = await download({
    client: ctx.client,
    store: ctx.store,
    id: needId(id, 'download'),
    decryption: dec!,
    dest,
    only: ctx.options.only,
    allowOutsideLinks: ctx.options['allow-outside-links'],
    signal: ctx.signal,
  }).catch((err: unknown) => {
    if (err instanceof GlacierError && /symlink target ".*" (leaves the root|has "\.\." after a name)|absolute symlink target/.test(err.message)) {
      throw new GlacierError(err.code, `${err.message} (if the archive is your own, --allow-outside-links restores such links)`);
    }
    throw err;
  });
  const files = res.entries.filter((e) => e.type === 'file').length;
  ctx.err(`restored ${files} files from ${res.manifest.id}, verified against its manifest`);
  ctx.out(res.path);
}
