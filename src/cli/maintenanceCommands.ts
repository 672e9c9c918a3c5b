/** CLI commands that look after the bucket: check (and repair) its consistency, check the bucket and credentials, verify an archive. */
import * as path from 'node:path';
import { GlacierError } from '../core/errors';
import { check, defaultCheckAge, type CheckProblem } from '../core/jobs/check';
import { FilePendingStore } from '../core/jobs/restoreTracker';
import { bucketCheck } from '../core/jobs/storeCheck';
import { verifyArchive } from '../core/jobs/verify';
import { formatBytes } from '../core/model/format';
import type { Decryption, Encryption } from '../core/jobs/keys';
import { decryption, encryption, type Context } from './context';
import { configDir, stateDir } from './options';
import { printable, printableJson } from '../core/util/printable';

/**
 * Exit 0 when consistent (after repair, if asked) and every check was made; a failure (exit 1)
 * when problems remain or a check could not be made (each named on stderr), so that a cron job
 * run with narrower credentials never reads a partial check as a clean one.
 */
export async function runCheck(ctx: Context): Promise<void> {
  if (ctx.options['delete-orphan-archives'] && !ctx.options.repair) throw new GlacierError('usage', '--delete-orphan-archives goes with --repair');
  const olderThan = ctx.options['older-than'] === undefined ? defaultCheckAge : nonNegativeSeconds(ctx.options['older-than'], 'older-than') * 1000;
  const report = await check({
    store: ctx.store,
    olderThan,
    pending: new FilePendingStore(path.join(configDir(ctx.env), 'pending-restores.json')),
    stateDir: stateDir(ctx.env),
    repair: ctx.options.repair,
    deleteOrphanArchives: ctx.options['delete-orphan-archives'],
    rebuild: () => rebuildKeys(ctx),
    signal: ctx.signal,
    onRepair: (p) => ctx.err(`repairing: ${p.repair}`),
  });
  if (ctx.options.json) {
    ctx.out(printableJson(JSON.stringify(report, null, 2)));
  } else {
    for (const p of report.problems) ctx.out(line(p));
  }
  const young = report.inProgress.uploads + report.inProgress.archivesWithoutManifest;
  const youngNote = young
    ? `; ${young} upload${young === 1 ? '' : 's'} younger than ${Math.round(olderThan / 1000)}s left alone (a backup may be running; --older-than changes the age)`
    : '';
  const where = ctx.store.name;
  for (const n of report.notes) ctx.err(`note: ${printable(n)}`);
  for (const u of report.unchecked) ctx.err(`not checked: ${printable(u)}`);
  const notMade = report.unchecked.length
    ? `${report.unchecked.length} check${report.unchecked.length === 1 ? '' : 's'} could not be made (see "not checked" above)`
    : '';
  if (report.problems.length === 0) {
    if (notMade) throw new GlacierError('access-denied', `${where}: ${report.archives} archives, no problem found, but ${notMade}`);
    ctx.err(`${where}: ${report.archives} archives, consistent${youngNote}`);
    return;
  }
  const failed = report.problems.filter((p) => !p.repaired);
  const kept = report.problems.filter((p) => p.orphan === 'keep').length;
  if (ctx.options.repair && failed.length === 0 && !notMade) {
    ctx.err(`${where}: ${report.archives} archives; repaired ${report.problems.length} problem${report.problems.length === 1 ? '' : 's'}${youngNote}`);
    return;
  }
  throw new GlacierError(
    's3',
    (ctx.options.repair
      ? `${failed.length} of ${report.problems.length} problems could not be repaired${kept ? ` (${kept} archive${kept === 1 ? '' : 's'} without a manifest kept: see ${kept === 1 ? 'its line' : 'their lines'})` : ''}`
      : `${report.problems.length} problem${report.problems.length === 1 ? '' : 's'} found in ${where}${youngNote}; "glacier-backup check --repair" fixes ${kept ? `all but ${kept} (see each line)` : 'them'}`) + (notMade ? `; ${notMade}` : ''),
  );
}

/** Passphrase mode: the passphrase both opens the archive and encrypts its new manifest. */
async function rebuildKeys(ctx: Context): Promise<{ decryption: Decryption; encryption: Encryption } | undefined> {
  const dec = await decryption(ctx, false);
  if (!dec) return undefined;
  if (dec.passphrase !== undefined) return { decryption: dec, encryption: { mode: 'passphrase', passphrase: dec.passphrase } };
  return { decryption: dec, encryption: await encryption(ctx) };
}

function line(p: CheckProblem): string {
  const state = p.repaired ? ' (repaired)' : p.repairError ? ` (repair failed: ${p.repairError})` : p.orphan === 'keep' ? ` (kept; repair: ${p.repair})` : '';
  return `${p.kind}\t${printable(p.id ?? p.key ?? '')}\t${printable(p.message)}${state}`;
}

function nonNegativeSeconds(value: string, name: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new GlacierError('usage', `--${name} must be a number of seconds`);
  return n;
}

export async function runVerify(ctx: Context, id: string | undefined): Promise<void> {
  if (!id) throw new GlacierError('usage', 'verify needs an archive id (see "glacier-backup list")');
  const dec = await decryption(ctx, true);
  const res = await verifyArchive({ store: ctx.store, id, decryption: dec!, signal: ctx.signal });
  ctx.err(
    `archive ${id} is intact: OpenPGP integrity check passed, size and sha256 match its manifest, and so do all ${res.files} files (${formatBytes(res.bytes)}); nothing was written`,
  );
  ctx.out(id);
}

/** The "Check Bucket" report on stdout (Markdown, or --json); exit 0 once the bucket answered, whatever the credentials may do. */
export async function runCheckBucket(ctx: Context): Promise<void> {
  const days = ctx.options.days === undefined ? undefined : Number(ctx.options.days);
  if (days !== undefined && (!Number.isInteger(days) || days < 1)) throw new GlacierError('usage', '--days must be a whole number of days (the Object Lock retention)');
  if (!ctx.store.checkBucket) throw new GlacierError('usage', `check-bucket is for S3 buckets; ${ctx.store.name} is not one`);
  const { report, markdown } = await bucketCheck(ctx.store, days);
  ctx.out(ctx.options.json ? printableJson(JSON.stringify(report, null, 2)) : markdown);
}
