/** Text from the bucket shown on a terminal: nothing in it acts as a control. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { printable, printableJson } from '../../src/core/util/printable';

describe('printable', () => {
  it('escapes C0, DEL, C1, bidi controls, line separators and lone surrogates; keeps the rest', () => {
    assert.equal(printable('a\u001b[31mb\u0007\u007f\u009b\u202e\u2067\u2028é日本\u{1f600}'), 'a\\x1b[31mb\\x07\\x7f\\x9b\\u{202e}\\u{2067}\\u{2028}é日本\u{1f600}');
    assert.equal(printable('x\ud800y\udc00'), 'x\\u{d800}y\\u{dc00}');
    assert.equal(printable('a\tb\nc\rd', '\t\n'), 'a\tb\nc\\x0dd');
  });

  it('keeps JSON valid and equal to what it was', () => {
    const value = { label: 'a\u001b]0;t\u0007\u009b\u202e\u2029z', n: [1, 2] };
    const json = printableJson(JSON.stringify(value, null, 2));
    assert.doesNotMatch(json, /[\u007f-\u009f\u202a-\u202e\u2028\u2029]/);
    assert.deepEqual(JSON.parse(json), value);
  });
});
