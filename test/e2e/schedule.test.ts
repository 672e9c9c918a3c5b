/**
 * Scheduled backups in a real VS Code (code-server + Chromium) against moto. The workspace folder
 * asks for hourly backups in its own .vscode/settings.json. GLACIER_BACKUP_SCHEDULE_SCALE=120 (a
 * test hook read from the extension host's environment, not a setting) makes that hour 30
 * seconds and the scheduler's minute tick half a second.
 *
 * What this proves: with no passphrase stored, the schedule asks nothing and shows a "needs your
 * passphrase" state (status bar + one notification whose button fixes it); once fixed, a backup
 * runs with no one clicking, the freshness item says "Last backup just now" and leads to the
 * Archives view, the freshness marker is written, and the next period brings the next backup on
 * its own; a failure (the bucket gone) stays in the status bar with one notification offering
 * Retry, Show Log and Check Bucket, and clears when a run succeeds. What it does not prove: real hours, sleep, or two windows (the unit tests race real
 * processes on the same lock for that: test/unit/scheduleTiming.test.ts).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { DeleteBucketCommand, DeleteObjectCommand } from '@aws-sdk/client-s3';
import { useVsCodeOnMoto, type VsCodeSession } from './helpers/session';
import type { Moto } from '../helpers/moto';

const bucket = 'e2e-schedule';
const passphrase = 'scheduled passphrase';
let workspace: string;
let moto: Moto;
let vs: VsCodeSession;

const archives = async (): Promise<string[]> => (await moto.keys(bucket)).filter((k) => k.endsWith('.tar.gpg'));

async function until<T>(what: string, get: () => Promise<T>, ok: (v: T) => boolean, timeout: number): Promise<T> {
  const deadline = Date.now() + timeout;
  for (;;) {
    const v = await get();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(v)} after ${timeout} ms`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

useVsCodeOnMoto(
  {
    name: 'schedule',
    bucket,
    seed: ({ workspace }) => {
      mkdirSync(path.join(workspace, '.vscode'));
      writeFileSync(path.join(workspace, '.vscode', 'settings.json'), JSON.stringify({ 'glacierBackup.schedule': 'hourly' }));
      writeFileSync(path.join(workspace, 'notes.txt'), 'first\n');
    },
    // An hour of the schedule lasts 30 s (GLACIER_BACKUP_SCHEDULE_SCALE).
    vsCode: (endpoint) => ({
      machineSettings: { 'glacierBackup.bucket': bucket, 'glacierBackup.endpoint': endpoint, 'glacierBackup.region': 'us-east-1' },
      env: { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_CA_BUNDLE: '', GLACIER_BACKUP_SCHEDULE_SCALE: '120' },
    }),
  },
  (set) => ({ workspace, moto, vs } = set),
);

describe('scheduled backups in VS Code', () => {
  it('waits for the passphrase without asking, then backs up on its own and shows how fresh the backup is', async () => {
    const { wb } = vs;
    await wb.run('schedule', async () => {
      // Due at once (never run), but no passphrase is stored: a state, not a prompt.
      const blocked = await wb.waitForStatusBarItem(/^Backup needs your passphrase$/, 60_000);
      assert.equal(blocked, 'Backup needs your passphrase');
      await wb.waitForNotification(/the scheduled backup of project needs your passphrase\. It runs once that is fixed; nothing is asked in the meantime\./);
      await wb.screenshot('needs-passphrase');
      assert.deepEqual(await archives(), [], 'nothing ran');

      // The notification's button is the fix; the schedule then runs by itself.
      await wb.waitForNotification(/needs your passphrase/, { button: 'Set Passphrase…' });
      await wb.fillInputBox(passphrase, { expectPassword: true, title: /encryption passphrase/ });
      await wb.fillInputBox(passphrase, { expectPassword: true, title: /confirm the passphrase/ });
      const fresh = await wb.waitForStatusBarItem(/^Last backup just now$/, 90_000);
      assert.equal(fresh, 'Last backup just now');
      await wb.screenshot('last-backup');
      const first = await archives();
      assert.equal(first.length, 1);
      const keys = await moto.keys(bucket);
      assert.ok(keys.some((k) => /\/freshness\/[^/]+\.json$/.test(k)), `a freshness marker among ${JSON.stringify(keys)}`);

      // The freshness item leads to the Archives view, where the new archive is.
      await wb.clickStatusBarItem(/^Last backup just now$/);
      await wb.treeRow('Archives', /^project archived · (just now|\d+ min ago) · [\d.]+ (B|[KMG]iB)$/);
      await wb.screenshot('archives-view');

      // One (scaled) hour later the next run comes with no one asking, and uploads the change.
      writeFileSync(path.join(workspace, 'notes.txt'), 'second\n');
      const both = await until('a second scheduled archive', archives, (a) => a.length === 2, 120_000);
      assert.ok(both.includes(first[0]!));
      assert.equal(await wb.waitForStatusBarItem(/^Last backup just now$/), 'Last backup just now');
    });
  });

  it('a failed scheduled backup stays visible, with Retry, Show Log and the fix, until a run succeeds', async () => {
    const { wb } = vs;
    await wb.run('schedule-failure', async () => {
      await wb.clearNotifications().catch(() => undefined);
      // The bucket disappears: the next run (due within the scaled hour) fails.
      const kept = await moto.keys(bucket);
      for (const Key of kept) await moto.client.send(new DeleteObjectCommand({ Bucket: bucket, Key }));
      await moto.client.send(new DeleteBucketCommand({ Bucket: bucket }));
      writeFileSync(path.join(workspace, 'notes.txt'), 'third\n');
      assert.equal(await wb.waitForStatusBarItem(/^Backup failed$/, 120_000), 'Backup failed');
      const alert = await wb.waitForNotification(/the scheduled backup of project failed: .*e2e-schedule/, { timeout: 30_000 });
      assert.match(alert, /failed/);
      await wb.screenshot('failed');
      // Retries come sooner after a failure; the state stays until one succeeds.
      await new Promise((r) => setTimeout(r, 10_000));
      assert.ok((await wb.statusBarTexts()).includes('Backup failed'), 'still failed while the bucket is gone');

      await moto.createBucket(bucket);
      // Retry from the notification (a retry of the schedule's own may win the race; either clears it).
      await wb.waitForNotification(/the scheduled backup of project failed/, { button: 'Retry' });
      await wb.waitForNotification(/the scheduled backup of project works again/, { timeout: 120_000 });
      assert.equal(await wb.waitForStatusBarItem(/^Last backup just now$/, 60_000), 'Last backup just now');
      assert.equal((await archives()).length, 1, 'the change was uploaded into the new bucket');
      await wb.screenshot('works-again');
    });
  });
});
