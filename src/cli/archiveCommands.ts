/** The CLI's archive commands: backup, list and files. Results go to stdout; progress and notes to stderr. */
import { defaultExcludes } from '../core/config';
import { GlacierError } from '../core/errors';
import { backup, describeSummary, type BackupProgress } from '../core/jobs/backup';
import { listArchivesWithState } from '../core/jobs/listing';
import { openManifest } from '../core/jobs/manifest';
import { formatBytes } from '../core/model/format';
import { describeState } from '../core/model/glacierState';
import { chainPolicy, compression, concurrency, stateDir } from './options';
import { printable, printableJson } from '../core/util/printable';
import { backupKeys, decryption, type Context } from './context';

export async function runBackup(ctx: Context, paths: string[]): Promise<void> {
  if (paths.length === 0) throw new GlacierError('usage', 'backup needs at least one path');
  const { encryption: enc, decryption: dec } = await backupKeys(ctx);
  const exclude = [...(ctx.options['no-default-excludes'] ? [] : defaultExcludes), ...(ctx.options.exclude ?? [])];
  const meter = progressMeter(ctx);
  const result = await backup({
    store: ctx.store,
    paths,
    encryption: enc,
    decryption: dec,
    label: ctx.options.label,
    force: ctx.options.force,
    full: ctx.options.full,
    chainPolicy: chainPolicy(ctx.options),
    exclude,
    followSymlinks: ctx.options['follow-symlinks'],
    freshnessMarker: !ctx.options['no-freshness-marker'],
    concurrency: concurrency(ctx.options),
    compression: compression(ctx.options),
    stateDir: stateDir(ctx.env),
    signal: ctx.signal,
    onProgress: meter.update,
    onNotice: (m) => ctx.err(`note: ${m}`),
  });
  meter.done();
  for (const s of result.skipped) ctx.err(`skipped (${s.reason}: ${s.detail}): ${s.path}`);
  if (result.status === 'unchanged') {
    ctx.err(`unchanged since archive ${result.id}: nothing uploaded (use --force to upload anyway)`);
  } else if (result.manifest) {
    const m = result.manifest;
    const skippedNote = result.skipped.length ? `, ${result.skipped.length} skipped` : '';
    ctx.err(`created archive ${m.id}: ${m.fileCount} files, ${formatBytes(m.fileBytes)} → ${formatBytes(m.archive.size)} ${m.archive.storageClass}${skippedNote}`);
    if (result.summary) ctx.err(`${describeSummary(result.summary)}${result.summary.fullReason ? `: ${result.summary.fullReason}` : ''}`);
  }
  ctx.out(result.id);
}

export async function runList(ctx: Context): Promise<void> {
  const { archives } = await listArchivesWithState({ store: ctx.store, signal: ctx.signal, decryption: () => decryption(ctx, false), cacheDir: stateDir(ctx.env) });
  const rows = archives.map((a) => ({
    id: a.id,
    state: a.state ? a.state.state : null,
    ...(a.state?.state === 'restored' && a.state.expiry ? { expiry: a.state.expiry.toISOString() } : {}),
    created: a.summary?.created ?? a.lastModified?.toISOString() ?? null,
    label: a.summary?.label ?? null,
    size: a.size ?? null,
    storageClass: a.storageClass ?? null,
    files: a.summary?.fileCount ?? null,
    ...(a.problem ? { problem: a.problem.message } : {}),
  }));
  if (ctx.options.json) {
    ctx.out(printableJson(JSON.stringify(rows, null, 2)));
    return;
  }
  if (rows.length === 0) {
    ctx.err(`no archives in ${ctx.store.name}`);
    return;
  }
  ctx.out(['ID', 'CREATED', 'SIZE', 'CLASS', 'STATE', 'FILES', 'LABEL'].join('\t'));
  for (const [i, r] of rows.entries()) {
    const created = typeof r.created === 'string' ? r.created.replace(/\.\d+Z$/, 'Z') : '-';
    const label = printable(r.problem ? `(${r.problem})` : (r.label ?? '(encrypted)'));
    const state = archives[i]!.state;
    ctx.out([r.id, created, r.size === null ? '-' : formatBytes(r.size), r.storageClass ?? '-', state ? describeState(state) : '-', r.files ?? '-', label].join('\t'));
  }
}

export async function runFiles(ctx: Context, id: string | undefined): Promise<void> {
  if (!id) throw new GlacierError('usage', 'files needs an archive id (see "glacier-backup list")');
  const dec = await decryption(ctx, true);
  const m = await openManifest(ctx.store, id, dec!, ctx.signal);
  if (ctx.options.json) {
    ctx.out(printableJson(JSON.stringify(m.entries, null, 2)));
    return;
  }
  for (const e of m.entries) {
    const mode = (e.mode & 0o7777).toString(8).padStart(4, '0');
    const when = isoSeconds(e.mtime);
    const size = e.type === 'file' ? String(e.size) : '-';
    const name = e.type === 'directory' ? `${e.path}/` : e.type === 'symlink' ? `${e.path} -> ${e.linkTarget ?? ''}` : e.path;
    ctx.out(`${e.type[0]} ${mode} ${size.padStart(12)} ${when} ${printable(name)}`);
  }
}

/** A time as ISO 8601 to the second, or '-' when a Date cannot hold it. */
function isoSeconds(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? '-' : d.toISOString().replace(/\.\d+Z$/, 'Z');
}

function progressMeter(ctx: Context): { update: (p: BackupProgress) => void; done: () => void } {
  if (!ctx.progress) return { update: () => undefined, done: () => undefined };
  const started = Date.now();
  let last = 0;
  let shown = false;
  return {
    update: (p) => {
      const now = Date.now();
      if (now - last < 250) return;
      last = now;
      shown = true;
      const secs = Math.max((now - started) / 1000, 0.001);
      const pct = p.bytesTotal ? Math.floor((100 * p.bytesRead) / p.bytesTotal) : 0;
      const rate = p.bytesRead / secs;
      const eta = rate > 0 && p.bytesTotal > p.bytesRead ? `${Math.ceil((p.bytesTotal - p.bytesRead) / rate)}s left` : '';
      const line = p.phase === 'uploading' ? `${pct}% ${p.filesDone}/${p.filesTotal} files ${formatBytes(rate)}/s ${eta}` : `${p.phase}…`;
      process.stderr.write(`\r\x1b[K${line}`);
    },
    done: () => {
      if (shown) process.stderr.write('\r\x1b[K');
    },
  };
}
