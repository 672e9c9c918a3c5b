/**
 * Several passphrases in VS Code (issue 18): archives made by the CLI under two passphrases, one
 * of them stored. The other archive shows as locked; "Unlock with Another Passphrase…" on its row
 * takes the other passphrase, keeps it, and the archive then lists with its files; both archives
 * then download in the same session. Test Encryption Passphrase… and Create Recovery Kit… run
 * against the same store. Screenshots land in test-artifacts/e2e/<test>/.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { useVsCodeOnMoto, type MotoSet, type VsCodeSession } from './helpers/session';
import { cliEnv, runCli } from '../helpers/cli';
import { snapshot } from '../helpers/tree';

const bucket = 'e2e-passphrases';
const oldPassphrase = 'the passphrase of last year';
const newPassphrase = 'the passphrase stored now';
let work: string;
let workspace: string;
let vs: VsCodeSession;
const ids: Record<'old' | 'new', string> = { old: '', new: '' };

/** An archive made by the CLI (STANDARD, so it downloads without a restore) under `passphrase`. */
async function cliBackup({ work, workspace, moto }: MotoSet, label: string, passphrase: string): Promise<string> {
  const env = cliEnv({ endpoint: moto.endpoint, bucket, work, passphrase }, { GLACIER_BACKUP_STORAGE_CLASS: 'STANDARD' });
  const res = await runCli(['backup', '--force', '--no-default-excludes', '--label', label, path.join(workspace, 'src')], env);
  assert.equal(res.code, 0, res.stderr);
  return res.stdout.trim();
}

useVsCodeOnMoto(
  {
    name: 'passphrases',
    bucket,
    seed: async (set) => {
      mkdirSync(path.join(set.workspace, 'src', 'notes'), { recursive: true });
      writeFileSync(path.join(set.workspace, 'src', 'README.md'), '# two passphrases\n');
      writeFileSync(path.join(set.workspace, 'src', 'notes', 'old key.txt'), 'made under an earlier passphrase\n');
      ids.old = await cliBackup(set, 'under the old passphrase', oldPassphrase);
      ids.new = await cliBackup(set, 'under the new passphrase', newPassphrase);
    },
  },
  (set) => ({ work, workspace, vs } = set),
);

function restoredFolders(): string[] {
  return readdirSync(workspace).filter((n) => n !== 'src');
}

describe('several passphrases in VS Code', () => {
  it('an archive made under another passphrase shows locked; Unlock with Another Passphrase… lists it with its files', async () => {
    const { wb } = vs;
    await wb.run('unlock-another', async () => {
      await wb.openViewContainer('Glacier Backup');
      await wb.runCommand('Glacier Backup: Set Encryption Passphrase…');
      await wb.fillInputBox(newPassphrase, { expectPassword: true, title: /encryption passphrase/ });
      await wb.fillInputBox(newPassphrase, { expectPassword: true, title: /confirm the passphrase/ });
      await wb.waitForNotification(/passphrase saved in SecretStorage/);
      await wb.treeRow('Archives', /^under the new passphrase available · (just now|\d+ min ago) · [\d.]+ (B|[KMG]iB)$/);
      const lockedRow = new RegExp(`^${ids.old} locked, needs another passphrase or key · `);
      await wb.treeRow('Archives', lockedRow);
      await wb.screenshot('locked');
      const inline = await wb.treeInlineActions('Archives', lockedRow);
      assert.ok(inline.some((a) => a.startsWith('Unlock with Another Passphrase…')), JSON.stringify(inline));
      const menu = await wb.treeContextMenuItems('Archives', lockedRow);
      assert.ok(menu.includes('Unlock with Another Passphrase…') && menu.includes('Delete…'), JSON.stringify(menu));

      // A wrong one is refused and nothing is stored.
      await wb.treeInlineAction('Archives', lockedRow, 'Unlock with Another Passphrase…');
      const prompt = await wb.fillInputBox('not it either', { expectPassword: true, title: /another passphrase/ });
      assert.match(prompt.prompt, new RegExp(`None of the stored passphrases opens ${ids.old}`));
      await wb.waitForNotification(new RegExp(`that passphrase does not open the manifest of ${ids.old} either; nothing was stored`));
      await wb.treeRow('Archives', lockedRow);

      await wb.clearNotifications().catch(() => undefined);
      await wb.treeInlineAction('Archives', lockedRow, 'Unlock with Another Passphrase…');
      await wb.fillInputBox(oldPassphrase, { expectPassword: true, title: /another passphrase/ });
      await wb.waitForNotification(/opens with that passphrase\. It is kept in SecretStorage for reading/, { timeout: 60_000 });
      await wb.treeRow('Archives', /^under the old passphrase available · (just now|\d+ min ago) · [\d.]+ (B|[KMG]iB)$/);
      await wb.treeRow('Archives', /^under the new passphrase available · /);
      await wb.screenshot('unlocked');
      await wb.expandTreeRow('Archives', /^under the old passphrase available · /);
      assert.ok((await wb.treeLabels('Archives')).includes('src'));
      // The folder inside the archive (no description), not the group row "src <host> · 2 archives".
      await wb.expandTreeRow('Archives', /^src$/);
      await wb.expandTreeRow('Archives', /^notes$/);
      assert.ok((await wb.treeLabels('Archives')).includes('old key.txt'), JSON.stringify(await wb.treeLabels('Archives')));
      await wb.screenshot('files');
    });
  });

  it('archives under two passphrases both download in the same session', async () => {
    const { wb } = vs;
    await wb.run('download-both', async () => {
      for (const label of ['under the old passphrase', 'under the new passphrase']) {
        await wb.clearNotifications().catch(() => undefined);
        const before = restoredFolders();
        // A finished download shows its folder in the Explorer: back to the Archives view.
        await wb.openViewContainer('Glacier Backup');
        await wb.treeContextAction('Archives', new RegExp(`^${label} available · `), 'Download & Decrypt…');
        await wb.pickQuickItem(/New folder in project/, { filter: false });
        await wb.waitForNotification(new RegExp(`restored 2 files of ${label} into ${label}-\\d{4}-\\d\\d-\\d\\d; every file's checksum matched`), { timeout: 120_000 });
        const [folder] = restoredFolders().filter((f) => !before.includes(f));
        assert.ok(folder, 'a new folder in the workspace');
        assert.deepEqual(snapshot(path.join(workspace, folder, 'src')), snapshot(path.join(workspace, 'src')));
      }
      await wb.screenshot('downloaded-both');
    });
  });

  it('Test Encryption Passphrase… says whether a typed passphrase opens the newest archive, storing nothing; Create Recovery Kit… saves the page', async () => {
    const { wb } = vs;
    await wb.run('test-and-kit', async () => {
      await wb.clearNotifications().catch(() => undefined);
      await wb.runCommand('Glacier Backup: Test Encryption Passphrase…');
      await wb.fillInputBox(oldPassphrase, { expectPassword: true, title: /test a passphrase/ });
      await wb.waitForNotification(new RegExp(`That passphrase does NOT open the newest archive \\(${ids.new}\\)\\. It was not stored`), { timeout: 60_000 });
      await wb.clearNotifications().catch(() => undefined);
      await wb.runCommand('Glacier Backup: Test Encryption Passphrase…');
      await wb.fillInputBox(newPassphrase, { expectPassword: true, title: /test a passphrase/ });
      await wb.waitForNotification(new RegExp(`That passphrase opens the newest archive \\(${ids.new}\\)\\. It was not stored`), { timeout: 60_000 });
      await wb.screenshot('tested');

      const kit = path.join(work, 'kit.html');
      await wb.runCommand('Glacier Backup: Create Recovery Kit…');
      // code-server's save dialog is VS Code's simple one: a quick input holding the path.
      await wb.fillFileDialog(kit, /save the recovery kit/);
      await wb.waitForNotification(/recovery kit saved as .*kit\.html\. Print it/);
      await wb.screenshot('kit-saved');
      const page = readFileSync(kit, 'utf8');
      assert.match(page, /^<!doctype html>/);
      assert.ok(page.includes(bucket) && page.includes('gpg -d'), 'the page names the bucket and the by-hand commands');
      assert.ok(!page.includes(newPassphrase) && !page.includes(oldPassphrase), 'no passphrase is written on it');
    });
  });
});
