/**
 * The recovery kit through the built CLI: its by-hand commands, run as written with the real AWS
 * CLI, GnuPG and GNU tar against moto, bring a backup back; the passphrase is on it only when
 * asked, and then only in a file of its owner's.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { useMoto, type Moto } from '../helpers/moto';
import { Gpg } from '../helpers/gpg';
import { runKitCommands } from '../helpers/kit';
import { cliEnv, runCli } from '../helpers/cli';
import { makeTree, snapshot } from '../helpers/tree';

const bucket = 'recovery-kit-tests';
const passphrase = 'kit <passphrase> & "quotes"';
let moto: Moto;
let work: string;
useMoto(bucket, (m, w) => {
  moto = m;
  work = w;
});

const env = (extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv => cliEnv({ endpoint: moto.endpoint, bucket, work, passphrase }, extra);

describe('recovery kit', () => {
  const gpg = new Gpg();
  after(() => gpg.dispose());
  let id: string;
  let source: string;

  it('its commands, run by hand with aws, gpg and tar, restore a backup', async () => {
    source = path.join(work, 'thesis');
    makeTree(source);
    const made = await runCli(['backup', '--no-default-excludes', source], env());
    assert.equal(made.code, 0, made.stderr);
    id = made.stdout.trim();
    const kit = await runCli(['recovery-kit'], env({ GLACIER_BACKUP_PASSPHRASE: undefined }));
    assert.equal(kit.code, 0, kit.stderr);
    assert.ok(!kit.stdout.includes(passphrase), 'no passphrase unless asked');
    assert.match(kit.stdout, /^Passphrase \(write it here by hand/m);
    assert.match(kit.stdout, new RegExp(`^- Archives: s3://${bucket}/glacier-backup/archives/ID\\.tar\\.gpg, in DEEP_ARCHIVE$`, 'm'));
    assert.equal(spawnSync('aws', ['--version']).status, 0, 'the AWS CLI must be installed (.ci/run installs Debian\'s awscli)');
    const { run, out } = runKitCommands(kit.stdout, {
      id,
      passphrase,
      work,
      gnupgHome: gpg.home,
      manifestTo: path.join(work, 'manifest.json'),
      env: { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_DEFAULT_REGION: 'us-east-1' },
    });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`${id}\\.json\\.gpg`), 'step 1 lists the archive');
    assert.match(run.stdout, /ongoing-request=\\"false\\"/, 'step 4 sees the restored copy');
    assert.equal((JSON.parse(readFileSync(path.join(work, 'manifest.json'), 'utf8')) as { id: string }).id, id);
    assert.deepEqual(snapshot(path.join(out, 'thesis')), snapshot(source));
  });

  it('--include-passphrase writes it only into a new file of mode 600, and never to the terminal', async () => {
    const file = path.join(work, 'kit.html');
    const res = await runCli(['recovery-kit', '--out', file, '--include-passphrase'], env());
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stdout, `wrote ${file} (it holds the passphrase: print it, then delete the file)\n`);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const html = readFileSync(file, 'utf8');
    assert.ok(html.includes('Passphrase: kit &#60;passphrase&#62; &#38; &#34;quotes&#34;'), 'HTML-escaped');
    assert.ok(!html.includes(passphrase));
    const again = await runCli(['recovery-kit', '--out', file], env());
    assert.equal(again.code, 1);
    assert.equal(again.stderr, `glacier-backup: ${file} exists: choose another name (the kit is never written over a file)\n`);
    const toTerminal = await runCli(['recovery-kit', '--include-passphrase'], env());
    assert.equal(toTerminal.code, 2);
    assert.ok(!toTerminal.stderr.includes(passphrase) && !toTerminal.stdout.includes(passphrase));
  });

  it('in public-key mode it lists each recipient\'s fingerprint and user id', async () => {
    const key = gpg.generateKey('Kit Tester <kit@example.com>', 'key pass', 'default');
    const pub = path.join(work, 'kit.pub.asc');
    writeFileSync(pub, key.publicKey);
    const res = await runCli(['recovery-kit', '--recipient', pub], env({ GLACIER_BACKUP_PASSPHRASE: undefined }));
    assert.equal(res.code, 0, res.stderr);
    const grouped = key.fingerprint.toUpperCase().replace(/(.{4})(?!$)/g, '$1 ');
    assert.ok(res.stdout.includes(`- ${grouped} (Kit Tester <kit@example.com>)`), res.stdout);
    assert.match(res.stdout, /^Public-key mode/m);
  });
});
