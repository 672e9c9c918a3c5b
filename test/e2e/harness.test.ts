/**
 * Proves the end-to-end harness on the fixture extension (test/e2e/fixture): a real VS Code
 * (code-server) driven by headless Chromium the way a user drives it. One VS Code serves all
 * tests in this file; screenshots land in test-artifacts/e2e/<test>/.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { buildVsix, fixtureDir } from './helpers/codeServer';
import { startVsCode, type VsCodeSession } from './helpers/session';
import { tempDir } from '../helpers/tree';

let work: string;
let vs: VsCodeSession;

before(async () => {
  work = tempDir();
  const workspace = path.join(work, 'project');
  mkdirSync(path.join(workspace, 'docs'), { recursive: true });
  writeFileSync(path.join(workspace, 'notes.txt'), 'hello\n');
  writeFileSync(path.join(workspace, 'docs', 'plan.md'), '# plan\n');
  vs = await startVsCode({
    name: 'harness',
    workspace,
    vsix: await buildVsix(fixtureDir),
    settings: { 'e2eFixture.extraItem': 'gamma-from-settings' },
    env: { E2E_FIXTURE_GREETING: 'from-env' },
    ready: (wb) => wb.waitForStatusBarItem(/^Fixture /, 60_000),
  });
});

after(async () => {
  await vs?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('the e2e harness drives a real VS Code', () => {
  it('status bar: shows the extension host environment, clicks through to a notification', async () => {
    const { wb } = vs;
    await wb.run('status-bar', async () => {
      // The fixture's text carries an environment variable given to code-server.
      assert.equal(await wb.waitForStatusBarItem(/^Fixture from-env: \d+ restored$/), 'Fixture from-env: 1 restored');
      await wb.screenshot('status-bar');
      await wb.clickStatusBarItem(/^Fixture from-env:/);
      const msg = await wb.waitForNotification(/^Fixture status: 1 of 3 archives restored\.$/);
      assert.equal(msg, 'Fixture status: 1 of 3 archives restored.');
      await wb.screenshot('notification');
      await wb.clearNotifications();
      assert.deepEqual(await wb.notifications(), []);
    });
  });

  it('Explorer context menu: a password box stores a secret that a second command reads back', async () => {
    const { wb } = vs;
    await wb.run('explorer-secret', async () => {
      // The command is on files only ("when": "!explorerResourceIsFolder").
      assert.ok(!(await wb.explorerContextMenuItems('docs')).includes('Store Secret for File'));
      assert.ok((await wb.explorerContextMenuItems('notes.txt')).includes('Store Secret for File'));
      await wb.explorerContextAction('notes.txt', 'Store Secret for File');
      await wb.screenshot('password-box');
      const box = await wb.fillInputBox('s3cr3t value!', { expectPassword: true });
      assert.equal(box.password, true);
      assert.match(box.prompt, /Secret for notes\.txt/);
      const stored = await wb.waitForNotification(/Stored a secret for/, { button: 'Show Length' });
      assert.equal(stored, 'Stored a secret for notes.txt.');
      await wb.waitForNotification(/^The secret for notes\.txt has 13 characters\.$/);
      await wb.screenshot('stored');

      await wb.runCommand('Fixture: Read Stored Secret');
      assert.deepEqual(await wb.quickPickItems(), ['notes.txt']);
      await wb.pickQuickItem('notes.txt');
      assert.equal(await wb.waitForActiveEditorText('s3cr3t value!'), 's3cr3t value!');
      await wb.screenshot('read-back');
      await wb.clearNotifications();
    });
  });

  it('tree view: rows from code and settings, state-dependent menus and inline actions, status updates', async () => {
    const { wb } = vs;
    await wb.run('tree-view', async () => {
      await wb.openViewContainer('Fixture Archives');
      await wb.treeRow('Archives', 'alpha');
      assert.deepEqual(await wb.treeLabels('Archives'), ['alpha', 'beta', 'gamma-from-settings']);
      await wb.expandTreeRow('Archives', 'alpha');
      assert.deepEqual(await wb.treeLabels('Archives'), ['alpha', 'one.txt', 'two.txt', 'beta', 'gamma-from-settings']);
      await wb.screenshot('expanded');

      // contextValue decides the menus: "archive.archived" offers Restore, "archive.restored" Download.
      assert.deepEqual(await wb.treeContextMenuItems('Archives', 'alpha'), ['Restore Archive']);
      assert.deepEqual(await wb.treeContextMenuItems('Archives', 'beta'), ['Download Archive']);
      assert.deepEqual(await wb.treeInlineActions('Archives', 'alpha'), []);
      assert.deepEqual(await wb.treeInlineActions('Archives', 'beta'), ['Download Archive']);

      await wb.treeContextAction('Archives', 'alpha', 'Restore Archive');
      await wb.waitForStatusBarItem(/^Fixture from-env: restoring alpha…$/);
      await wb.treeRow('Archives', /alpha\s*restoring/);
      await wb.screenshot('restoring');
      await wb.waitForStatusBarItem(/^Fixture from-env: 2 restored$/);
      await wb.treeRow('Archives', /alpha\s*restored/);
      assert.deepEqual(await wb.treeInlineActions('Archives', 'alpha'), ['Download Archive']);

      await wb.treeInlineAction('Archives', 'alpha', 'Download Archive');
      assert.equal(await wb.waitForNotification(/^Downloaded alpha\.$/), 'Downloaded alpha.');
      assert.equal(await wb.waitForActiveEditorText(/^contents of alpha/), 'contents of alpha\none.txt\ntwo.txt');
      await wb.screenshot('downloaded');
    });
  });

  it('view title action and command palette: an input box adds a row', async () => {
    const { wb } = vs;
    await wb.run('input-box', async () => {
      await wb.openViewContainer('Fixture Archives');
      await wb.viewTitleAction('Archives', 'Add Archive');
      const box = await wb.fillInputBox('', { expectPassword: false });
      assert.equal(box.prompt, 'Archive name');
      // An empty name is refused by the extension's validation; the box stays open.
      assert.equal(await wb.quickInputMessage(), 'A name is required');
      await wb.screenshot('validation');
      await wb.fillInputBox('delta');
      await wb.waitQuickInputClosed();
      await wb.treeRow('Archives', 'delta');

      await wb.runCommand('Fixture: Add Archive');
      await wb.fillInputBox('epsilon');
      await wb.treeRow('Archives', 'epsilon');
      assert.deepEqual((await wb.treeLabels('Archives')).filter((l) => !l.endsWith('.txt')), ['alpha', 'beta', 'gamma-from-settings', 'delta', 'epsilon']);
      await wb.screenshot('added');
    });
  });
});
