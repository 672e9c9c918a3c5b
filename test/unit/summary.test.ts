/**
 * Catalog summaries (core/catalog/summary.ts): what summaryOf keeps of a manifest, and the checks a
 * summary read back from the bucket must pass (it is untrusted like a manifest).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseSummary, summaryFormat, summaryOf } from '../../src/core/catalog/summary';
import type { Manifest } from '../../src/core/catalog/manifest';
import { sampleManifest } from '../helpers/manifests';

const id = '20260102T030405Z-0123456789abcdef';
const manifest = sampleManifest(id);
const bytes = (v: unknown): Uint8Array => Buffer.from(JSON.stringify(v));

describe('summaryOf', () => {
  it('keeps every field but the file lists, under its own format', () => {
    const s = summaryOf(manifest);
    assert.equal(s.format, summaryFormat);
    assert.deepEqual(Object.keys(s), ['format', 'version', 'id', 'created', 'label', 'host', 'sources', 'fingerprint', 'archive', 'encryption', 'compression', 'fileCount', 'fileBytes']);
    assert.deepEqual(parseSummary(bytes(s), id), s);
  });

  it('keeps fields a later manifest version adds, except renames', () => {
    const v2 = { ...manifest, version: 2, chain: { full: id, previous: null, level: 0, archives: [id], renamed: [] }, needs: [id], renames: [], added: 1, changedFiles: 0, removed: 0, uploadedBytes: 5 };
    const s = summaryOf(v2 as unknown as Manifest) as unknown as Record<string, unknown>;
    assert.deepEqual(s.needs, [id]);
    assert.ok(!('renames' in s));
    assert.deepEqual(parseSummary(bytes(s), id), s);
  });
});

describe('parseSummary refuses', () => {
  const good = summaryOf(manifest) as unknown as Record<string, unknown>;
  const cases: [string, unknown, RegExp][] = [
    ['not JSON', null, /not valid JSON/],
    ['a manifest', { ...manifest }, /not a glacier-backup summary/],
    ['file lists', { ...good, entries: [] }, /holds "entries"/],
    ['another id', { ...good, id: '20260102T030405Z-ffffffffffffffff' }, /id does not match/],
    ['an unknown version', { ...good, version: 3 }, /format version 3 is not supported/],
    ['a bad date', { ...good, created: 'yesterday' }, /"created"/],
    ['a negative count', { ...good, fileCount: -1 }, /"entries" is missing/],
    ['a version 2 summary without its chain', { ...good, version: 2 }, /"chain" is missing/],
  ];
  for (const [what, value, message] of cases) {
    it(what, () => {
      const input = value === null ? Buffer.from('{"format":') : bytes(value);
      assert.throws(() => parseSummary(input, id), (err: Error) => message.test(err.message) && /^summary of 2026/.test(err.message));
    });
  }
});
