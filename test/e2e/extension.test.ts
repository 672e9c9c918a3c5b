/**
 * Glacier Backup as a user meets it: the packaged extension in a real VS Code (code-server),
 * driven by headless Chromium, against the moto S3 server. A loopback proxy in front of moto makes
 * restores take time as on AWS (moto completes them at once) until the test releases them.
 * Screenshots of every step land in test-artifacts/e2e/<test>/.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { ListMultipartUploadsCommand, ListPartsCommand } from '@aws-sdk/client-s3';
import { buildVsix } from './helpers/codeServer';
import { startVsCode, type VsCodeSession } from './helpers/session';
import { startMoto, type Moto } from '../helpers/moto';
import { startRestoreProxy, type RestoreProxy } from '../helpers/restoreProxy';
import { snapshot, tempDir, writePatternedFile } from '../helpers/tree';

const bucket = 'e2e-bucket';
const passphrase = 'correct horse battery staple';
let work: string;
let workspace: string;
let moto: Moto;
let proxy: RestoreProxy;
let vs: VsCodeSession;

before(async () => {
  work = tempDir('gb-e2e-');
  workspace = path.join(work, 'project');
  const src = path.join(workspace, 'src');
  mkdirSync(path.join(src, 'nested', 'déjà vu'), { recursive: true });
  writeFileSync(path.join(src, 'README.md'), '# project\n');
  writeFileSync(path.join(src, 'nested', 'déjà vu', 'notes with spaces.txt'), 'ünïcödé\n');
  writeFileSync(path.join(src, 'empty.txt'), '');
  // Large enough for a multipart upload and a visible progress bar.
  writePatternedFile(path.join(src, 'nested', 'data.bin'), 96 * 1024 * 1024);
  moto = await startMoto();
  await moto.createBucket(bucket);
  // Every restore shows as pending ("ongoing-request") until proxy.release().
  proxy = await startRestoreProxy(moto.endpoint, Number.MAX_SAFE_INTEGER);
  vs = await startVsCode({
    name: 'extension',
    workspace,
    vsix: await buildVsix(),
    // Store settings have "machine" scope (a workspace cannot redirect backups); in code-server
    // they are the remote machine's settings.
    machineSettings: { 'glacierBackup.bucket': bucket, 'glacierBackup.endpoint': proxy.endpoint, 'glacierBackup.region': 'us-east-1' },
    settings: { 'glacierBackup.pollIntervalSeconds': 5 },
    env: { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_CA_BUNDLE: '' },
  });
});

after(async () => {
  await vs?.stop();
  await proxy?.close();
  await moto?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Folders in the workspace other than the source: where restores land. */
function restoredFolders(): string[] {
  return readdirSync(workspace).filter((n) => n !== 'src');
}

describe('Glacier Backup in VS Code', () => {
  it('backs up a folder from the Explorer: passphrase prompt, status bar progress, archive in the tree', async () => {
    const { wb } = vs;
    await wb.run('backup', async () => {
      await wb.waitForExplorerAction('src', 'Back up to Glacier');
      await wb.explorerContextAction('src', 'Back up to Glacier');
      const first = await wb.fillInputBox(passphrase, { expectPassword: true, title: /encryption passphrase/ });
      assert.match(first.title, /encryption passphrase/);
      await wb.screenshot('passphrase');
      const second = await wb.fillInputBox(passphrase, { expectPassword: true, title: /confirm the passphrase/ });
      assert.match(second.title, /confirm the passphrase/);
      // Percent, speed and time left while the 96 MiB upload runs.
      const progress = await wb.waitForStatusBarItem(/^Back up src: \d+% · [\d.]+ [KMG]?i?B\/s/, 60_000);
      assert.match(progress, /^Back up src: \d+% · [\d.]+ [KMG]?i?B\/s( · \S+ left)?$/);
      await wb.screenshot('status-bar-progress');
      const done = await wb.waitForNotification(/backed up src as archive \d{8}T\d{6}Z-[0-9a-f]{16}: 4 files/, { timeout: 120_000 });
      assert.match(done, /in DEEP_ARCHIVE/);
      await wb.screenshot('backed-up');
      const keys = await moto.keys(bucket);
      assert.equal(keys.filter((k) => k.endsWith('.tar.gpg')).length, 1);
      assert.equal(keys.filter((k) => k.endsWith('.json.gpg')).length, 1);
      assert.deepEqual(await moto.openUploads(bucket), []);

      await wb.openViewContainer('Glacier Backup');
      const row = await wb.treeRow('Archives', /^src \d{4}-\d\d-\d\d \d\d:\d\d · 96\.0 MiB Deep Archive · archived$/);
      assert.ok(row);
      await wb.expandTreeRow('Archives', /^src .* · archived$/);
      const labels = await wb.treeLabels('Archives');
      assert.ok(labels.includes('src'), JSON.stringify(labels));
      await wb.screenshot('archives-tree');
    });
  });

  it('restores from the command palette: pending shows as restoring, the poller notices it is ready, Download & decrypt equals the source', async () => {
    const { wb } = vs;
    await wb.run('restore', async () => {
      await wb.clearNotifications().catch(() => undefined);
      await wb.openViewContainer('Glacier Backup');
      await wb.runCommand('Glacier Backup: Restore…');
      // The picker finds a file by name inside the manifests and restores its archive.
      await wb.pickQuickItem('notes with spaces.txt');
      await wb.screenshot('tier');
      await wb.pickQuickItem('Standard');
      await wb.fillInputBox('3');
      await wb.waitForNotification(/Restore of src requested \(Standard: ready within 12 hours\)/);
      assert.match(await wb.waitForStatusBarItem(/^1 restore pending$/), /1 restore pending/);
      await wb.treeRow('Archives', /^src .* · restoring since .*\(Standard, expected by .*\)$/);
      await wb.screenshot('restoring');

      // S3 finishes the restore; the poller's next check (5 s interval) sees it.
      proxy.release();
      await wb.waitForNotification(/"src" is restored and ready to download\. It stays downloadable until/, { timeout: 60_000, button: 'Download…' });
      await wb.pickQuickItem(/New folder in project/, { filter: false });
      // The file looked for is offered first; take everything.
      const choices = await wb.quickPickItems();
      assert.ok(choices.includes('Only notes with spaces.txt') && choices.includes('All of src'), JSON.stringify(choices));
      await wb.screenshot('only-or-all');
      await wb.pickQuickItem('All of src', { filter: false });
      await wb.waitForNotification(/restored 4 files of src into src-\d{4}-\d\d-\d\d; every file's checksum matched/, { timeout: 120_000 });
      await wb.screenshot('downloaded');
      await wb.openViewContainer('Glacier Backup');
      const [folder] = restoredFolders();
      assert.ok(folder, 'a new folder in the workspace');
      const restored = snapshot(path.join(workspace, folder, 'src'));
      const original = snapshot(path.join(workspace, 'src'));
      assert.deepEqual([...restored.keys()].sort(), [...original.keys()].sort());
      for (const [rel, entry] of original) assert.deepEqual(restored.get(rel), entry, rel);
      await wb.treeRow('Archives', /^src .* · restored until \d{4}-\d\d-\d\d \d\d:\d\d/);
      await wb.screenshot('restored-tree');
    });
  });

  it('Cancel from the status bar stops a running backup and leaves no upload or archive behind', async () => {
    const { wb } = vs;
    await wb.run('cancel', async () => {
      await wb.clearNotifications().catch(() => undefined);
      const more = path.join(workspace, 'more');
      mkdirSync(more);
      writePatternedFile(path.join(more, 'big.bin'), 64 * 1024 * 1024, 0x5a5a5a5a);
      const archivesBefore = (await moto.keys(bucket)).filter((k) => k.endsWith('.tar.gpg'));
      // The network stalls: parts get no answer, so the job is still running when Cancel comes.
      proxy.holdParts(true);
      await wb.waitForExplorerAction('more', 'Back up to Glacier');
      await wb.explorerContextAction('more', 'Back up to Glacier');
      // Running: the part of the file read before the stalled parts hold it up shows as progress
      // (with no speed if it all came within the first second).
      await wb.waitForStatusBarItem(/^Back up more: [1-9]\d?%/, 60_000);
      await wb.clickStatusBarItem(/^Back up more:/);
      await wb.pickQuickItem('Back up more', { filter: false });
      await wb.waitForNotification(/Cancel "Back up more"\? Nothing of it is kept\./, { button: 'Cancel Job' });
      await wb.waitForNotification(/Back up more cancelled; nothing was kept\./, { timeout: 60_000 });
      await wb.screenshot('cancelled');
      assert.deepEqual(await moto.openUploads(bucket), [], 'the multipart upload was aborted');
      assert.deepEqual((await moto.keys(bucket)).filter((k) => k.endsWith('.tar.gpg')), archivesBefore, 'no new archive');
      rmSync(more, { recursive: true, force: true });
    }).finally(() => proxy.holdParts(false));
  });

  it('a window closed mid-upload: the next window offers to resume, and the upload continues from part 3', async () => {
    const { wb } = vs;
    await wb.run('resume', async () => {
      await wb.clearNotifications().catch(() => undefined);
      const folder = path.join(workspace, 'resumable');
      mkdirSync(folder);
      writePatternedFile(path.join(folder, 'data.bin'), 40 * 1024 * 1024, 0x3c3c3c3c);
      // Parts 1 and 2 get through; later parts stall, as on a network that went away.
      proxy.holdParts(true, 3);
      await wb.waitForExplorerAction('resumable', 'Back up to Glacier');
      await wb.explorerContextAction('resumable', 'Back up to Glacier');
      let open: { key: string; uploadId: string } | undefined;
      const deadline = Date.now() + 60_000;
      for (;;) {
        const list = await moto.client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
        const u = list.Uploads?.[0];
        open = u ? { key: u.Key!, uploadId: u.UploadId! } : undefined;
        const parts = open ? ((await moto.client.send(new ListPartsCommand({ Bucket: bucket, Key: open.key, UploadId: open.uploadId }))).Parts ?? []) : [];
        if (parts.length === 2) break;
        if (Date.now() > deadline) throw new Error('parts 1 and 2 were never stored');
        await new Promise((r) => setTimeout(r, 250));
      }
      await wb.screenshot('uploading');
      // The window goes away (a reload ends its extension host) while parts are in flight.
      await wb.runCommand('Developer: Reload Window');
      await wb.waitReady();
      proxy.holdParts(false);
      assert.deepEqual(await moto.openUploads(bucket), [open!.key], 'the upload is kept for resuming');

      // The new window offers to resume it.
      await wb.waitForNotification(/the backup of resumable started .* was interrupted\. Resume it from the parts already uploaded\?/, { button: 'Resume', timeout: 60_000 });
      await wb.waitForNotification(/resumed the interrupted upload of resumable at part 3 of about 6 \(16\.0 MiB were already stored\)/, { timeout: 60_000 });
      const id = path.basename(open!.key).replace(/\.tar\.gpg$/, '');
      await wb.waitForNotification(new RegExp(`backed up resumable as archive ${id}: 1 files`), { timeout: 120_000 });
      await wb.screenshot('resumed');
      assert.deepEqual(await moto.openUploads(bucket), []);
      assert.ok((await moto.keys(bucket)).some((k) => k.endsWith(`catalog/${id}.json.gpg`)), 'its manifest is written');
      rmSync(folder, { recursive: true, force: true });
    }).finally(() => proxy.holdParts(false));
  });

  it('a wrong passphrase at download shows one clear error and writes nothing', async () => {
    const { wb } = vs;
    await wb.run('wrong-passphrase', async () => {
      await wb.clearNotifications().catch(() => undefined);
      await wb.openViewContainer('Glacier Backup');
      await wb.runCommand('Glacier Backup: Forget Encryption Passphrase');
      await wb.waitForNotification(/passphrase forgotten/);
      const before = restoredFolders();
      await wb.treeContextAction('Archives', /^src .* · restored until/, 'Download & Decrypt…');
      await wb.pickQuickItem(/New folder in project/, { filter: false });
      const prompt = await wb.fillInputBox('not the passphrase', { expectPassword: true });
      assert.match(prompt.prompt, /passphrase of src/);
      const error = await wb.waitForNotification(/cannot open the manifest of \S+: wrong passphrase or key/, { timeout: 60_000 });
      assert.doesNotMatch(error, /not the passphrase/);
      await wb.screenshot('wrong-passphrase');
      assert.deepEqual(restoredFolders(), before, 'no folder was created');
      assert.ok(!readdirSync(workspace).some((n) => n.startsWith('.glacier-')), 'no staging folder left');
    });
  });
});
