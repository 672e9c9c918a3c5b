/**
 * How often a scheduled backup runs, as the user writes it (`--every 6h --at 03:30`), and as
 * systemd (OnCalendar) and cron say it. Only intervals both can express exactly are accepted:
 * minutes that divide an hour, hours that divide a day, one day, one week.
 */
import { GlacierError } from '../../core/errors';

export interface Timing {
  /** As given, normalised: "15m", "6h", "1d", "1w". */
  every: string;
  /** "HH:MM" for daily and weekly schedules. */
  at?: string;
  /** systemd OnCalendar expression. */
  calendar: string;
  /** The five cron fields. */
  cron: string;
  /** The longest a correct schedule leaves between two backups, in ms (for freshness). */
  periodMs: number;
}

const minute = 60_000;

export function parseTiming(every: string | undefined, at: string | undefined): Timing {
  if (!every) throw new GlacierError('usage', 'schedule install needs --every (e.g. 1h, 6h, 1d, 1w)');
  const m = /^(\d+)\s*(m|min|h|d|w)$/i.exec(every.trim());
  if (!m) throw new GlacierError('usage', `--every "${every}" is not an interval: use e.g. 30m, 1h, 6h, 1d or 1w`);
  const n = Number(m[1]);
  const unit = m[2]!.toLowerCase()[0] as 'm' | 'h' | 'd' | 'w';
  if (unit === 'm' && n === 60) return parseTiming('1h', at);
  if (unit === 'h' && n === 24) return parseTiming('1d', at);
  const time = parseAt(at, unit);
  const [hh, mm] = time ? time.split(':').map(Number) as [number, number] : [0, 0];
  if (unit === 'm') {
    if (n < 5 || 60 % n !== 0) throw new GlacierError('usage', '--every in minutes must divide an hour and be at least 5 (5m, 10m, 15m, 20m, 30m, 60m)');
    return { every: `${n}m`, calendar: `*-*-* *:00/${n}:00`, cron: `*/${n} * * * *`, periodMs: n * minute };
  }
  if (unit === 'h') {
    if (n < 1 || 24 % n !== 0) throw new GlacierError('usage', '--every in hours must divide a day (1h, 2h, 3h, 4h, 6h, 8h, 12h, 24h)');
    return { every: `${n}h`, calendar: `*-*-* 00/${n}:00:00`, cron: `0 */${n} * * *`, periodMs: n * 60 * minute };
  }
  if (n !== 1) throw new GlacierError('usage', `--every ${every}: only 1d and 1w are accepted in days and weeks`);
  const clock = `${String(hh).padStart(2, '0')}:${String(mm).padStart(2, '0')}`;
  if (unit === 'd') return { every: '1d', at: clock, calendar: `*-*-* ${clock}:00`, cron: `${mm} ${hh} * * *`, periodMs: 24 * 60 * minute };
  return { every: '1w', at: clock, calendar: `Mon *-*-* ${clock}:00`, cron: `${mm} ${hh} * * 1`, periodMs: 7 * 24 * 60 * minute };
}

function parseAt(at: string | undefined, unit: 'm' | 'h' | 'd' | 'w'): string | undefined {
  if (at === undefined) return unit === 'd' || unit === 'w' ? '03:00' : undefined;
  if (unit === 'm' || unit === 'h') throw new GlacierError('usage', '--at applies to daily and weekly schedules (--every 1d or 1w)');
  const m = /^([01]?\d|2[0-3]):([0-5]\d)$/.exec(at.trim());
  if (!m) throw new GlacierError('usage', `--at "${at}" is not a time of day: use HH:MM (24-hour, local time)`);
  return `${m[1]}:${m[2]}`;
}
