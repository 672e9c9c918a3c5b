/**
 * Glacier Backup as a user meets it: the packaged extension in a real VS Code (code-server),
 * driven by headless Chromium, against the moto S3 server. A loopback proxy in front of moto makes
 * restores take time as on AWS (moto completes them at once) until the test releases them.
 * Screenshots of every step land in test-artifacts/e2e/<test>/.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { ListMultipartUploadsCommand, ListPartsCommand } from '@aws-sdk/client-s3';
import { useVsCodeOnMoto, type VsCodeSession } from './helpers/session';
import type { Moto } from '../helpers/moto';
import type { RestoreProxy } from '../helpers/restoreProxy';
import { snapshot, writePatternedFile } from '../helpers/tree';

const bucket = 'e2e-bucket';
const passphrase = 'correct horse battery staple';
let workspace: string;
let moto: Moto;
let proxy: RestoreProxy;
let vs: VsCodeSession;

// Every restore shows as pending ("ongoing-request") until proxy.release().
useVsCodeOnMoto(
  {
    name: 'extension',
    bucket,
    pendingRestores: true,
    seed: ({ workspace }) => {
      const src = path.join(workspace, 'src');
      mkdirSync(path.join(src, 'nested', 'déjà vu'), { recursive: true });
      writeFileSync(path.join(src, 'README.md'), '# project\n');
      writeFileSync(path.join(src, 'nested', 'déjà vu', 'notes with spaces.txt'), 'ünïcödé\n');
      writeFileSync(path.join(src, 'empty.txt'), '');
      // Large enough for a multipart upload and a visible progress bar.
      writePatternedFile(path.join(src, 'nested', 'data.bin'), 96 * 1024 * 1024);
    },
  },
  (set) => {
    ({ workspace, moto, vs } = set);
    proxy = set.proxy!;
  },
);

/** The theme colours of the archive states (viewModel.kindIcon); a row's icon is drawn in one of them. */
const stateColors = ['charts.blue', 'charts.yellow', 'charts.green', 'problemsWarningIcon.foreground', 'disabledForeground'];

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
      assert.match(progress, /^Back up src: \d+% · [\d.]+ [KMG]?i?B\/s( · (\d+[hms] ?)+ left)?$/);
      await wb.screenshot('status-bar-progress');
      // In the user's terms: no archive id, no storage-class constant.
      const done = await wb.waitForNotification(/backed up src: /, { timeout: 120_000 });
      assert.match(done, /backed up src: 4 files, 96\.0 MiB, stored in Deep Archive\. Full backup \(0 changed, 4 added, 0 removed: [\d.]+ MiB uploaded\)\.$/);
      await wb.screenshot('backed-up');
      const keys = await moto.keys(bucket);
      assert.equal(keys.filter((k) => k.endsWith('.tar.gpg')).length, 1);
      assert.equal(keys.filter((k) => k.endsWith('.json.gpg')).length, 1);
      assert.deepEqual(await moto.openUploads(bucket), []);

      await wb.openViewContainer('Glacier Backup');
      // State first, a relative date, the size; one host, so the group does not name it.
      await wb.treeRow('Archives', /^src archived · (just now|\d+ min ago) · 96\.[01] MiB$/);
      await wb.treeRow('Archives', /^src 1 archive$/);
      const look = await wb.treeRowLook('Archives', /^src archived · /, stateColors);
      assert.equal(look.icon, 'archive');
      assert.deepEqual(look.colors, ['charts.blue'], `the state icon has the state colour (${look.color})`);
      assert.match(look.visibleText, /^src archived · /, `the state shows at the view's normal width: "${look.visibleText}"`);
      await wb.expandTreeRow('Archives', /^src archived · /);
      const labels = await wb.treeLabels('Archives');
      assert.ok(labels.includes('src'), JSON.stringify(labels));
      await wb.screenshot('archives-tree');
    });
  });

  it('Show Manifest opens a read-only listing: modes, sizes and local dates; closing asks nothing', async () => {
    const { wb } = vs;
    await wb.run('manifest', async () => {
      await wb.openViewContainer('Glacier Backup');
      await wb.treeContextAction('Archives', /^src archived · /, 'Show Manifest');
      const text = await wb.waitForActiveEditorText(/src\/nested\/data\.bin/);
      assert.match(text, /^src\nBacked up \d{4}-\d\d-\d\d \d\d:\d\d \((just now|\d+ min ago)\) on /);
      assert.match(text, /\nContents: 4 files, 96\.0 MiB; stored as [\d.]+ [KMG]?i?B in Deep Archive\n/);
      assert.match(text, /\nArchive id: \d{8}T\d{6}Z-[0-9a-f]{16}\n/);
      assert.match(text, /\n-rw-r--r-- +96\.0 MiB {2}\d{4}-\d\d-\d\d \d\d:\d\d {2}src\/nested\/data\.bin\n/);
      assert.match(text, /\ndrwxr-xr-x +\d{4}-\d\d-\d\d \d\d:\d\d {2}src\/nested\/\n/);
      const tab = await wb.activeTab();
      assert.match(tab.title, /^Manifest of src\.txt/);
      assert.equal(tab.dirty, false, 'no unsaved-changes marker');
      await wb.screenshot('manifest');
      assert.equal(await wb.closeActiveEditor(), '', 'closing asks nothing');
    });
  });

  it('Check Bucket shows its report rendered and read-only; Add Rule updates it in place', async () => {
    const { wb } = vs;
    await wb.run('check-bucket', async () => {
      await wb.clearNotifications().catch(() => undefined);
      await wb.runCommand('Glacier Backup: Check Bucket');
      const report = await wb.waitForWebviewText(/Incomplete uploads: no lifecycle rule aborts them/);
      assert.doesNotMatch(report, /^#|```/m, 'rendered, not raw Markdown');
      const tab = await wb.activeTab();
      assert.match(tab.title, /Bucket e2e-bucket/);
      assert.equal(tab.dirty, false);
      await wb.screenshot('bucket-report');
      await wb.waitForNotification(/no lifecycle rule aborts incomplete multipart uploads/, { button: 'Add Rule' });
      await wb.waitForNotification(/lifecycle rule added/);
      await wb.waitForWebviewText(/Incomplete uploads: aborted after 7 days by a lifecycle rule/);
      await wb.screenshot('bucket-report-updated');
      assert.equal(await wb.closeActiveEditor(), '', 'closing asks nothing');
    });
  });

  it('restores from the command palette: restoring with the time left; a refresh that sees it ready updates tree, status bar and notification at once; the status item reveals it; Download & decrypt equals the source', async () => {
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
      await wb.treeRow('Archives', /^src restoring, ~1[12] h left · (just now|\d+ min ago) · 96\.[01] MiB$/);
      const restoring = await wb.treeRowLook('Archives', /^src restoring/, stateColors);
      assert.equal(restoring.icon, 'sync');
      assert.deepEqual(restoring.colors, ['charts.yellow'], restoring.color);
      assert.match(restoring.visibleText, /^src restoring/);
      await wb.screenshot('restoring');

      // S3 finishes the restore, long before the poller's next check is due (the plan waits 8
      // intervals at this stage); a refresh of the tree sees it, and everything says so at once.
      proxy.release();
      await wb.viewTitleAction('Archives', 'Refresh');
      await wb.waitForNotification(/"src" is restored and ready to download\. It stays downloadable until \d{4}-\d\d-\d\d \d\d:\d\d\./, { timeout: 20_000 });
      assert.match(await wb.waitForStatusBarItem(/^1 ready$/, 5000), /1 ready/, 'the status bar agrees with the tree');
      assert.ok(!(await wb.statusBarTexts()).some((t) => /pending/.test(t)), JSON.stringify(await wb.statusBarTexts()));
      const ready = await wb.treeRowLook('Archives', /^src restored, (\d+ days|\d+ h) left · /, stateColors);
      assert.equal(ready.icon, 'cloud-download');
      assert.deepEqual(ready.colors, ['charts.green'], ready.color);
      await wb.screenshot('restored-everywhere');
      // From another view, the status item shows the archive in the tree, selected.
      await wb.openViewContainer('Explorer');
      await wb.clickStatusBarItem(/^1 ready$/);
      const deadline = Date.now() + 15_000;
      while (!(await wb.treeRowLook('Archives', /^src restored, /)).selected) {
        if (Date.now() > deadline) throw new Error('the status item did not reveal the archive');
        await new Promise((r) => setTimeout(r, 250));
      }
      await wb.screenshot('revealed');

      await wb.treeContextAction('Archives', /^src restored, /, 'Download & Decrypt…');
      await wb.pickQuickItem(/New folder in project/, { filter: false });
      // The file looked for is offered first; take everything.
      const choices = await wb.quickPickItems();
      assert.ok(choices.includes('Only notes with spaces.txt') && choices.includes('All of src'), JSON.stringify(choices));
      await wb.screenshot('only-or-all');
      // The pointer, left over the first item, shows its hover, which would take the click.
      await wb.page.mouse.move(800, 600);
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
      await wb.treeRow('Archives', /^src restored, (\d+ days|\d+ h) left · /);
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
      // Picking the job cancels it, as the notification's Cancel and the tree's do.
      await wb.pickQuickItem('Back up more', { filter: false });
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
      await wb.waitForNotification(/resumed the interrupted upload of resumable at part 3 of about 5 \(16\.0 MiB were already stored\)/, { timeout: 60_000 });
      const id = path.basename(open!.key).replace(/\.tar\.gpg$/, '');
      await wb.waitForNotification(/backed up resumable: 1 file, 40\.0 MiB, stored in Deep Archive\./, { timeout: 120_000 });
      await wb.screenshot('resumed');
      assert.deepEqual(await moto.openUploads(bucket), []);
      assert.ok((await moto.keys(bucket)).some((k) => k.endsWith(`catalog/${id}.json.gpg`)), 'its manifest is written');
      rmSync(folder, { recursive: true, force: true });
    }).finally(() => proxy.holdParts(false));
  });

  it('a wrong passphrase at download says so in words, writes nothing, and another can be tried', async () => {
    const { wb } = vs;
    await wb.run('wrong-passphrase', async () => {
      await wb.clearNotifications().catch(() => undefined);
      await wb.openViewContainer('Glacier Backup');
      await wb.runCommand('Glacier Backup: Forget Encryption Passphrase');
      await wb.waitForNotification(/passphrase forgotten/);
      const before = restoredFolders();
      await wb.treeContextAction('Archives', /^src restored, /, 'Download & Decrypt…');
      await wb.pickQuickItem(/New folder in project/, { filter: false });
      const prompt = await wb.fillInputBox('not the passphrase', { expectPassword: true });
      assert.match(prompt.prompt, /passphrase of src/);
      // Said in words, with the next step; no failed job is left in the tree.
      const error = await wb.waitForNotification(/that passphrase does not open src\./, { timeout: 60_000 });
      assert.doesNotMatch(error, /not the passphrase|manifest|\d{8}T\d{6}Z/);
      await wb.screenshot('wrong-passphrase');
      assert.deepEqual(restoredFolders(), before, 'no folder was created');
      assert.ok(!readdirSync(workspace).some((n) => n.startsWith('.glacier-')), 'no staging folder left');
      assert.ok(!(await wb.treeLabels('Archives')).some((l) => /^Download /.test(l)), 'no failed job row');
      // Another try, with the right one.
      await wb.waitForNotification(/that passphrase does not open src\./, { button: 'Try Another Passphrase' });
      await wb.fillInputBox(passphrase, { expectPassword: true });
      await wb.waitForNotification(/restored 4 files of src into src-\d{4}-\d\d-\d\d/, { timeout: 120_000 });
      assert.equal(restoredFolders().length, before.length + 1);
    });
  });

  it('Filter… narrows a long list to the archives whose label, source, id or state has the words', async () => {
    const { wb } = vs;
    await wb.run('filter', async () => {
      await wb.openViewContainer('Glacier Backup');
      await wb.treeRow('Archives', /^resumable archived · /);
      await wb.viewTitleAction('Archives', 'Filter…');
      await wb.fillInputBox('RESUM');
      await wb.page.waitForFunction(() => !Array.from(document.querySelectorAll('.part.sidebar .monaco-list-row .label-name')).some((e) => e.textContent?.trim() === 'src'));
      assert.deepEqual(await wb.treeLabels('Archives'), ['resumable', 'resumable']);
      await wb.screenshot('filtered');
      await wb.viewTitleAction('Archives', 'Clear Filter');
      await wb.treeRow('Archives', /^src restored, /);
    });
  });
});
