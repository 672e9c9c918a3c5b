/**
 * What the freshness status bar item says (src/vscode/schedule/freshnessLook.ts): the stalest
 * folder's age, the warning once it is older than its schedule allows, a run that found nothing
 * changed counting as a backup, and a missing secret or a failure outranking the age.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { freshnessLook, newestOf, type ArchiveFacts, type FolderFacts } from '../../src/vscode/schedule/freshnessLook';

const hour = 3_600_000;
const now = Date.parse('2026-12-01T12:00:00Z');
const host = 'laptop';
const folder = (name: string, extra: Partial<FolderFacts> = {}): FolderFacts => ({ name, path: `/home/me/${name}`, frequency: 'daily', staleAfterMs: 26 * hour, run: {}, ...extra });
const archive = (id: string, name: string, hoursAgo: number, extra: Partial<ArchiveFacts> = {}): ArchiveFacts => ({
  id,
  size: 2048,
  created: new Date(now - hoursAgo * hour).toISOString(),
  host,
  sources: [`/home/me/${name}`],
  ...extra,
});

describe('freshness look', () => {
  it('says the age of the stalest folder, with each folder, archive, size and local time in the tooltip', () => {
    const look = freshnessLook([folder('a'), folder('b')], [archive('A1', 'a', 1), archive('A0', 'a', 5), archive('B1', 'b', 3)], host, now)!;
    assert.equal(look.text, '$(cloud) Last backup 3 h ago');
    assert.equal(look.level, 'ok');
    assert.deepEqual(look.click, { kind: 'reveal', id: 'B1' });
    const tip = look.tooltip.join('\n');
    assert.match(tip, /a: .*1 h ago: archive `A1`, 2\.0 KiB/);
    assert.match(tip, /b: .*3 h ago: archive `B1`/);
    assert.ok(tip.includes(new Date(now - 3 * hour).toLocaleString()), 'absolute local time');
  });

  it('warns once a folder is older than its schedule allows, and not without a schedule', () => {
    assert.equal(freshnessLook([folder('a')], [archive('A1', 'a', 27)], host, now)!.level, 'warning');
    assert.equal(freshnessLook([folder('a')], [archive('A1', 'a', 25)], host, now)!.level, 'ok');
    const unscheduled = folder('a', { frequency: 'off' });
    delete unscheduled.staleAfterMs;
    assert.equal(freshnessLook([unscheduled], [archive('A1', 'a', 500)], host, now)!.level, 'ok');
    assert.equal(freshnessLook([unscheduled], [], host, now), undefined, 'nothing to say');
    const never = freshnessLook([folder('a')], [], host, now)!;
    assert.equal(never.text, '$(cloud) No backup yet');
    assert.equal(never.level, 'warning');
  });

  it('counts only this host and archives of the folder; an unchanged run is a backup too', () => {
    const other = [archive('X', 'a', 1, { host: 'desktop' }), archive('Y', 'other', 1), archive('A', 'a', 30)];
    assert.equal(newestOf(folder('a'), other, host)?.id, 'A');
    const checked = folder('a', { run: { lastSuccess: { time: now - 2 * hour, id: 'A', created: false } } });
    const look = freshnessLook([checked], other, host, now)!;
    assert.equal(look.text, '$(cloud) Last backup 2 h ago');
    assert.equal(look.level, 'ok');
    assert.match(look.tooltip.join('\n'), /nothing had changed/);
  });

  it('a missing secret outranks a failure, which outranks the age; both lead to the schedule status', () => {
    const failed = folder('a', { run: { failures: 2, lastFailure: { time: now - hour, message: 'access denied to s3://b/p/' } } });
    const blocked = folder('b', { run: { blocked: { reason: 'needs your passphrase', since: now - hour } } });
    const f = freshnessLook([failed], [archive('A', 'a', 1)], host, now)!;
    assert.equal(f.text, '$(error) Backup failed');
    assert.equal(f.level, 'error');
    assert.match(f.tooltip.join('\n'), /access denied to s3:\/\/b\/p\/.*|2 in a row/s);
    assert.deepEqual(f.click, { kind: 'status' });
    const b = freshnessLook([failed, blocked], [], host, now)!;
    assert.equal(b.text, '$(key) Backup needs your passphrase');
    assert.equal(b.level, 'warning');
    assert.deepEqual(b.click, { kind: 'status' });
  });
});
