/**
 * Set Up as a new user meets it, in a real VS Code (code-server) against moto: nothing configured
 * at the start. A backup before set-up starts Set Up; the multi-step input goes back and keeps
 * what was typed; a bucket that does not exist fails the live check with its fix (Create
 * Bucket), which then passes; the right values are prefilled and checked; a local folder store
 * takes a backup that shows in the Archives tree, without the S3-only commands.
 * Screenshots of every step land in test-artifacts/e2e/<test>/.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { useVsCodeOnMoto, type VsCodeSession } from './helpers/session';
import { sel } from './helpers/workbench';
import type { Moto } from '../helpers/moto';

const bucket = 'setup-bucket';
const passphrase = 'correct horse battery staple';
let drive: string;
let moto: Moto;
let vs: VsCodeSession;

useVsCodeOnMoto(
  {
    name: 'setup',
    bucket,
    seed: ({ work, workspace }) => {
      mkdirSync(path.join(workspace, 'src'));
      writeFileSync(path.join(workspace, 'src', 'README.md'), '# project\n');
      writeFileSync(path.join(workspace, 'src', 'notes.txt'), 'notes\n');
      drive = path.join(work, 'usb-drive');
      mkdirSync(drive);
    },
    // No store settings: the set-up walkthrough makes them.
    vsCode: () => ({ env: { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_CA_BUNDLE: '' } }),
  },
  (set) => ({ moto, vs } = set),
);

/** The step counter VS Code puts after the title: "Glacier Backup set-up: bucket (2/6)". */
function step(name: string, n: number, total: number): RegExp {
  return new RegExp(`^Glacier Backup set-up: ${name.replace(/[()]/g, '\\$&')} \\(${n}\\s*/\\s*${total}\\)$`);
}

/** The buttons of the notification whose message matches `text`. */
async function notificationButtons(text: RegExp): Promise<string[]> {
  const item = vs.wb.page.locator(sel.notification).filter({ has: vs.wb.page.locator(sel.notificationMessage, { hasText: text }) }).first();
  return (await item.locator(sel.notificationButton).allTextContents()).map((t) => t.trim());
}

/** The S3 steps after "where": bucket, region, endpoint, credentials, encryption. */
async function answerS3(name: string): Promise<void> {
  const { wb } = vs;
  await wb.fillInputBox(name, { title: step('bucket', 2, 6) });
  await wb.fillInputBox('us-east-1', { title: step('region', 3, 6) });
  await wb.fillInputBox(moto.endpoint, { title: step('endpoint (optional)', 4, 6) });
  await wb.waitQuickInputTitle(step('credentials', 5, 6));
  await wb.pickQuickItem('AWS profile or default credential chain');
  await wb.waitQuickInputTitle(step('encryption', 6, 6));
  await wb.pickQuickItem('Passphrase');
}

describe('Set Up in VS Code', () => {
  it('a backup before anything is set up starts Set Up, not a passphrase prompt', async () => {
    const { wb } = vs;
    await wb.run('backup-before-setup', async () => {
      // Commands show in the palette once the extension host has scanned the extension.
      for (const deadline = Date.now() + 60_000; !(await wb.explorerContextMenuItems('src')).includes('Back up to Glacier'); ) {
        if (Date.now() > deadline) throw new Error('the extension never loaded: no "Back up to Glacier" in the Explorer');
        await new Promise((r) => setTimeout(r, 1000));
      }
      await wb.runCommand('Glacier Backup: Back up Workspace Folder…');
      await wb.waitQuickInputTitle(step('where archives go', 1, 6));
      assert.deepEqual(await wb.quickPickItems(), ['S3 bucket', 'Local folder']);
      await wb.screenshot('set-up-first');
      await wb.dismiss();
    });
  });

  it('a bucket that does not exist: Back keeps the answers, the check fails with Create Bucket, which fixes it', async () => {
    const { wb } = vs;
    await wb.run('wrong-bucket', async () => {
      await wb.runCommand('Glacier Backup: Set Up…');
      await wb.pickQuickItem('S3 bucket');
      await wb.fillInputBox('no-such-bucket', { title: step('bucket', 2, 6) });
      await wb.waitQuickInputTitle(step('region', 3, 6));
      // Back, from the title bar: the bucket step again, with what was typed.
      await wb.page.locator(`${sel.quickInput} .quick-input-titlebar .codicon-quick-input-back`).click();
      await wb.waitQuickInputTitle(step('bucket', 2, 6));
      assert.equal(await wb.page.locator(sel.quickInputBox).inputValue(), 'no-such-bucket');
      await wb.screenshot('back-keeps-value');
      await answerS3('no-such-bucket');
      await wb.fillInputBox(passphrase, { expectPassword: true, title: /encryption passphrase/ });
      await wb.fillInputBox(passphrase, { expectPassword: true, title: /confirm the passphrase/ });
      const failed = /the check failed: bucket "no-such-bucket" does not exist/;
      const message = await wb.waitForNotification(failed, { timeout: 60_000 });
      assert.match(message, /settings are saved/);
      assert.deepEqual(await notificationButtons(failed), ['Create Bucket', 'Open Settings', 'Retry']);
      await wb.screenshot('check-failed');
      await wb.waitForNotification(failed, { button: 'Create Bucket' });
      const done = await wb.waitForNotification(/Glacier Backup is set up and checked: s3:\/\/no-such-bucket\/glacier-backup\/ exists, and these credentials may list it and upload to it/, { timeout: 60_000 });
      assert.ok(done);
      assert.ok((await moto.keys('no-such-bucket')).length === 0, 'the created bucket is empty');
      await wb.screenshot('bucket-created');
    });
  });

  it('the right bucket: the current values are shown, and it says it checked and is set up', async () => {
    const { wb } = vs;
    await wb.run('right-bucket', async () => {
      await wb.clearNotifications().catch(() => undefined);
      await wb.runCommand('Glacier Backup: Set Up…');
      await wb.waitQuickInputTitle(step('where archives go', 1, 6));
      await wb.pickQuickItem('S3 bucket');
      await wb.waitQuickInputTitle(step('bucket', 2, 6));
      assert.equal(await wb.page.locator(sel.quickInputBox).inputValue(), 'no-such-bucket', 'the saved bucket is shown');
      await answerS3(bucket);
      // The passphrase is stored already: no prompt, straight to the check.
      await wb.waitForNotification(new RegExp(`Glacier Backup is set up and checked: s3://${bucket}/glacier-backup/ exists`), { timeout: 60_000 });
      await wb.screenshot('set-up-and-checked');
    });
  });

  it('a local folder: checked, a backup lands in it and shows in the tree, with no Copy S3 URI', async () => {
    const { wb } = vs;
    await wb.run('folder-store', async () => {
      await wb.clearNotifications().catch(() => undefined);
      await wb.runCommand('Glacier Backup: Set Up…');
      await wb.pickQuickItem('Local folder');
      await wb.fillInputBox(drive, { title: step('folder', 2, 3) });
      await wb.waitQuickInputTitle(step('encryption', 3, 3));
      await wb.pickQuickItem('Passphrase');
      await wb.waitForNotification(/Glacier Backup is set up and checked: file:\/\/\/.*\/usb-drive\/ exists and takes files/, { timeout: 60_000 });
      await wb.screenshot('folder-checked');

      await wb.explorerContextAction('src', 'Back up to Glacier');
      await wb.waitForNotification(/backed up src: 2 files/, { timeout: 120_000 });
      const archives = readdirSync(path.join(drive, 'archives'));
      assert.equal(archives.filter((n) => n.endsWith('.tar.gpg')).length, 1, JSON.stringify(archives));
      assert.ok(existsSync(path.join(drive, 'catalog')));
      assert.deepEqual(await moto.keys(bucket), [], 'nothing went to the bucket');

      await wb.openViewContainer('Glacier Backup');
      await wb.treeRow('Archives', /^src available · /);
      const menu = await wb.treeContextMenuItems('Archives', /^src available · /);
      assert.ok(menu.includes('Download & Decrypt…'), JSON.stringify(menu));
      assert.ok(!menu.includes('Copy S3 URI') && !menu.includes('Request Restore…'), JSON.stringify(menu));
      await wb.screenshot('folder-archive-in-tree');
    });
  });
});
