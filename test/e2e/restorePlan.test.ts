/**
 * Restoring part of a chain, as a user does it: two backups of a folder, the second changing one
 * file, make a chain (the second snapshot's unchanged files live in the first archive). "Only some
 * files or folders…" of the second snapshot, with a file of the first archive, plans and requests
 * that one archive only, and the watcher's Download… brings back just that file; the whole
 * snapshot then plans both archives, says the one already back is not requested again, and
 * downloads equal to the source. A loopback proxy in front of moto keeps the first restore pending
 * (moto completes restores at once) across a reload of the window.
 * Screenshots of every step land in test-artifacts/e2e/<test>/.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { useVsCodeOnMoto, type VsCodeSession } from './helpers/session';
import type { Moto } from '../helpers/moto';
import type { RestoreProxy } from '../helpers/restoreProxy';
import { snapshot, writePatternedFile } from '../helpers/tree';

const bucket = 'e2e-restore-plan';
const passphrase = 'correct horse battery staple';
let workspace: string;
let moto: Moto;
let proxy: RestoreProxy;
let vs: VsCodeSession;
/** The keys of the two snapshots' archives, oldest first (an archive id starts with its time). */
let archives: string[] = [];

// Restores show as pending ("ongoing-request") until proxy.release(), as on AWS.
useVsCodeOnMoto(
  {
    name: 'restore-plan',
    bucket,
    pendingRestores: true,
    seed: ({ workspace }) => {
      mkdirSync(path.join(workspace, 'src'));
      writeFileSync(path.join(workspace, 'src', 'notes.txt'), 'first version\n');
      writeFileSync(path.join(workspace, 'src', 'other.txt'), 'unchanged\n');
      // Incompressible, so the first archive is far larger than the second (the rows tell them apart).
      writePatternedFile(path.join(workspace, 'src', 'data.bin'), 256 * 1024);
    },
  },
  (set) => {
    ({ workspace, moto, vs } = set);
    proxy = set.proxy!;
  },
);

/** Whether a restore was ever requested for an archive (moto keeps the Restore header once asked). */
async function restoreAsked(key: string): Promise<boolean> {
  const head = await moto.client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  return head.Restore !== undefined;
}

/** The folders a download made in the workspace. */
function restoredFolders(): string[] {
  return readdirSync(workspace).filter((n) => n !== 'src');
}

/** The second snapshot's row: the small archive (the first holds the 256 KiB file). */
const secondRow = /^src archived · .* · (\d+ B|\d{1,2}(\.\d)? KiB)$/;

describe('restore plans in VS Code', () => {
  it('two backups of a folder, the second changing one file, make a chain of two archives', async () => {
    const { wb } = vs;
    await wb.run('chain', async () => {
      await wb.waitForExplorerAction('src', 'Back up to Glacier');
      await wb.explorerContextAction('src', 'Back up to Glacier');
      await wb.fillInputBox(passphrase, { expectPassword: true, title: /encryption passphrase/ });
      await wb.fillInputBox(passphrase, { expectPassword: true, title: /confirm the passphrase/ });
      await wb.waitForNotification(/backed up src: 3 files, .* Full backup/, { timeout: 120_000 });
      await wb.clearNotifications().catch(() => undefined);
      writeFileSync(path.join(workspace, 'src', 'notes.txt'), 'second version\n');
      await wb.explorerContextAction('src', 'Back up to Glacier');
      const second = await wb.waitForNotification(/backed up src: 3 files, /, { timeout: 120_000 });
      assert.match(second, /1 changed, 0 added, 0 removed/);
      archives = (await moto.keys(bucket)).filter((k) => k.endsWith('.tar.gpg')).sort((a, b) => path.basename(a).localeCompare(path.basename(b)));
      assert.equal(archives.length, 2);
      await wb.openViewContainer('Glacier Backup');
      await wb.treeRow('Archives', secondRow);
      await wb.screenshot('two-archives');
    });
  });

  it('"Only some files or folders…" of the second snapshot, a file of the first archive: the plan names 1 archive, only it is requested, and only that file is downloaded', async () => {
    const { wb } = vs;
    await wb.run('only-some', async () => {
      await wb.clearNotifications().catch(() => undefined);
      await wb.openViewContainer('Glacier Backup');
      await wb.treeContextAction('Archives', secondRow, 'Request Restore…');
      await wb.waitQuickInputTitle(/^Restore src: all of it, or some files\?$/);
      const scopes = await wb.quickPickItems();
      assert.ok(scopes.includes('Whole snapshot') && scopes.includes('Only some files or folders…'), JSON.stringify(scopes));
      await wb.pickQuickItem('Only some files or folders…', { filter: false });
      await wb.waitQuickInputTitle(/^Restore src: which files or folders\?$/);
      const paths = await wb.quickPickItems();
      for (const p of ['src', 'data.bin', 'notes.txt', 'other.txt']) assert.ok(paths.includes(p), JSON.stringify(paths));
      await wb.screenshot('paths');
      await wb.checkQuickItems(['other.txt']);

      // The plan: one archive, and what each tier costs for it.
      await wb.waitQuickInputTitle(/^Restore src \(only other\.txt\): 1 archive \([\d.]+ KiB\)$/);
      const tiers = await wb.quickPickRows();
      assert.ok(tiers.some((t) => /^Standard within 12 hours About (< )?\$[\d.]+ to retrieve [\d.]+ KiB/.test(t)), JSON.stringify(tiers));
      assert.ok(tiers.some((t) => /^Bulk within 48 hours About (< )?\$[\d.]+ to retrieve [\d.]+ KiB/.test(t)), JSON.stringify(tiers));
      await wb.screenshot('plan-one-archive');
      await wb.pickQuickItem('Standard');
      await wb.fillInputBox('1', { title: /for how many days\?/ });
      await wb.waitForNotification(/Restore of src requested \(Standard: ready within 12 hours\), only other\.txt\./);
      assert.equal(await restoreAsked(archives[0]!), true, 'the first archive, which holds other.txt, is requested');
      assert.equal(await restoreAsked(archives[1]!), false, 'the second archive is not');

      // What the restore is for survives a reload; once its archive is ready (a refresh of the
      // tree sees it), the watcher offers the snapshot with just that file.
      await wb.openViewContainer('Explorer'); // what waitReady looks for after the reload
      await wb.runCommand('Developer: Reload Window');
      await wb.waitReady();
      await wb.openViewContainer('Glacier Backup');
      await wb.waitForStatusBarItem(/^1 restore pending$/, 60_000);
      proxy.release();
      await wb.viewTitleAction('Archives', 'Refresh');
      await wb.waitForNotification(/"src" is restored and ready to download\..* Download… offers only other\.txt\.$/, { button: 'Download…', timeout: 60_000 });
      await wb.pickQuickItem(/New folder in project/, { filter: false });
      // All of it would read the second archive too, which is not restored.
      const choices = await wb.quickPickRows();
      assert.ok(choices.some((c) => c.startsWith('Only other.txt src/other.txt')), JSON.stringify(choices));
      assert.ok(choices.some((c) => c.startsWith('All of src needs 1 more archive restored first: Request Restore…')), JSON.stringify(choices));
      await wb.page.mouse.move(800, 600);
      await wb.pickQuickItem('Only other.txt', { filter: false });
      await wb.waitForNotification(/restored 1 of 3 files of src into src-\d{4}-\d\d-\d\d; every file's checksum matched/, { timeout: 120_000 });
      await wb.screenshot('downloaded-one');
      const [folder] = restoredFolders();
      assert.ok(folder, 'a new folder in the workspace');
      assert.deepEqual(readdirSync(path.join(workspace, folder, 'src')), ['other.txt'], 'only that file');
      assert.equal(readFileSync(path.join(workspace, folder, 'src', 'other.txt'), 'utf8'), 'unchanged\n');
      rmSync(path.join(workspace, folder), { recursive: true, force: true });
    });
  });

  it('the whole second snapshot: the plan names 2 archives, the one restored already is not requested again, and the download equals the source', async () => {
    const { wb } = vs;
    await wb.run('whole', async () => {
      await wb.clearNotifications().catch(() => undefined);
      await wb.openViewContainer('Glacier Backup');
      await wb.treeContextAction('Archives', secondRow, 'Request Restore…');
      await wb.waitQuickInputTitle(/^Restore src: all of it, or some files\?$/);
      await wb.pickQuickItem('Whole snapshot', { filter: false });
      await wb.waitQuickInputTitle(/^Restore src: 2 archives \([\d.]+ KiB\)$/);
      const placeholder = await wb.page.locator('.quick-input-widget .quick-input-box input').getAttribute('placeholder');
      assert.match(placeholder ?? '', /^1 of 2 is restored already, not requested again/);
      const tiers = await wb.quickPickRows();
      // Only the second (small) archive is left to retrieve.
      assert.ok(tiers.some((t) => /^Standard within 12 hours About (< )?\$[\d.]+ to retrieve (\d+ B|\d{1,2}(\.\d)? KiB)/.test(t)), JSON.stringify(tiers));
      await wb.screenshot('plan-two-archives');
      await wb.pickQuickItem('Standard');
      await wb.fillInputBox('1', { title: /for how many days\?/ });
      await wb.waitForNotification(/Restore of src requested \(Standard: ready within 12 hours\)/);
      assert.equal(await restoreAsked(archives[1]!), true);

      await wb.waitForNotification(/"src" is restored and ready to download\.( It stays downloadable until [\d: -]+\.)?$/, { button: 'Download…', timeout: 60_000 });
      await wb.pickQuickItem(/New folder in project/, { filter: false });
      await wb.waitForNotification(/restored 3 files of src into src-\d{4}-\d\d-\d\d; every file's checksum matched/, { timeout: 120_000 });
      await wb.screenshot('downloaded-whole');
      const [folder] = restoredFolders();
      assert.ok(folder, 'a new folder in the workspace');
      const restored = snapshot(path.join(workspace, folder, 'src'));
      const original = snapshot(path.join(workspace, 'src'));
      assert.deepEqual([...restored.keys()].sort(), [...original.keys()].sort());
      for (const [rel, entry] of original) assert.deepEqual(restored.get(rel), entry, rel);
    });
  });
});
