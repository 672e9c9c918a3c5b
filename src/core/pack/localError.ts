/**
 * Failures of the local file system while a restore writes (disk full, name too long, a staging
 * folder removed by someone else): one line naming the cause and the path, never reported as
 * damage of the archive, which they say nothing about.
 */
import { existsSync } from 'node:fs';
import { GlacierError } from '../errors';

const causes: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is exceeded',
  ENAMETOOLONG: 'the name is too long for this file system',
  EFBIG: 'the file is larger than this file system or the process file-size limit allows',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'the file system is read-only',
  EIO: 'input/output error',
  ENOENT: 'a folder on the way no longer exists',
  ENOTDIR: 'a folder on the way is not a folder',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in the system',
  ELOOP: 'too many levels of symbolic links',
  EMLINK: 'too many links',
  EXDEV: 'not on the same file system',
};

/**
 * A GlacierError for a file-system error met while writing `where` into `staging` (or null when
 * `err` is not one: it then says nothing about the local disk). ENOENT with the staging folder gone
 * means another download removed it.
 */
export function localFailure(err: unknown, where: string, staging: string | null): GlacierError | null {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (err instanceof GlacierError || !(err instanceof Error) || code === undefined || !(code in causes)) return null;
  if (staging !== null && (code === 'ENOENT' || code === 'ENOTDIR') && !existsSync(staging)) {
    return new GlacierError(
      'conflict',
      `the staging folder ${shortPath(staging)} was removed while this download ran (by another download into the same folder?); nothing was restored, try again`,
      { cause: err },
    );
  }
  const path = (err as NodeJS.ErrnoException).path ?? where;
  return new GlacierError('unreadable', `cannot write ${shortPath(path)}: ${causes[code]} (${code})`, { cause: err });
}

/** A path fit for a one-line message: control characters escaped, long ones shortened in the middle. */
export function shortPath(p: string): string {
  const escaped = p.replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  const chars = Array.from(escaped);
  return chars.length > 240 ? `${chars.slice(0, 100).join('')}…${chars.slice(-120).join('')}` : escaped;
}
