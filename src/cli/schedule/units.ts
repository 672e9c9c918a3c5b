/**
 * What a schedule runs and how it is written down: the backup command line (never a secret: a
 * passphrase is only ever named by its file), the environment it needs, and that as a systemd
 * user service + timer or as a crontab line.
 */
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { GlacierError } from '../../core/errors';
import { shellWord } from '../../core/util/shellWord';
import type { StoreConfig } from '../../core/config';
import type { Options } from '../options';
import type { Timing } from './timing';

export interface Schedule {
  name: string;
  timing: Timing;
  paths: string[];
  /** The program and its arguments: node, the CLI script, "backup", options…, paths. */
  argv: string[];
  /** Variables the backup needs that a timer or cron does not inherit; none is a secret. */
  env: Record<string, string>;
}

/** Variables passed on to the scheduled run: paths and names, never keys or passphrases. */
const inherited = [
  'AWS_PROFILE',
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'AWS_CONFIG_FILE',
  'AWS_SHARED_CREDENTIALS_FILE',
  'GLACIER_BACKUP_STATE_DIR',
  'GLACIER_BACKUP_CONFIG_DIR',
  'GLACIER_BACKUP_MAX_ATTEMPTS',
  'GLACIER_BACKUP_REQUEST_TIMEOUT',
];

/** The marker of the files a schedule writes, and of its crontab line. */
export const marker = '# glacier-backup schedule: ';

export function scheduleName(paths: readonly string[], given: string | undefined): string {
  if (given !== undefined) {
    if (!/^[a-z0-9][a-z0-9_-]{0,63}$/i.test(given)) throw new GlacierError('usage', `--name "${given}": use letters, digits, "-" and "_" (at most 64)`);
    return given;
  }
  const base = path.basename(paths[0] ?? '').toLowerCase().replace(/[^a-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'backup';
  const hash = createHash('sha256').update([...paths].sort().join('\0')).digest('hex').slice(0, 8);
  return `${base}-${hash}`;
}

/**
 * The backup a schedule runs, from this invocation's options: the store as resolved now (flags
 * and GLACIER_BACKUP_* variables), the encryption by file, the backup options.
 */
export function scheduledBackup(o: Options, env: NodeJS.ProcessEnv, store: StoreConfig, paths: string[], cli: { node: string; script: string }): Pick<Schedule, 'argv' | 'env'> {
  const recipients = (o.recipient ?? []).map((r) => path.resolve(r));
  if (recipients.length === 0 && !o['passphrase-file']?.length) {
    throw new GlacierError(
      'usage',
      env.GLACIER_BACKUP_PASSPHRASE
        ? 'a schedule does not keep a passphrase from the environment (it would have to be written into the schedule): use --passphrase-file FILE (chmod 600) or --recipient KEY.asc'
        : 'a schedule needs its encryption: --passphrase-file FILE (chmod 600) or --recipient KEY.asc',
    );
  }
  const argv = [cli.node, cli.script, 'backup', '--quiet', '--bucket', store.bucket, '--prefix', store.prefix === '' ? '/' : store.prefix, '--storage-class', store.storageClass];
  if (store.region) argv.push('--region', store.region);
  if (store.endpoint) argv.push('--endpoint', store.endpoint);
  if (store.forcePathStyle) argv.push('--path-style');
  if (recipients.length === 0) for (const file of o['passphrase-file'] ?? []) argv.push('--passphrase-file', path.resolve(file));
  for (const r of recipients) argv.push('--recipient', r);
  if (o.identity) argv.push('--identity', path.resolve(o.identity));
  if (o.label) argv.push('--label', o.label);
  for (const e of o.exclude ?? []) argv.push('--exclude', e);
  if (o['no-default-excludes']) argv.push('--no-default-excludes');
  if (o['follow-symlinks']) argv.push('--follow-symlinks');
  if (o.concurrency) argv.push('--concurrency', o.concurrency);
  argv.push('--', ...paths);
  const vars: Record<string, string> = {};
  for (const name of inherited) if (env[name]) vars[name] = env[name]!;
  if (env.HOME) vars.HOME = env.HOME;
  return { argv, env: vars };
}

/** One argument for systemd's ExecStart= or Environment= (systemd.syntax: quotes, `\`, `%` and `$`). */
export function systemdQuote(arg: string): string {
  if (/[\n\r]/.test(arg)) throw new GlacierError('usage', 'a path or option of a schedule cannot contain a line break');
  const escaped = arg.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/%/g, '%%').replace(/\$/g, '$$$$');
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? escaped : `"${escaped}"`;
}

/** One argument for sh, as cron runs it (`%` is special to cron and escaped). */
export function shQuote(arg: string): string {
  if (/[\n\r]/.test(arg)) throw new GlacierError('usage', 'a path or option of a schedule cannot contain a line break');
  return shellWord(arg).replace(/%/g, '\\%');
}

function metadata(s: Schedule): string {
  return `${marker}${JSON.stringify({ name: s.name, every: s.timing.every, ...(s.timing.at ? { at: s.timing.at } : {}), paths: s.paths })}`;
}

export function serviceUnit(s: Schedule): string {
  return [
    metadata(s),
    '[Unit]',
    `Description=Glacier Backup of ${s.paths.join(', ').replace(/[\n%]/g, '_')}`,
    'Wants=network-online.target',
    'After=network-online.target',
    '',
    '[Service]',
    'Type=oneshot',
    ...Object.entries(s.env).map(([k, v]) => `Environment=${systemdQuote(`${k}=${v}`)}`),
    `ExecStart=${s.argv.map(systemdQuote).join(' ')}`,
    // Lowest CPU and I/O priority: a backup never slows the machine down for its user.
    'Nice=10',
    'IOSchedulingClass=idle',
    '',
  ].join('\n');
}

export function timerUnit(s: Schedule): string {
  return [
    metadata(s),
    '[Unit]',
    `Description=Glacier Backup every ${s.timing.every}${s.timing.at ? ` at ${s.timing.at}` : ''}`,
    '',
    '[Timer]',
    `OnCalendar=${s.timing.calendar}`,
    // A run missed while the machine slept or was off happens at the next start.
    'Persistent=true',
    'RandomizedDelaySec=5min',
    '',
    '[Install]',
    'WantedBy=timers.target',
    '',
  ].join('\n');
}

/** A crontab line: the backup's id is dropped, its one-line error (stderr) is what cron mails. */
export function cronLine(s: Schedule): string {
  const vars = Object.entries(s.env).map(([k, v]) => shQuote(`${k}=${v}`));
  return `${s.timing.cron} ${['env', ...vars, ...s.argv.map(shQuote)].join(' ')} >/dev/null ${metadata(s).replace(/%/g, '\\%')}`;
}

/** The schedule described by a unit file's first line, or undefined when it is not one of ours. */
export function readMetadata(text: string): { name: string; every: string; at?: string; paths: string[] } | undefined {
  const line = text.split('\n', 1)[0] ?? '';
  if (!line.startsWith(marker)) return undefined;
  try {
    const v = JSON.parse(line.slice(marker.length)) as { name?: unknown; every?: unknown; at?: unknown; paths?: unknown };
    if (typeof v.name !== 'string' || typeof v.every !== 'string' || !Array.isArray(v.paths)) return undefined;
    return { name: v.name, every: v.every, ...(typeof v.at === 'string' ? { at: v.at } : {}), paths: v.paths.filter((p): p is string => typeof p === 'string') };
  } catch {
    return undefined;
  }
}
