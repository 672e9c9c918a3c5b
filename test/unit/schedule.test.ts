import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { parseTiming } from '../../src/cli/schedule/timing';
import { readMetadata, scheduleName, shQuote, systemdQuote } from '../../src/cli/schedule/units';

const hasAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;

describe('schedule timing', () => {
  it('maps intervals to OnCalendar and cron, with a period for freshness', () => {
    assert.deepEqual(parseTiming('15m', undefined), { every: '15m', calendar: '*-*-* *:00/15:00', cron: '*/15 * * * *', periodMs: 15 * 60_000 });
    assert.deepEqual(parseTiming('6h', undefined), { every: '6h', calendar: '*-*-* 00/6:00:00', cron: '0 */6 * * *', periodMs: 6 * 3_600_000 });
    assert.deepEqual(parseTiming('1d', undefined), { every: '1d', at: '03:00', calendar: '*-*-* 03:00:00', cron: '0 3 * * *', periodMs: 86_400_000 });
    assert.deepEqual(parseTiming('24h', '7:05'), { every: '1d', at: '07:05', calendar: '*-*-* 07:05:00', cron: '5 7 * * *', periodMs: 86_400_000 });
    assert.deepEqual(parseTiming('1w', '23:59'), { every: '1w', at: '23:59', calendar: 'Mon *-*-* 23:59:00', cron: '59 23 * * 1', periodMs: 7 * 86_400_000 });
    assert.equal(parseTiming('60m', undefined).every, '1h');
  });

  it('refuses what systemd and cron cannot both say exactly, in one line', () => {
    assert.throws(() => parseTiming(undefined, undefined), /needs --every/);
    assert.throws(() => parseTiming('7m', undefined), /divide an hour/);
    assert.throws(() => parseTiming('2m', undefined), /at least 5/);
    assert.throws(() => parseTiming('5h', undefined), /divide a day/);
    assert.throws(() => parseTiming('2d', undefined), /only 1d and 1w/);
    assert.throws(() => parseTiming('daily', undefined), /not an interval/);
    assert.throws(() => parseTiming('1h', '03:00'), /--at applies to daily and weekly/);
    assert.throws(() => parseTiming('1d', '24:00'), /not a time of day/);
  });

  it('every OnCalendar expression it writes is one systemd accepts', { skip: !hasAnalyze && 'systemd-analyze is not installed' }, () => {
    for (const [every, at] of [['5m'], ['30m'], ['1h'], ['2h'], ['12h'], ['1d', '00:00'], ['1d', '23:59'], ['1w', '03:00']] as [string, string?][]) {
      const { calendar } = parseTiming(every, at);
      const out = execFileSync('systemd-analyze', ['calendar', calendar], { encoding: 'utf8' });
      assert.match(out, /Next elapse:/, calendar);
    }
  });
});

describe('schedule names and quoting', () => {
  it('derives a stable name from the paths, whatever their order', () => {
    const a = scheduleName(['/home/me/My Project', '/etc'], undefined);
    assert.match(a, /^my-project-[0-9a-f]{8}$/);
    assert.equal(scheduleName(['/etc', '/home/me/My Project'], undefined).slice(-8), a.slice(-8));
    assert.equal(scheduleName(['/x'], 'nightly_1'), 'nightly_1');
    assert.throws(() => scheduleName(['/x'], '../evil'), /use letters, digits/);
  });

  it('quotes for systemd and sh so that specifiers, variables and quotes stay literal', () => {
    assert.equal(systemdQuote('/usr/bin/node'), '/usr/bin/node');
    assert.equal(systemdQuote('/a b/"c"\\%d$e'), '"/a b/\\"c\\"\\\\%%d$$e"');
    assert.equal(shQuote("/a b/it's 100%"), "'/a b/it'\\''s 100\\%'");
    assert.throws(() => systemdQuote('a\nb'), /line break/);
    assert.throws(() => shQuote('a\rb'), /line break/);
  });

  it('reads back only its own metadata line', () => {
    assert.deepEqual(readMetadata('# glacier-backup schedule: {"name":"n","every":"1d","at":"03:00","paths":["/a"]}\n[Unit]'), { name: 'n', every: '1d', at: '03:00', paths: ['/a'] });
    assert.equal(readMetadata('[Unit]\nDescription=x'), undefined);
    assert.equal(readMetadata('# glacier-backup schedule: {not json'), undefined);
  });
});
