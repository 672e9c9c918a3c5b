/**
 * File names as the bytes Linux keeps, carried in ordinary strings.
 *
 * A name's bytes become a string by decoding UTF-8, and each byte that is not part of a valid
 * UTF-8 sequence becomes the lone surrogate U+DC80–U+DCFF (byte 0x80–0xFF), as Python's
 * "surrogateescape" does. Valid UTF-8 never decodes to a lone surrogate, so:
 *
 * - the mapping is one-to-one: two different byte strings never give the same string, and
 *   toBytes(fromBytes(b)) is b, byte for byte;
 * - a name that is valid UTF-8 is exactly the string Node gives for it (the common case costs
 *   one scan);
 * - ASCII bytes ("/", ".", NUL, "\") stay the same characters, so checks on them are checks on
 *   the bytes.
 *
 * Such a string is for matching and for the file system (fsPath); people see readableName.
 */

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** True when `s` holds no lone surrogate: every name decoded from valid UTF-8. */
export function isWellFormed(s: string): boolean {
  return (s as string & { isWellFormed(): boolean }).isWellFormed();
}

/** The string for a name's bytes (see above). */
export function fromBytes(bytes: Uint8Array): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    // not valid UTF-8: decoded piece by piece below
  }
  let out = '';
  let run = 0;
  for (let i = 0; i < bytes.length; ) {
    const n = sequenceLength(bytes, i);
    if (n > 0) {
      i += n;
      continue;
    }
    out += strictUtf8.decode(bytes.subarray(run, i)) + String.fromCharCode(0xdc00 + bytes[i]!);
    run = ++i;
  }
  return out + strictUtf8.decode(bytes.subarray(run));
}

/** Length of the valid UTF-8 sequence at `i`, or 0 (Unicode's table 3-7: no overlongs, no surrogates, at most U+10FFFF). */
function sequenceLength(b: Uint8Array, i: number): number {
  const c = b[i]!;
  if (c < 0x80) return 1;
  const cont = (k: number, lo = 0x80, hi = 0xbf): boolean => i + k < b.length && b[i + k]! >= lo && b[i + k]! <= hi;
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    const ok1 = c === 0xe0 ? cont(1, 0xa0) : c === 0xed ? cont(1, 0x80, 0x9f) : cont(1);
    return ok1 && cont(2) ? 3 : 0;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    const ok1 = c === 0xf0 ? cont(1, 0x90) : c === 0xf4 ? cont(1, 0x80, 0x8f) : cont(1);
    return ok1 && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

/** The bytes of a name: the inverse of fromBytes. Lone surrogates other than U+DC80–U+DCFF (never made here) become U+FFFD. */
export function toBytes(s: string): Buffer {
  if (isWellFormed(s)) return Buffer.from(s, 'utf8');
  const out = Buffer.allocUnsafe(s.length * 3);
  let at = 0;
  for (const ch of s) {
    const c = ch.charCodeAt(0);
    if (ch.length === 1 && c >= 0xdc80 && c <= 0xdcff) out[at++] = c - 0xdc00;
    else at += out.write(ch, at, 'utf8');
  }
  return out.subarray(0, at);
}

/** What to hand to `fs` for a path made of such names: the string itself, or its bytes when it has any escaped byte. */
export function fsPath(s: string): string | Buffer {
  return isWellFormed(s) ? s : toBytes(s);
}

/** Length of the name's bytes. */
export function byteLength(s: string): number {
  return isWellFormed(s) ? Buffer.byteLength(s) : toBytes(s).length;
}

/**
 * The name for people: each byte that is not UTF-8 shown as `\xHH` (upper-case hex), the rest
 * unchanged, so "caf\xE9.txt" for Latin-1 "café.txt". Not one-to-one (a name may hold a real
 * backslash): identity is the bytes. "/" stays "/", so a readable path has the same segments.
 */
export function readableName(s: string): string {
  if (isWellFormed(s)) return s;
  let out = '';
  for (const ch of s) {
    const c = ch.charCodeAt(0);
    out += ch.length === 1 && c >= 0xdc80 && c <= 0xdcff ? `\\x${(c - 0xdc00).toString(16).toUpperCase()}` : ch;
  }
  return out;
}

/** How a manifest records a name: `path` readable, and the bytes (base64) when they are not UTF-8. */
export interface RawNameFields {
  path: string;
  pathBytes?: string;
}

/** The manifest fields for an archive path (a string as fromBytes makes it). */
export function pathFields(name: string): RawNameFields {
  return isWellFormed(name) ? { path: name } : { path: readableName(name), pathBytes: toBytes(name).toString('base64') };
}

/** The manifest fields for a symlink target. */
export function linkFields(target: string): { linkTarget: string; linkTargetBytes?: string } {
  return isWellFormed(target) ? { linkTarget: target } : { linkTarget: readableName(target), linkTargetBytes: toBytes(target).toString('base64') };
}

/** The archive path a manifest entry names, as fromBytes gives it: what is compared with the tar. */
export function entryName(e: RawNameFields): string {
  return e.pathBytes === undefined ? e.path : fromBytes(Buffer.from(e.pathBytes, 'base64'));
}
