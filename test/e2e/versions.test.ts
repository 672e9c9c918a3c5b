/**
 * One file back, as a user gets it: back up a folder, edit a file in it, right-click the file in
 * the Explorer for its backed-up versions (with their dates), restore the archive from Deep Archive
 * (moto makes restores available at once; the poller notices), then compare the old version with
 * the current file in VS Code's diff editor, and open it read-only from the Archives tree. Show
 * Log shows the extension's log, which code-server's Output view cannot.
 * Screenshots of every step land in test-artifacts/e2e/<test>/.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { useVsCodeOnMoto, type VsCodeSession } from './helpers/session';

const bucket = 'e2e-versions';
const passphrase = 'correct horse battery staple';
let workspace: string;
let vs: VsCodeSession;

useVsCodeOnMoto(
  {
    name: 'versions',
    bucket,
    seed: ({ workspace }) => {
      mkdirSync(path.join(workspace, 'src'));
      writeFileSync(path.join(workspace, 'src', 'notes.txt'), 'first line\nthe old second line\n');
      writeFileSync(path.join(workspace, 'src', 'other.txt'), 'unchanged\n');
    },
  },
  (set) => ({ workspace, vs } = set),
);

const versionRow = /^(just now|\d+ minutes? ago) \d{4}-\d\d-\d\d \d\d:\d\d · 31 B · (in Deep Archive: restore first|being restored|ready) src$/;

describe('file versions in VS Code', () => {
  it('Show Backed-up Versions on an edited file: its version with a date, a restore from Deep Archive, then Compare with Current in the diff editor', async () => {
    const { wb } = vs;
    await wb.run('file-versions', async () => {
      await wb.waitForExplorerAction('src', 'Back up to Glacier');
      await wb.explorerContextAction('src', 'Back up to Glacier');
      await wb.fillInputBox(passphrase, { expectPassword: true, title: /encryption passphrase/ });
      await wb.fillInputBox(passphrase, { expectPassword: true, title: /confirm the passphrase/ });
      await wb.waitForNotification(/backed up src: /, { timeout: 120_000 });
      writeFileSync(path.join(workspace, 'src', 'notes.txt'), 'first line\nthe new second line\n');

      // The file's context menu in the Explorer (its folder expanded first).
      await wb.openViewContainer('Explorer');
      await wb.explorerRow('src').click();
      await wb.explorerRow('notes.txt').waitFor();
      await wb.explorerContextAction('notes.txt', 'Show Backed-up Versions');
      await wb.waitQuickInputTitle(/^Backed-up versions of notes\.txt: 1$/);
      const rows = await wb.quickPickRows();
      assert.equal(rows.length, 1, JSON.stringify(rows));
      assert.match(rows[0]!, versionRow);
      assert.match(rows[0]!, /in Deep Archive: restore first/);
      await wb.screenshot('versions');

      // Its archive is in Deep Archive: Compare first asks for a restore, with time and cost.
      await wb.pickQuickItem(/ago|just now/, { filter: false });
      const actions = await wb.quickPickItems();
      for (const a of ['Compare with Current', 'Open', 'Restore This File…']) assert.ok(actions.includes(a), JSON.stringify(actions));
      await wb.screenshot('version-actions');
      await wb.pickQuickItem('Compare with Current', { filter: false });
      const tiers = await wb.quickPickRows();
      assert.ok(tiers.some((t) => /^Standard within 12 hours About (< )?\$[\d.]+ to retrieve \d+ B/.test(t)), JSON.stringify(tiers));
      await wb.pickQuickItem('Standard');
      await wb.fillInputBox('1');
      await wb.waitForNotification(/Restore of src requested \(Standard/);
      await wb.waitForNotification(/"src" is restored and ready to download/, { timeout: 60_000 });

      // Restored: the same command now compares at once.
      await wb.clearNotifications().catch(() => undefined);
      await wb.explorerContextAction('notes.txt', 'Show Backed-up Versions');
      await wb.waitQuickInputTitle(/^Backed-up versions of notes\.txt: 1$/);
      assert.match((await wb.quickPickRows())[0]!, / · ready src$/);
      await wb.pickQuickItem(/ago|just now/, { filter: false });
      await wb.pickQuickItem('Compare with Current', { filter: false });
      const diff = await wb.waitForDiffEditor('first line\nthe old second line\n', 'first line\nthe new second line\n', 60_000);
      assert.match(diff.title, /^notes\.txt \(\d{4}-\d\d-\d\d \d\d:\d\d\) ↔ current$/);
      await wb.screenshot('compare-with-current');
    });
  });

  it('a file in the Archives tree has Compare, Open and Restore in its context menu; Open shows the backed-up text, Restore This File… puts it in a new folder', async () => {
    const { wb } = vs;
    await wb.run('archive-file-node', async () => {
      await wb.openViewContainer('Glacier Backup');
      await wb.expandTreeRow('Archives', /^src .*restored/i);
      await wb.expandTreeRow('Archives', /^src$/);
      const items = await wb.treeContextMenuItems('Archives', 'notes.txt');
      for (const a of ['Compare with Current', 'Open (Read-only)', 'Restore This File…']) assert.ok(items.includes(a), JSON.stringify(items));
      await wb.treeContextAction('Archives', 'notes.txt', 'Open (Read-only)');
      assert.equal(await wb.waitForActiveEditorText('first line\nthe old second line\n'), 'first line\nthe old second line\n');
      await wb.screenshot('open-read-only');

      // Restore This File…: a new folder in the workspace gets the old version; the current file stays.
      await wb.treeContextAction('Archives', 'notes.txt', 'Restore This File…');
      await wb.pickQuickItem(/New folder in project/, { filter: false });
      const done = await wb.waitForNotification(/restored notes\.txt as of .* into src-\d{4}-\d\d-\d\d\/src\/notes\.txt; its checksum matched and the current one is untouched/, { timeout: 60_000 });
      const folder = path.join(workspace, /into (src-\d{4}-\d\d-\d\d)\//.exec(done)![1]!);
      assert.deepEqual(readdirSync(path.join(folder, 'src')), ['notes.txt'], 'only the file, not its neighbours');
      assert.equal(readFileSync(path.join(folder, 'src', 'notes.txt'), 'utf8'), 'first line\nthe old second line\n');
      assert.equal(readFileSync(path.join(workspace, 'src', 'notes.txt'), 'utf8'), 'first line\nthe new second line\n');
      await wb.screenshot('restored-file');
    });
  });

  it('Show Log shows the log in code-server, whose Output view cannot: the plain log file, read-only', async () => {
    const { wb } = vs;
    await wb.run('show-log', async () => {
      await wb.runCommand('Glacier Backup: Show Log');
      const text = await wb.waitForActiveEditorText(/\[info\] Glacier Backup [\d.]+ activated/);
      assert.doesNotMatch(text, new RegExp(passphrase), 'no secret in the log');
      await wb.screenshot('log');
    });
  });
});
