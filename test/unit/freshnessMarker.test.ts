/** The freshness marker's pure parts: what a hostile or damaged marker turns into, and how a backup merges into it. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { markerFormat, maxMarkerBytes, maxMarkerSets, mergeMarker, parseMarker, setHash } from '../../src/core/catalog/freshnessMarker';
import { keys } from '../../src/core/model/keys';

const t = (iso: string): Date => new Date(iso);

describe('freshness marker', () => {
  it('names a host safely, whatever its name', () => {
    assert.equal(keys.freshness('laptop.local'), 'freshness/laptop.local.json');
    assert.equal(keys.freshness('../../etc/passwd'), 'freshness/__.._etc_passwd.json');
    assert.equal(keys.freshness('..'), 'freshness/_.json');
    assert.equal(keys.freshness(''), 'freshness/unknown.json');
    assert.equal(keys.freshness('ä'.repeat(100)).length, 'freshness/'.length + 64 + '.json'.length);
  });

  it('merges a set in, moving times forward only', () => {
    const first = mergeMarker('h', {}, 'set-a', { newest: t('2026-01-01T00:00:00Z'), checked: t('2026-01-01T00:00:05Z') });
    assert.equal(first.format, markerFormat);
    assert.deepEqual(first.sets, { [setHash('set-a')]: { newest: '2026-01-01T00:00:00.000Z', checked: '2026-01-01T00:00:05.000Z' } });
    const second = mergeMarker('h', first.sets, 'set-a', { newest: t('2025-12-31T00:00:00Z'), checked: t('2026-01-02T00:00:00Z') });
    assert.deepEqual(second.sets[setHash('set-a')], { newest: '2026-01-01T00:00:00.000Z', checked: '2026-01-02T00:00:00.000Z' });
    const both = mergeMarker('h', second.sets, 'set-b', { newest: t('2026-01-03T00:00:00Z'), checked: t('2026-01-03T00:00:00Z') });
    assert.equal(Object.keys(both.sets).length, 2);
    assert.deepEqual(parseMarker(JSON.stringify(both)), both.sets, 'what it writes, it reads back');
  });

  it('keeps at most maxMarkerSets, dropping the ones checked longest ago', () => {
    let sets = {};
    for (let i = 0; i <= maxMarkerSets; i++) sets = mergeMarker('h', sets, `set-${i}`, { newest: new Date(i * 1000), checked: new Date(i * 1000) }).sets;
    assert.equal(Object.keys(sets).length, maxMarkerSets);
    assert.ok(!(setHash('set-0') in sets));
    assert.ok(setHash(`set-${maxMarkerSets}`) in sets);
  });

  it('reads a damaged or hostile marker as nothing, and drops bad entries', () => {
    for (const text of ['', 'null', '[]', '{"format":"other","version":1,"sets":{}}', '{"format":"glacier-backup-freshness","version":2,"sets":{}}', `{"format":"glacier-backup-freshness","version":1,"sets":[]}`, ' '.repeat(maxMarkerBytes + 1)]) {
      assert.equal(parseMarker(text), undefined, JSON.stringify(text.slice(0, 40)));
    }
    const good = { newest: '2026-01-01T00:00:00Z', checked: '2026-01-01T00:00:00.000Z' };
    const sets = {
      '0123456789abcdef': good,
      'NOT-A-HASH-ABCDE': good,
      '1123456789abcdef': { newest: 'yesterday', checked: good.checked },
      '2123456789abcdef': { newest: '2026-13-45T00:00:00Z', checked: good.checked },
      '3123456789abcdef': null,
      __proto__x: good,
    };
    assert.deepEqual(parseMarker(JSON.stringify({ format: markerFormat, version: 1, sets })), { '0123456789abcdef': good });
  });
});
