/** The CLI's commands over the engine. Results go to stdout; progress and notes to stderr. */
import type { S3Client } from '@aws-sdk/client-s3';
import type { StoreConfig } from '../core/config';
import { loadPrivateKeys, loadRecipients, type Decryption, type Encryption } from '../core/crypto/openpgp';
import { GlacierError } from '../core/errors';
import { listArchives, readManifest } from '../core/catalog/catalog';
import type { Manifest } from '../core/catalog/manifest';
import { backup, type BackupProgress } from '../core/jobs/backup';
import { defaultExcludes } from '../core/pack/walk';
import { formatBytes } from '../core/store/upload';
import { describeState, glacierState } from '../core/store/glacierState';
import { archiveStatus } from '../core/store/restore';
import { compression, concurrency, readFileArg, stateDir, type Options } from './options';
import { passphrase } from './secrets';
import { printable, printableJson } from '../core/util/printable';

export interface Context {
  client: S3Client;
  store: StoreConfig;
  options: Options;
  env: NodeJS.ProcessEnv;
  out: (line: string) => void;
  err: (line: string) => void;
  signal: AbortSignal;
  progress: boolean;
}

export async function encryption(ctx: Context): Promise<Encryption> {
  const files = ctx.options.recipient ?? [];
  if (files.length > 0) {
    const keys = await Promise.all(files.map(async (f) => ({ name: f, data: await readFileArg(f, 'recipient key') })));
    return { mode: 'public-key', recipients: await loadRecipients(keys) };
  }
  return { mode: 'passphrase', passphrase: await passphrase(ctx.options, ctx.env, true) };
}

/** What opens manifests: a private key (--identity) or the passphrase; undefined if neither is at hand. */
export async function decryption(ctx: Context, required: boolean): Promise<Decryption | undefined> {
  if (ctx.options.identity) {
    const armored = await readFileArg(ctx.options.identity, 'private key');
    return { privateKeys: await loadPrivateKeys(armored, ctx.env.GLACIER_BACKUP_KEY_PASSPHRASE) };
  }
  if ((ctx.options.recipient ?? []).length > 0 && !required) return undefined;
  return { passphrase: await passphrase(ctx.options, ctx.env, false) };
}

export async function runBackup(ctx: Context, paths: string[]): Promise<void> {
  if (paths.length === 0) throw new GlacierError('usage', 'backup needs at least one path');
  const enc = await encryption(ctx);
  const dec = enc.mode === 'passphrase' ? { passphrase: enc.passphrase } : await decryption(ctx, false);
  const exclude = [...(ctx.options['no-default-excludes'] ? [] : defaultExcludes), ...(ctx.options.exclude ?? [])];
  const meter = progressMeter(ctx);
  const result = await backup({
    client: ctx.client,
    store: ctx.store,
    paths,
    encryption: enc,
    decryption: dec,
    label: ctx.options.label,
    force: ctx.options.force,
    exclude,
    followSymlinks: ctx.options['follow-symlinks'],
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
  }
  ctx.out(result.id);
}

export async function runList(ctx: Context): Promise<void> {
  const items = await listArchives(ctx.client, ctx.store, ctx.signal);
  const dec = items.some((i) => i.manifest) ? await decryption(ctx, false) : undefined;
  const rows: Record<string, unknown>[] = [];
  for (const item of items) {
    let m: Manifest | undefined;
    let problem: string | undefined;
    if (!item.archive) problem = 'manifest without archive';
    else if (!item.manifest) problem = 'archive without manifest';
    if (item.manifest && dec) {
      try {
        m = await readManifest(ctx.client, ctx.store, item.id, dec, ctx.signal);
      } catch (err) {
        if (ctx.signal.aborted) throw err;
        problem ??= err instanceof GlacierError ? err.message : 'manifest unreadable';
      }
    }
    // Listing does not report restore status; one HEAD per archive in a Glacier class does.
    const glacier = !item.archive
      ? undefined
      : item.archive.storageClass === 'GLACIER' || item.archive.storageClass === 'DEEP_ARCHIVE'
        ? (await archiveStatus(ctx.client, ctx.store, item.id, ctx.signal)).glacier
        : glacierState(item.archive.storageClass, undefined);
    rows.push({
      id: item.id,
      state: glacier ? glacier.state : null,
      ...(glacier?.state === 'restored' && glacier.expiry ? { expiry: glacier.expiry.toISOString() } : {}),
      created: m?.created ?? item.archive?.lastModified?.toISOString() ?? null,
      label: m?.label ?? null,
      size: item.archive?.size ?? null,
      storageClass: item.archive?.storageClass ?? null,
      files: m?.fileCount ?? null,
      ...(problem ? { problem } : {}),
    });
  }
  if (ctx.options.json) {
    ctx.out(printableJson(JSON.stringify(rows, null, 2)));
    return;
  }
  if (rows.length === 0) {
    ctx.err(`no archives in s3://${ctx.store.bucket}/${ctx.store.prefix}`);
    return;
  }
  ctx.out(['ID', 'CREATED', 'SIZE', 'CLASS', 'STATE', 'FILES', 'LABEL'].join('\t'));
  for (const r of rows) {
    const created = typeof r.created === 'string' ? r.created.replace(/\.\d+Z$/, 'Z') : '-';
    const label = printable(r.problem ? `(${String(r.problem)})` : ((r.label as string | null) ?? '(encrypted)'));
    ctx.out([r.id, created, r.size === null ? '-' : formatBytes(r.size as number), r.storageClass ?? '-', stateText(r), r.files ?? '-', label].join('\t'));
  }
}

export async function runFiles(ctx: Context, id: string | undefined): Promise<void> {
  if (!id) throw new GlacierError('usage', 'files needs an archive id (see "glacier-backup list")');
  const dec = await decryption(ctx, true);
  const m = await readManifest(ctx.client, ctx.store, id, dec!, ctx.signal);
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

function stateText(r: Record<string, unknown>): string {
  if (typeof r.state !== 'string') return '-';
  if (r.state === 'restored' && typeof r.expiry === 'string') return describeState({ state: 'restored', expiry: new Date(r.expiry) });
  return r.state;
}
