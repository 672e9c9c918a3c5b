/**
 * `glacier-backup schedule install|list|remove`: backups that run themselves, as systemd user
 * timers (catching up after sleep: Persistent=true), or as a crontab line to add where systemd
 * is not there. A scheduled run is the CLI's `backup`: it exits non-zero with one line on failure
 * (the journal keeps it; cron mails it).
 */
import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GlacierError } from '../core/errors';
import { writeFileAtomic } from '../core/util/atomicWrite';
import { printableJson } from '../core/util/printable';
import type { CommandIo } from './io';
import { storeConfig } from './options';
import { parseTiming } from './schedule/timing';
import { cronLine, readMetadata, scheduledBackup, scheduleName, serviceUnit, timerUnit, type Schedule } from './schedule/units';

export const scheduleUsage = `  schedule install --every 1h|6h|1d|1w [--at HH:MM] [--name N] [--cron] <path...>
                                               back up on a schedule (a systemd user timer, or the crontab line
                                               to add); needs --passphrase-file or --recipient
  schedule list [--json]                       the schedules installed, their next and last runs
  schedule remove <name>                       stop and remove a schedule
`;

export async function runSchedule(io: CommandIo, args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  if (sub === 'install') return install(io, rest);
  if (sub === 'list') return list(io);
  if (sub === 'remove') return remove(io, rest[0]);
  throw new GlacierError('usage', `schedule needs install, list or remove${sub ? ` (not "${sub}")` : ''}`);
}

function unitDir(env: NodeJS.ProcessEnv): string {
  return path.join(env.XDG_CONFIG_HOME || path.join(env.HOME || os.homedir(), '.config'), 'systemd', 'user');
}

const unitName = (name: string): string => `glacier-backup-${name}`;

function systemctl(env: NodeJS.ProcessEnv, ...args: string[]): { ok: boolean; out: string; err: string } {
  const r = spawnSync('systemctl', ['--user', ...args], { env, encoding: 'utf8', timeout: 30_000 });
  return { ok: r.status === 0, out: r.stdout ?? '', err: (r.stderr ?? r.error?.message ?? '').trim().split('\n')[0] ?? '' };
}

/** Whether a systemd user manager answers here (not in most containers, nor on macOS or Windows). */
function hasSystemd(env: NodeJS.ProcessEnv): boolean {
  return process.platform === 'linux' && systemctl(env, 'show-environment').ok;
}

async function install(io: CommandIo, args: string[]): Promise<void> {
  const { options: o, env } = io;
  if (args.length === 0) throw new GlacierError('usage', 'schedule install needs the paths to back up');
  const paths = args.map((p) => path.resolve(p));
  for (const p of paths) {
    await fs.stat(p).catch((err: NodeJS.ErrnoException) => {
      throw new GlacierError(err.code === 'ENOENT' ? 'not-found' : 'unreadable', `cannot schedule ${p}: ${err.code === 'ENOENT' ? 'it does not exist' : err.code}`);
    });
  }
  const timing = parseTiming(o.every, o.at);
  const store = storeConfig(o, env);
  const script = path.resolve(process.argv[1] ?? '');
  const s: Schedule = { name: scheduleName(paths, o.name), timing, paths, ...scheduledBackup(o, env, store, paths, { node: process.execPath, script }) };
  for (const file of o['passphrase-file'] ?? []) await warnIfShared(io, path.resolve(file));
  if (env.AWS_ACCESS_KEY_ID && !env.AWS_PROFILE) {
    io.err('note: the schedule does not get AWS_ACCESS_KEY_ID from this shell (no secret is written into it): keep the keys in ~/.aws/credentials, or set AWS_PROFILE before installing');
  }
  if (o.cron || !hasSystemd(env)) {
    if (!o.cron) io.err('no systemd user manager here: add this line with "crontab -e" (cron mails the one-line error of a failed backup):');
    io.out(cronLine(s));
    return;
  }
  const dir = unitDir(env);
  await fs.mkdir(dir, { recursive: true });
  const unit = unitName(s.name);
  const existed = await fs.stat(path.join(dir, `${unit}.timer`)).then(() => true, () => false);
  await writeFileAtomic(path.join(dir, `${unit}.service`), serviceUnit(s));
  await writeFileAtomic(path.join(dir, `${unit}.timer`), timerUnit(s));
  for (const step of [['daemon-reload'], ['enable', '--now', `${unit}.timer`]]) {
    const r = systemctl(env, ...step);
    if (!r.ok) throw new GlacierError('config', `systemctl --user ${step.join(' ')} failed: ${r.err || 'no reason given'} (the unit files are in ${dir})`);
  }
  io.out(`${existed ? 'updated' : 'installed'} schedule ${s.name}: every ${timing.every}${timing.at ? ` at ${timing.at}` : ''}, missed runs catch up at the next start`);
  io.out(`  runs: ${unit}.service; its log: journalctl --user -u ${unit}; run now: systemctl --user start ${unit}`);
  io.out(`  to run while you are logged out: loginctl enable-linger ${os.userInfo().username}`);
}

async function warnIfShared(io: CommandIo, file: string): Promise<void> {
  const st = await fs.stat(file).catch(() => undefined);
  if (!st) throw new GlacierError('not-found', `passphrase file ${file} does not exist`);
  if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) {
    io.err(`note: passphrase file ${file} can be read by other users (mode ${(st.mode & 0o777).toString(8)}): chmod 600 ${file}`);
  }
}

interface Listed {
  name: string;
  every: string;
  at?: string;
  paths: string[];
  next?: string;
  last?: string;
  result?: string;
}

async function installed(env: NodeJS.ProcessEnv): Promise<Listed[]> {
  const dir = unitDir(env);
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  const found: Listed[] = [];
  for (const file of names.filter((n) => /^glacier-backup-.+\.timer$/.test(n)).sort()) {
    const meta = readMetadata(await fs.readFile(path.join(dir, file), 'utf8').catch(() => ''));
    if (meta && `${unitName(meta.name)}.timer` === file) found.push(meta);
  }
  return found;
}

async function list(io: CommandIo): Promise<void> {
  const found = await installed(io.env);
  const systemd = found.length > 0 && hasSystemd(io.env);
  for (const s of found) {
    if (!systemd) continue;
    const timer = properties(systemctl(io.env, 'show', `${unitName(s.name)}.timer`, '-p', 'NextElapseUSecRealtime', '-p', 'LastTriggerUSec').out);
    const service = properties(systemctl(io.env, 'show', `${unitName(s.name)}.service`, '-p', 'Result').out);
    if (timer.NextElapseUSecRealtime) s.next = timer.NextElapseUSecRealtime;
    if (timer.LastTriggerUSec && timer.LastTriggerUSec !== 'n/a') s.last = timer.LastTriggerUSec;
    if (service.Result) s.result = service.Result;
  }
  if (io.options.json) {
    io.out(printableJson(JSON.stringify(found, null, 2)));
    return;
  }
  if (found.length === 0) {
    io.out(`no schedules in ${unitDir(io.env)} (a crontab line is listed by "crontab -l")`);
    return;
  }
  io.out(['NAME', 'EVERY', 'NEXT', 'LAST', 'RESULT', 'PATHS'].join('\t'));
  for (const s of found) {
    io.out([s.name, `${s.every}${s.at ? ` at ${s.at}` : ''}`, s.next ?? '-', s.last ?? '-', s.result ?? '-', s.paths.join(' ')].join('\t'));
  }
}

function properties(text: string): Record<string, string> {
  const map: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) map[line.slice(0, eq)] = line.slice(eq + 1).trim();
  }
  return map;
}

async function remove(io: CommandIo, name: string | undefined): Promise<void> {
  if (!name) throw new GlacierError('usage', 'schedule remove needs the name of a schedule (see schedule list)');
  const found = await installed(io.env);
  if (!found.some((s) => s.name === name)) {
    throw new GlacierError('not-found', `no schedule named "${name}"${found.length ? `; there are: ${found.map((s) => s.name).join(', ')}` : ''}`);
  }
  const unit = unitName(name);
  const systemd = hasSystemd(io.env);
  if (systemd) {
    const r = systemctl(io.env, 'disable', '--now', `${unit}.timer`);
    if (!r.ok) throw new GlacierError('config', `systemctl --user disable --now ${unit}.timer failed: ${r.err || 'no reason given'}; nothing was removed`);
  }
  const dir = unitDir(io.env);
  for (const ext of ['timer', 'service']) await fs.rm(path.join(dir, `${unit}.${ext}`), { force: true });
  if (systemd) systemctl(io.env, 'daemon-reload');
  io.out(`removed schedule ${name}`);
}
