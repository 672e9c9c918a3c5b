/**
 * A backup nobody is watching: everything the interactive flow (commands/backupFlow.ts) asks for
 * is taken from what is stored, and what is missing becomes a `Blocked` state with the command
 * that fixes it, never a prompt. A backup above the large-upload threshold is not uploaded (its
 * cost is confirmed by a person, once, by hand), and a failure is thrown to the scheduler.
 */
import * as path from 'node:path';
import { backup, type BackupResult } from '../../core/jobs/backup';
import type { Decryption, Encryption } from '../../core/jobs/keys';
import { describeError, GlacierError } from '../../core/errors';
import { formatBytes } from '../../core/model/format';
import type { Connected } from '../connection';
import type { Services } from '../commands/services';

/** A command that fixes a state, as a notification button shows it. */
export interface Fix {
  title: string;
  command: string;
}

export interface Blocked {
  kind: 'blocked';
  /** One line, e.g. "needs your passphrase". */
  reason: string;
  fix: Fix;
}

export interface Ready {
  kind: 'ready';
  connected: Connected;
  encryption: Encryption;
  decryption?: Decryption;
}

const fixes = {
  passphrase: { title: 'Set Passphrase…', command: 'glacierBackup.setPassphrase' },
  aws: { title: 'Set AWS Access Key…', command: 'glacierBackup.setAwsCredentials' },
  setUp: { title: 'Set Up…', command: 'glacierBackup.setUp' },
  checkBucket: { title: 'Check Bucket', command: 'glacierBackup.checkBucket' },
  settings: { title: 'Open Settings', command: 'workbench.action.openSettings' },
  backUpNow: { title: 'Back Up Now…', command: 'glacierBackup.backupWorkspaceFolder' },
} satisfies Record<string, Fix>;

/** What a scheduled backup needs, from stored secrets only; a Blocked state when something is missing. */
export async function prepareUnattended(s: Services): Promise<Ready | Blocked> {
  let connected: Connected;
  try {
    connected = await s.connection.connect(false);
  } catch (err) {
    const message = describeError(err);
    if (/no bucket/.test(message)) return { kind: 'blocked', reason: 'is not set up (no bucket)', fix: fixes.setUp };
    if (/AWS access key/.test(message)) return { kind: 'blocked', reason: 'needs your AWS access key', fix: fixes.aws };
    return { kind: 'blocked', reason: `cannot connect: ${message}`, fix: fixes.settings };
  }
  const { settings } = connected;
  if (settings.encryption === 'passphrase') {
    const passphrase = await s.connection.secrets.storedPassphrase();
    if (!passphrase) return { kind: 'blocked', reason: 'needs your passphrase', fix: fixes.passphrase };
    return { kind: 'ready', connected, encryption: { mode: 'passphrase', passphrase }, decryption: { passphrase } };
  }
  try {
    const encryption = await s.connection.encryption(settings);
    const decryption = await s.connection.decryption(settings, false, '').catch(() => undefined);
    return { kind: 'ready', connected, encryption, ...(decryption ? { decryption: decryption.dec } : {}) };
  } catch (err) {
    return { kind: 'blocked', reason: `cannot encrypt: ${describeError(err)}`, fix: fixes.settings };
  }
}

/** The fix for a failure whose cause is known, besides Retry and Show Log. */
export function fixFor(message: string, credentials: string): Fix | undefined {
  if (/above the confirmation threshold/.test(message)) return fixes.backUpNow;
  if (/access denied|AccessDenied|not allowed|no such bucket|NoSuchBucket|does not exist/i.test(message)) return fixes.checkBucket;
  if (/expired|InvalidAccessKeyId|SignatureDoesNotMatch|credentials/i.test(message)) return credentials === 'secretStorage' ? fixes.aws : fixes.settings;
  return undefined;
}

/** Backs up one folder in the job queue as a background job; throws what failed (a yield included). */
export async function backUpUnattended(s: Services, folder: string, ready: Ready, freshnessMarker: boolean): Promise<BackupResult> {
  const { store, settings } = ready.connected;
  const label = path.basename(folder);
  const group = `schedule:${folder}`;
  // One failed row per folder in the Archives view: the newest failure replaces the one before.
  s.jobs.dismissFailed(group);
  const result = await s.jobs.run(
    `Scheduled backup of ${label}`,
    async (job) => {
      let tooLarge: { files: number; bytes: number } | undefined;
      try {
        return await backup({
          store,
          paths: [folder],
          encryption: ready.encryption,
          ...(ready.decryption ? { decryption: ready.decryption } : {}),
          exclude: settings.exclude,
          followSymlinks: settings.followSymlinks,
          concurrency: settings.uploadConcurrency,
          compression: settings.compression,
          stateDir: s.stateDir,
          freshnessMarker,
          signal: job.signal,
          onProgress: (p) => job.report(p.bytesRead, p.bytesTotal, p.phase === 'uploading' ? undefined : `${p.phase}…`),
          onNotice: (m) => s.log.info(`${label} (scheduled): ${m}`),
          confirm: (scan) => {
            if (!settings.confirmLargeUploads || scan.bytes < settings.largeUploadThresholdMB * 1024 * 1024) return true;
            tooLarge = scan;
            return false;
          },
        });
      } catch (err) {
        if (tooLarge) {
          throw new GlacierError(
            'config',
            `${label} holds ${formatBytes(tooLarge.bytes)} (${tooLarge.files} files), above the confirmation threshold (glacierBackup.largeUploadThresholdMB): back it up once by hand to confirm the cost`,
          );
        }
        throw err;
      }
    },
    { background: true, group },
  );
  // A background job rejects on failure; undefined is a cancel by the user.
  if (!result) throw new GlacierError('cancelled', `scheduled backup of ${label} cancelled`);
  return result;
}
