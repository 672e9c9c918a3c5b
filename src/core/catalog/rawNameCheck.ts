/**
 * Checks a manifest entry's `pathBytes` and `linkTargetBytes` (names that are not UTF-8, see
 * rawNames.ts), which come from the bucket and are untrusted. An entry passes only in the one form
 * a backup writes: canonical base64 of 1 to 4096 bytes that are not valid UTF-8 and hold no NUL,
 * whose readable form is exactly `path` (or `linkTarget`); and a path must stay a relative archive
 * path (not absolute, no empty, "." or ".." segment). `path` and `linkTarget` themselves must be
 * valid Unicode. So the bytes name the same segments as the `path` a user sees, and an entry has
 * one identity.
 */
import { fromBytes, isWellFormed, readableName } from '../model/rawNames';

const maxNameBytes = 4096;
const maxBase64 = 4 * Math.ceil(maxNameBytes / 3);

/** What is wrong with the entry's raw names, or undefined. */
export function rawNameProblem(x: Record<string, unknown>): string | undefined {
  // A lone surrogate would be a second spelling of a name that is not UTF-8 (entryName's form).
  if (typeof x.path === 'string' && !isWellFormed(x.path)) return 'an entry\'s "path" is not valid Unicode (a lone surrogate)';
  if (typeof x.linkTarget === 'string' && !isWellFormed(x.linkTarget)) return 'an entry\'s "linkTarget" is not valid Unicode (a lone surrogate)';
  if (x.pathBytes !== undefined) {
    const shown = typeof x.path === 'string' ? JSON.stringify(x.path.slice(0, 200)) : 'an entry';
    const got = decodeRaw(x.pathBytes, x.path);
    if (typeof got !== 'string') return `${shown}: "pathBytes" ${got.problem}`;
    if (got.startsWith('/')) return `${shown}: "pathBytes" is an absolute path`;
    if (got.split('/').some((s) => s === '' || s === '.' || s === '..')) return `${shown}: "pathBytes" has an empty, "." or ".." segment`;
  }
  if (x.linkTargetBytes !== undefined) {
    const shown = typeof x.path === 'string' ? JSON.stringify(x.path.slice(0, 200)) : 'an entry';
    if (x.type !== 'symlink') return `${shown}: "linkTargetBytes" on an entry that is not a symlink`;
    const got = decodeRaw(x.linkTargetBytes, x.linkTarget);
    if (typeof got !== 'string') return `${shown}: "linkTargetBytes" ${got.problem}`;
  }
  return undefined;
}

/** The name the base64 stands for (as fromBytes gives it), or why it is refused. */
function decodeRaw(b64: unknown, shown: unknown): string | { problem: string } {
  if (typeof b64 !== 'string' || b64.length === 0 || b64.length > maxBase64) return { problem: `is not base64 of 1 to ${maxNameBytes} bytes` };
  const bytes = Buffer.from(b64, 'base64');
  if (bytes.toString('base64') !== b64) return { problem: 'is not canonical base64' };
  if (bytes.length > maxNameBytes) return { problem: `is not base64 of 1 to ${maxNameBytes} bytes` };
  if (bytes.includes(0)) return { problem: 'holds a NUL byte' };
  const name = fromBytes(bytes);
  if (isWellFormed(name)) return { problem: 'is valid UTF-8 (such a name is written as a string alone)' };
  if (readableName(name) !== shown) return { problem: 'does not match its readable form' };
  return name;
}
