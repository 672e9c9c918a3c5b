/**
 * schedule install|list|remove through the built CLI. The systemd user manager cannot run in this
 * container, so `systemctl` is a recording stand-in; everything else is real: systemd-analyze
 * checks the unit files, and the backup each schedule would run is run from what was written
 * (ExecStart and Environment of the service, the crontab line through sh) against moto, then
 * downloaded and compared.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { useMoto, type Moto } from '../helpers/moto';
import { cliEnv, runCli } from '../helpers/cli';
import { makeTree, snapshot } from '../helpers/tree';

const bucket = 'schedule-tests';
const passphrase = 'schedule passphrase';
let moto: Moto;
let work: string;
useMoto(bucket, (m, w) => {
  moto = m;
  work = w;
  setUp();
});

/** The test's environment, credentials only from a file (a schedule never copies keys from the shell). */
function env(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  return cliEnv({ endpoint: moto.endpoint, bucket, work }, { AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined, AWS_SHARED_CREDENTIALS_FILE: path.join(work, 'aws-credentials'), XDG_CONFIG_HOME: path.join(work, 'xdg'), ...extra });
}

/** systemd.syntax: split on spaces outside double quotes; \\, \" and the %% / $$ escapes. */
function unquote(line: string): string[] {
  const args: string[] = [];
  let cur: string | undefined;
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === '"') { quoted = !quoted; cur ??= ''; continue; }
    if (c === ' ' && !quoted) { if (cur !== undefined) args.push(cur); cur = undefined; continue; }
    if (c === '\\') { cur = (cur ?? '') + line[++i]; continue; }
    if ((c === '%' || c === '$') && line[i + 1] === c) i++;
    cur = (cur ?? '') + c;
  }
  if (cur !== undefined) args.push(cur);
  return args;
}

/** The newest archive, restored from Deep Archive (moto: at once), downloaded and compared with `source`. */
async function assertNewestRestores(source: string): Promise<void> {
  const e = env({ GLACIER_BACKUP_PASSPHRASE: passphrase });
  const listed = await runCli(['list', '--json'], e);
  assert.equal(listed.code, 0, listed.stderr);
  const id = (JSON.parse(listed.stdout) as { id: string }[]).map((r) => r.id).sort().at(-1)!;
  const restored = await runCli(['restore', id], e);
  assert.equal(restored.code, 0, restored.stderr);
  const res = await runCli(['download', id, path.join(work, `restore-${id}`), '--allow-outside-links'], e);
  assert.equal(res.code, 0, res.stderr);
  assert.deepEqual(snapshot(path.join(res.stdout.trim(), path.basename(source))), snapshot(source));
}

let fakeBin: string;
let passFile: string;

function setUp(): void {
  writeFileSync(path.join(work, 'aws-credentials'), '[default]\naws_access_key_id = test\naws_secret_access_key = test\n', { mode: 0o600 });
  passFile = path.join(work, 'pass phrase.txt');
  writeFileSync(passFile, `${passphrase}\n`, { mode: 0o600 });
  fakeBin = path.join(work, 'fake-bin');
  mkdirSync(fakeBin);
  writeFileSync(path.join(fakeBin, 'systemctl'), [
    '#!/bin/sh',
    'echo "$*" >> "$SYSTEMCTL_LOG"',
    'case "$2" in show) echo "NextElapseUSecRealtime=Wed 2026-12-02 03:00:00 UTC"; echo "LastTriggerUSec=n/a"; echo "Result=success";; esac',
    'exit 0',
  ].join('\n'), { mode: 0o755 });
}

describe('schedule with a systemd user manager', () => {
  let source: string;
  let unitDir: string;
  const log = (): string => path.join(work, 'systemctl.log');
  const withSystemd = (): NodeJS.ProcessEnv => env({ PATH: `${fakeBin}:${process.env.PATH}`, SYSTEMCTL_LOG: log() });

  it('install writes a service and a persistent timer, enables it, and keeps no secret in them', async () => {
    source = path.join(work, 'my "docs" 100% $HOME');
    makeTree(source);
    const res = await runCli(['schedule', 'install', '--every', '1d', '--at', '02:30', '--name', 'docs', '--no-default-excludes', '--passphrase-file', passFile, source], withSystemd());
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /^installed schedule docs: every 1d at 02:30, missed runs catch up at the next start$/m);
    unitDir = path.join(work, 'xdg', 'systemd', 'user');
    const service = readFileSync(path.join(unitDir, 'glacier-backup-docs.service'), 'utf8');
    const timer = readFileSync(path.join(unitDir, 'glacier-backup-docs.timer'), 'utf8');
    assert.match(timer, /^OnCalendar=\*-\*-\* 02:30:00$/m);
    assert.match(timer, /^Persistent=true$/m);
    for (const text of [service, timer]) {
      assert.ok(!text.includes(passphrase), 'the passphrase is never written');
      assert.ok(!/AWS_SECRET_ACCESS_KEY|aws_secret/i.test(text), 'no AWS secret is written');
    }
    assert.deepEqual(readFileSync(log(), 'utf8').trim().split('\n').filter((l) => !l.includes('show-environment')), ['--user daemon-reload', '--user enable --now glacier-backup-docs.timer']);
  });

  it('systemd-analyze accepts both unit files', { skip: spawnSync('systemd-analyze', ['--version']).status !== 0 && 'systemd-analyze is not installed' }, () => {
    const r = spawnSync('systemd-analyze', ['verify', path.join(unitDir, 'glacier-backup-docs.service'), path.join(unitDir, 'glacier-backup-docs.timer')], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /glacier-backup-docs/, r.stderr);
  });

  it('the service, run as systemd would (its ExecStart and Environment only), backs up the folder', async () => {
    const service = readFileSync(path.join(unitDir, 'glacier-backup-docs.service'), 'utf8');
    const exec = unquote(/^ExecStart=(.*)$/m.exec(service)![1]!);
    const unitEnv: NodeJS.ProcessEnv = {};
    for (const m of service.matchAll(/^Environment=(.*)$/gm)) {
      const [kv] = unquote(m[1]!);
      unitEnv[kv!.slice(0, kv!.indexOf('='))] = kv!.slice(kv!.indexOf('=') + 1);
    }
    const run = spawnSync(exec[0]!, exec.slice(1), { env: unitEnv, encoding: 'utf8', timeout: 120_000 });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /^\d{8}T\d{6}Z-[0-9a-f]{16}\n$/, 'the journal gets the archive id, and nothing else');
    await assertNewestRestores(source);
  });

  it('list shows it with its next run; remove disables and deletes it; a second remove names what exists', async () => {
    const listed = await runCli(['schedule', 'list', '--json'], withSystemd());
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual(JSON.parse(listed.stdout), [{ name: 'docs', every: '1d', at: '02:30', paths: [source], next: 'Wed 2026-12-02 03:00:00 UTC', result: 'success' }]);
    const removed = await runCli(['schedule', 'remove', 'docs'], withSystemd());
    assert.equal(removed.code, 0, removed.stderr);
    assert.match(readFileSync(log(), 'utf8'), /--user disable --now glacier-backup-docs\.timer/);
    assert.equal(existsSync(path.join(unitDir, 'glacier-backup-docs.service')), false);
    assert.equal(existsSync(path.join(unitDir, 'glacier-backup-docs.timer')), false);
    const again = await runCli(['schedule', 'remove', 'docs'], withSystemd());
    assert.equal(again.code, 1);
    assert.equal(again.stderr, 'glacier-backup: no schedule named "docs"\n');
  });
});

describe('schedule without systemd', () => {
  it('prints a crontab line whose command, run by sh as cron would, backs up the folder', async () => {
    const source = path.join(work, "cron's 50% folder");
    makeTree(source);
    const res = await runCli(['schedule', 'install', '--every', '6h', '--no-default-excludes', '--passphrase-file', passFile, source], env({ PATH: '/nonexistent' }));
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stderr, /no systemd user manager here: add this line with "crontab -e"/);
    const line = res.stdout.trim();
    assert.equal(line.split('\n').length, 1);
    assert.match(line, /^0 \*\/6 \* \* \* env /);
    assert.ok(!line.includes(passphrase));
    // cron: the first five fields are the time; an unescaped % would end the command, \% is a %.
    const command = line.split(' ').slice(5).join(' ');
    assert.doesNotMatch(command, /(^|[^\\])%/);
    const run = spawnSync('/bin/sh', ['-c', command.replace(/\\%/g, '%')], { env: { PATH: '/usr/bin:/bin', HOME: work }, encoding: 'utf8', timeout: 120_000 });
    assert.equal(run.status, 0, run.stderr);
    await assertNewestRestores(source);
  });

  it('refuses a passphrase from the environment, which it would have to write down, and says what to use', async () => {
    const res = await runCli(['schedule', 'install', '--every', '1h', work], env({ GLACIER_BACKUP_PASSPHRASE: passphrase, PATH: '/nonexistent' }));
    assert.equal(res.code, 2);
    assert.equal(res.stderr, 'glacier-backup: a schedule does not keep a passphrase from the environment (it would have to be written into the schedule): use --passphrase-file FILE (chmod 600) or --recipient KEY.asc\n');
    assert.equal(res.stdout, '');
  });

  it('warns when the passphrase file is readable by others, and refuses a path that does not exist', async () => {
    const loose = path.join(work, 'loose.txt');
    writeFileSync(loose, passphrase);
    chmodSync(loose, 0o644);
    const res = await runCli(['schedule', 'install', '--every', '1d', '--cron', '--passphrase-file', loose, work], env());
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stderr, /^note: passphrase file .*loose\.txt can be read by other users \(mode 644\): chmod 600 /m);
    const missing = await runCli(['schedule', 'install', '--every', '1d', '--passphrase-file', passFile, path.join(work, 'nope')], env());
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^glacier-backup: cannot schedule .*nope: it does not exist\n$/);
  });
});
