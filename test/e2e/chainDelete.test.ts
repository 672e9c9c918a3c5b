/**
 * Delete… in VS Code on the full backup of a chain that a later incremental snapshot needs: the
 * CLI makes the chain (a full labelled "first", an increment "second"); VS Code, with the
 * passphrase stored, refuses the deletion with the CLI's line naming the snapshot that needs it, and the
 * archive stays. Screenshots land in test-artifacts/e2e/<test>/.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { useVsCodeOnMoto, type VsCodeSession } from './helpers/session';
import type { Moto } from '../helpers/moto';
import { cliEnv, runCli } from '../helpers/cli';

const bucket = 'e2e-chain-delete';
const passphrase = 'correct horse battery staple';
let moto: Moto;
let vs: VsCodeSession;
const ids: string[] = [];

useVsCodeOnMoto(
  {
    name: 'chain-delete',
    bucket,
    seed: async ({ work, workspace, moto }) => {
      const src = path.join(workspace, 'src');
      mkdirSync(src);
      writeFileSync(path.join(src, 'kept.txt'), 'kept\n'.repeat(200));
      writeFileSync(path.join(src, 'edited.txt'), 'day one\n');
      const env = cliEnv({ endpoint: moto.endpoint, bucket, work, passphrase });
      for (const label of ['first', 'second']) {
        if (label === 'second') writeFileSync(path.join(src, 'edited.txt'), 'day two\n');
        const res = await runCli(['backup', src, '--label', label], env);
        assert.equal(res.code, 0, res.stderr);
        ids.push(res.stdout.trim());
      }
    },
  },
  (set) => ({ moto, vs } = set),
);

describe('Delete… on a chain in VS Code', () => {
  it('refuses the full that a later increment needs, with the line that names it', async () => {
    const { wb } = vs;
    await wb.run('chain-delete', async () => {
      await wb.openViewContainer('Glacier Backup');
      await wb.runCommand('Glacier Backup: Set Encryption Passphrase…');
      await wb.fillInputBox(passphrase, { expectPassword: true, title: /encryption passphrase/ });
      await wb.fillInputBox(passphrase, { expectPassword: true, title: /confirm the passphrase/ });
      await wb.waitForNotification(/passphrase saved in SecretStorage/);
      await wb.treeRow('Archives', /^second /);
      await wb.treeContextAction('Archives', /^first /, 'Delete…');
      const shown = await wb.waitForNotification(/is not deleted/, { timeout: 60_000 });
      assert.match(shown, new RegExp(`archive ${ids[0]} is not deleted: 1 later snapshot \\(${ids[1]}\\) of its chain needs it to be restored; delete that one first`));
      await wb.screenshot('refused');
    });
    const head = await moto.client.send(new HeadObjectCommand({ Bucket: bucket, Key: `glacier-backup/archives/${ids[0]}.tar.gpg` }));
    assert.ok(head.ContentLength! > 0, 'the archive is still there');
  });
});
