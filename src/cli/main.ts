#!/usr/bin/env node
/** glacier-backup: the command-line front end over src/core. Exit codes: 0 ok, 1 failure, 2 usage. */
import './heap';
import type { StoreLocation } from '../core/config';
import { openStore } from '../core/jobs/openStore';
import { describeError, GlacierError, Suspend } from '../core/errors';
import { checkPassphraseCount } from './passphrase';
import { printable } from '../core/util/printable';
import { parse, storeConfig, storeLocation } from './options';
import { runBackup, runFiles, runList } from './archiveCommands';
import type { Context } from './context';
import { runDownload, runRestore, runStatus, runWait } from './restoreCommands';
import { parseTarget, runDownloadKey } from './foreignCommands';
import { runCheck, runCheckBucket, runVerify } from './maintenanceCommands';
import { lifecycleCommands, lifecycleUsage } from './lifecycleCommands';
import { runSchedule, scheduleUsage } from './scheduleCommands';
import { keyUsage, runRecoveryKit, runTestPassphrase } from './keyCommands';
import { keyGenUsage, runKeyGenerate } from './keyGenCommand';
import { keyEscrowUsage, runKeyEscrow, runKeyRecover } from './keyEscrowCommands';

declare const PACKAGE_VERSION: string;

const usage = `usage: glacier-backup <command> [options]

commands:
  backup <path...> [--label TEXT] [--force] [--full]  back up files and folders (an increment of the last
                                               backup of the same paths, or with --full a full one);
                                               prints the archive id
  list [--json]                                archives in the bucket
  files <id> [--json]                          what an archive holds (from its manifest)
  restore <id> [--tier Standard|Bulk] [--days N] [--only PATH…] [--dry-run]
                                               ask Glacier for a temporary copy (default 7 days) of the archives
                                               the snapshot (or those files) needs; says which, their size and
                                               the cost of each tier first
  status <id> [--json]                         archived, restoring, restored until…, or available
  wait <id> [--interval SECONDS]               poll until the archive is restored (for scripts)
  download <id> <dest> [--only PATH...]        decrypt, verify and unpack into a new folder in dest
  download-key <bucket/key> <dest>             the same for a foreign "tar | gpg -c" object (no manifest)
  verify <id>                                  download a restored archive and check it end to end; writes nothing
  check [--repair] [--older-than SECONDS]      find (and fix) orphan archives and manifests, unfinished uploads
                                               older than a day, and local records of missing archives; an
                                               archive without a manifest gets one rebuilt from it if it can
                                               be read now, and is otherwise kept
        [--delete-orphan-archives]             with --repair: delete archives without a manifest instead,
                                               and all their data with them
  check-bucket [--json] [--days N]             the bucket's settings, what these credentials may do for each
                                               role (a dry run: nothing is written), the minimal IAM policies,
                                               and how to turn on versioning and Object Lock (N days' retention)

${lifecycleUsage}${scheduleUsage}${keyUsage}${keyGenUsage}${keyEscrowUsage}
store:      --store s3://BUCKET/PREFIX or file:///path (GLACIER_BACKUP_STORE): a bucket, or a folder such as
            an external drive; or --bucket NAME --prefix P; for S3 also --region R --endpoint URL
            --path-style --storage-class CLASS
            (or GLACIER_BACKUP_BUCKET, _PREFIX, _REGION, _ENDPOINT, _STORAGE_CLASS; credentials from
            the standard AWS chain: AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, SSO, …)
encryption: passphrase from GLACIER_BACKUP_PASSPHRASE, --passphrase-file FILE or a terminal prompt (several:
            the first encrypts new backups, reading tries each, up to 4);
            or --recipient KEY.asc (repeatable) for public keys; --identity KEY.asc to read
            manifests in public-key mode (its passphrase from GLACIER_BACKUP_KEY_PASSPHRASE)
download:   --allow-outside-links recreates symlinks that point outside the restored folder
backup:     --exclude GLOB (repeatable) --no-default-excludes --follow-symlinks --concurrency N
            --full-every N (increments before a new full backup, default 30) --full-after-days N (90)
            --compression auto|max|off (auto: deflate what compresses, store the rest; max: smaller,
            slower; off: none; gpg -d reads all three); --no-freshness-marker leaves
            PREFIX/freshness/<host>.json alone
network:    each request is retried with backoff; GLACIER_BACKUP_MAX_ATTEMPTS (default 5) and
            GLACIER_BACKUP_REQUEST_TIMEOUT (seconds of silence before a retry, default 60)
`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv);
  if (values.version) {
    process.stdout.write(`${typeof PACKAGE_VERSION === 'string' ? PACKAGE_VERSION : 'dev'}\n`);
    return 0;
  }
  const [command, ...rest] = positionals;
  if (values.help) {
    process.stdout.write(usage);
    return 0;
  }
  if (!command) {
    process.stderr.write(usage);
    return 2;
  }
  // Lines may quote text from the bucket: nothing in it reaches the terminal as a control.
  const io = { options: values, env: process.env, out: (line: string) => process.stdout.write(`${printable(line, '\t\n')}\n`), err: (line: string) => process.stderr.write(`${printable(line, '\t\n')}\n`) };
  // schedule writes timers and crontab lines, key generate key files; neither talks to a store.
  if (command === 'schedule') {
    await runSchedule(io, rest);
    return 0;
  }
  if (command === 'key' && rest[0] === 'generate') {
    await runKeyGenerate(io);
    return 0;
  }
  const keyCommand = command === 'key' && (rest[0] === 'escrow' || rest[0] === 'recover');
  if (command === 'key' && !keyCommand) throw new GlacierError('usage', `unknown command "key ${rest[0] ?? ''}": key generate, key escrow or key recover`);
  if (!keyCommand && !['backup', 'list', 'files', 'restore', 'status', 'wait', 'download', 'download-key', 'verify', 'check', 'check-bucket', 'test-passphrase', 'recovery-kit'].includes(command) && !Object.hasOwn(lifecycleCommands, command)) throw new GlacierError('usage', `unknown command "${command}"`);
  // download-key names its bucket itself (no configured bucket is needed) and its whole key.
  const foreign = command === 'download-key' ? parseTarget(rest[0]).bucket : undefined;
  const location: StoreLocation =
    foreign !== undefined ? { kind: 's3', ...storeConfig({ ...values, bucket: values.bucket ?? foreign }, process.env), bucket: foreign, prefix: '' } : storeLocation(values, process.env);
  const controller = new AbortController();
  let interrupted = 0;
  process.on('SIGINT', () => {
    if (++interrupted > 1) process.exit(130);
    process.stderr.write('\ncancelling… (press Ctrl-C again to quit at once)\n');
    controller.abort();
  });
  // Shutdown or a closed terminal: stop, but keep an unfinished upload for the next run to resume.
  for (const signal of ['SIGTERM', 'SIGHUP'] as const) process.on(signal, () => controller.abort(new Suspend()));
  const ctx: Context = {
    store: openStore(location),
    location,
    options: values,
    env: process.env,
    out: io.out,
    err: io.err,
    signal: controller.signal,
    progress: Boolean(process.stderr.isTTY) && !values.quiet,
  };
  checkPassphraseCount(values, process.env);
  if (command === 'backup') await runBackup(ctx, rest);
  else if (command === 'list') await runList(ctx);
  else if (command === 'files') await runFiles(ctx, rest[0]);
  else if (command === 'restore') await runRestore(ctx, rest[0]);
  else if (command === 'status') await runStatus(ctx, rest[0]);
  else if (command === 'wait') await runWait(ctx, rest[0]);
  else if (command === 'download-key') await runDownloadKey(ctx, rest[0], rest[1]);
  else if (command === 'verify') await runVerify(ctx, rest[0]);
  else if (command === 'check') await runCheck(ctx);
  else if (command === 'check-bucket') await runCheckBucket(ctx);
  else if (command === 'test-passphrase') await runTestPassphrase(ctx);
  else if (command === 'recovery-kit') await runRecoveryKit(ctx);
  else if (keyCommand && rest[0] === 'escrow') await runKeyEscrow(ctx);
  else if (keyCommand) await runKeyRecover(ctx, rest[1]);
  else if (Object.hasOwn(lifecycleCommands, command)) await lifecycleCommands[command]!(ctx, rest);
  else await runDownload(ctx, rest[0], rest[1]);
  return 0;
}

// A reader that went away (`list | head`) ends the command quietly, as a closed pipe does for
// other tools; any other write error is reported.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    if (stream === process.stdout) process.stderr.write(`glacier-backup: cannot write the output (${err.code ?? err.message})\n`);
    process.exit(1);
  });
}

let finished = false;
// Node exits, with status 0, once nothing is left to wait for, even while a promise the command
// awaits is pending: a stuck command must not pass for a successful one in a script.
process.on('beforeExit', () => {
  if (finished) return;
  finished = true;
  process.stderr.write('glacier-backup: internal error: the command stopped before it finished (nothing was left to wait for); please report this\n');
  process.exitCode = 1;
});

main(process.argv.slice(2)).finally(() => {
  finished = true;
}).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`glacier-backup: ${printable(describeError(err))}\n`);
    if (process.env.GLACIER_BACKUP_DEBUG && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    process.exitCode = err instanceof GlacierError && err.code === 'usage' ? 2 : 1;
  },
);
