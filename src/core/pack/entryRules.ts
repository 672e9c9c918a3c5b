/**
 * The rules every tar entry must pass before anything is written, applied whether or not it is
 * written: its type, its name (inside the root, no "..", NUL, backslash or drive letter, not too
 * long), its symlink target (not out of the root), and its place among the entries seen so far
 * (no duplicates, no writing through a symlink or under a file). Refusals are GlacierError('corrupt')
 * naming the entry.
 */
import { GlacierError } from '../errors';
import { byteLength, readableName } from '../model/rawNames';

export type Kind = 'file' | 'directory' | 'symlink';
/** What the archive made of a path so far; 'implicit' is a parent of an entry, never listed. */
export type Seen = Kind | 'implicit';

export function kindOf(type: string | null, name: string): Kind {
  switch (type) {
    case 'file':
    case 'directory':
    case 'symlink':
      return type;
    case 'link':
      return refuse(name, 'hard links are not restored');
    case 'character-device':
    case 'block-device':
      return refuse(name, 'device files are not restored');
    case 'fifo':
      return refuse(name, 'FIFOs are not restored');
    case 'contiguous-file':
      return refuse(name, 'contiguous files are not supported');
    default:
      return refuse(name, 'unsupported entry type');
  }
}

/**
 * The name's segments, once it is known to stay inside the root. A directory whose name is empty
 * once normalised ("." or "./": the archive's top folder, the root itself) gives no segments;
 * an empty name of any other type is refused.
 */
export function splitName(name: string, isDirectory: boolean, maxPathBytes: number): string[] {
  if (byteLength(name) > maxPathBytes) refuse(name, `the name is longer than ${maxPathBytes} bytes`);
  if (name.includes('\0')) refuse(name, 'NUL byte in the name');
  if (name.startsWith('/')) refuse(name, 'absolute path');
  if (name.includes('\\')) refuse(name, 'backslash in the name');
  let rel = isDirectory && name.endsWith('/') ? name.slice(0, -1) : name;
  if (rel.startsWith('./')) rel = rel.slice(2);
  if (isDirectory && (rel === '' || rel === '.')) return [];
  if (rel === '') refuse(name, 'empty name');
  if (/^[A-Za-z]:/.test(rel)) refuse(name, 'Windows drive letter');
  const segments = rel.split('/');
  for (const s of segments) {
    if (s === '') refuse(name, 'empty path segment');
    if (s === '..') refuse(name, '".." segment');
    if (s === '.') refuse(name, '"." segment');
  }
  return segments;
}

/**
 * A symlink may not point out of the root, resolved from its own folder in the archive. Besides
 * the lexical check, ".." may only lead the target: after a name that name could itself be a
 * link ("s" -> "." makes "s/../x" leave the root although it reads as "x").
 */
export function checkLinkTarget(name: string, target: string, segments: readonly string[], maxPathBytes: number, allowOutside: boolean): string {
  if (target === '') refuse(name, 'empty symlink target');
  if (byteLength(target) > maxPathBytes) refuse(name, `the symlink target is longer than ${maxPathBytes} bytes`);
  if (target.includes('\0')) refuse(name, 'NUL byte in the symlink target');
  if (allowOutside) return target;
  const shown = `symlink target "${printable(target)}"`;
  if (target.startsWith('/')) refuse(name, `absolute ${shown}`);
  if (target.includes('\\') || /^[A-Za-z]:/.test(target)) refuse(name, `${shown} has a backslash or drive letter`);
  let depth = segments.length - 1;
  let afterName = false;
  for (const s of target.split('/')) {
    if (s === '' || s === '.') continue;
    if (s === '..') {
      if (afterName) refuse(name, `${shown} has ".." after a name`);
      if (--depth < 0) refuse(name, `${shown} leaves the root`);
    } else {
      afterName = true;
      depth++;
    }
  }
  return target;
}

/** Archive-level rules, applied to every entry whether or not it is written. */
export function checkStructure(name: string, rel: string, kind: Kind, seen: Map<string, Seen>): void {
  // Parents, deepest first, until one already known as a directory (its own parents were checked).
  const missing: string[] = [];
  for (let end = rel.lastIndexOf('/'); end > 0; end = rel.lastIndexOf('/', end - 1)) {
    const parent = rel.slice(0, end);
    const before = seen.get(parent);
    if (before === 'directory' || before === 'implicit') break;
    if (before === 'symlink') refuse(name, `writes through a symlink ("${printable(parent)}")`);
    if (before === 'file') refuse(name, `a parent ("${printable(parent)}") is a file`);
    missing.push(parent);
  }
  const before = seen.get(rel);
  if (before !== undefined) {
    if (kind === 'directory' && (before === 'directory' || before === 'implicit')) {
      seen.set(rel, 'directory');
    } else if (before === kind) {
      refuse(name, 'duplicate entry');
    } else {
      refuse(name, 'duplicate path changes type');
    }
  } else {
    seen.set(rel, kind);
  }
  for (const p of missing) seen.set(p, 'implicit');
}

export function refuse(name: string, reason: string): never {
  throw new GlacierError('corrupt', `refused entry "${printable(name)}": ${reason}`);
}

/** A name fit for a one-line message: control and invisible characters escaped, bytes that are not UTF-8 as \xHH, at most ~200 characters. */
export function printable(name: string): string {
  const escaped = name
    .slice(0, 400)
    .replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff"\\]/g, (c) =>
      c === '"' || c === '\\' ? `\\${c}` : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
    );
  const chars = Array.from(escaped);
  return readableName(chars.length > 200 || name.length > 400 ? `${chars.slice(0, 200).join('')}…` : escaped);
}
