/**
 * CLI command for archives made outside this tool: `download-key <bucket/key> <dest>` restores a
 * single `tar | gpg` object (the old seed scripts' format, no manifest) with the same safety as
 * `download`. The bucket is named on the command line; the S3 store (endpoint, region,
 * credentials) is the configured one, rooted at that bucket.
 */
import { GlacierError } from '../core/errors';
import { downloadForeign } from '../core/jobs/downloadForeign';
import { outsideLinkHint } from './restoreCommands';
import { decryption, type Context } from './context';
import { restoreNotes, restoreNotesSummary } from '../core/jobs/restoreNotes';

const usage = 'download-key needs a bucket/key (such as my-bucket/old/backup-2024.tar.gpg) and a destination folder';

/** Splits `bucket/key` (or `s3://bucket/key`) at the first "/". */
export function parseTarget(target: string | undefined): { bucket: string; key: string } {
  const text = (target ?? '').replace(/^s3:\/\//i, '');
  const slash = text.indexOf('/');
  const bucket = slash > 0 ? text.slice(0, slash) : '';
  const key = slash > 0 ? text.slice(slash + 1) : '';
  if (!bucket || !key || key.endsWith('/')) throw new GlacierError('usage', usage);
  return { bucket, key };
}

export async function runDownloadKey(ctx: Context, target: string | undefined, dest: string | undefined): Promise<void> {
  const { bucket, key } = parseTarget(target);
  if (!dest) throw new GlacierError('usage', usage);
  const dec = await decryption(ctx, true);
  const res = await downloadForeign({
    store: ctx.store,
    bucket,
    key,
    decryption: dec!,
    dest,
    only: ctx.options.only,
    allowOutsideLinks: ctx.options['allow-outside-links'],
    signal: ctx.signal,
  }).catch(outsideLinkHint);
  const files = res.entries.filter((e) => e.type === 'file').length;
  for (const line of restoreNotes(res.entries)) ctx.err(`note: ${line}`);
  ctx.err(`restored ${files} files from s3://${bucket}/${key.replace(/[\u0000-\u001f\u007f]/g, '?')}, checked by its OpenPGP integrity check (it has no manifest)${restoreNotesSummary(res.entries)}`);
  ctx.out(res.path);
}
