/**
 * Text from the bucket (manifest paths and labels, object keys) made safe to show on a terminal:
 * nothing in it can move the cursor, change colours, set the window title or reorder what follows.
 *
 * Guarantees: C0 controls, DEL and C1 controls come out as `\xNN`; bidirectional overrides,
 * embeddings and isolates, line and paragraph separators, and lone surrogates as `\u{…}`.
 * Everything else, including every printable non-ASCII character, is left as it is.
 */

// C0 + DEL + C1; bidi marks, embeddings, overrides and isolates; U+2028/2029; lone surrogates.
const unsafe = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** `text` with every unsafe character escaped; the characters in `keep` (such as "\t\n") are left. */
export function printable(text: string, keep = ''): string {
  return text.replace(unsafe, (c) => {
    if (keep.includes(c)) return c;
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
  });
}

// What JSON.stringify leaves raw inside strings (it escapes C0 and lone surrogates itself).
const unsafeInJson = /[\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/g;

/** JSON text from JSON.stringify with what it leaves raw escaped as \uXXXX: still valid JSON, the same value. */
export function printableJson(json: string): string {
  return json.replace(unsafeInJson, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
