/**
 * File system errors of the local-folder store as one-line GlacierErrors that name the store and
 * the action, the way s3Error does for S3. Paths are the store's own (no secret lives in them).
 */
import { GlacierError, oneLine } from '../../errors';

export interface FsErrorContext {
  /** The store's root folder. */
  root: string;
  /** The file or folder the call was about. */
  file: string;
  /** What failed, e.g. "upload the archive" or "read archives/….tar.gpg". */
  action: string;
}

function errnoCode(err: unknown): string | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

export function isErrno(err: unknown, ...codes: string[]): boolean {
  const code = errnoCode(err);
  return code !== undefined && codes.includes(code);
}

/** The store folder itself is missing or not a folder: the local twin of a missing bucket. */
export function noStoreFolder(root: string, reason: 'missing' | 'not-a-folder', cause?: unknown): GlacierError {
  const message =
    reason === 'missing'
      ? `store folder ${root} does not exist (is the drive mounted? create the folder to start a new store)`
      : `store folder ${root} is not a folder`;
  return new GlacierError('no-bucket', message, { cause });
}

/** Maps a Node.js file system error to a GlacierError; GlacierErrors pass through unchanged. */
export function fsError(err: unknown, ctx: FsErrorContext): GlacierError {
  if (err instanceof GlacierError) return err;
  const code = errnoCode(err);
  const { root, file, action } = ctx;
  switch (code) {
    case 'ABORT_ERR':
      return new GlacierError('cancelled', `${action} cancelled`, { cause: err });
    case 'ENOENT':
      return new GlacierError('not-found', `${file} does not exist (while trying to ${action})`, { cause: err });
    case 'EACCES':
    case 'EPERM':
      return new GlacierError('access-denied', `permission denied on ${file} while trying to ${action}`, { cause: err });
    case 'ENOSPC':
      return new GlacierError('io', `the disk holding ${root} is full (ENOSPC) while trying to ${action}; free some space there and try again`, { cause: err });
    case 'EDQUOT':
      return new GlacierError('io', `the disk quota on ${root} is exhausted (EDQUOT) while trying to ${action}`, { cause: err });
    case 'EROFS':
      return new GlacierError('io', `${root} is on a read-only file system (EROFS); cannot ${action}`, { cause: err });
    case 'ELOOP':
      return new GlacierError('io', `${file} is a symbolic link; the store never follows links (while trying to ${action})`, { cause: err });
    case 'EIO':
      return new GlacierError('io', `input/output error on ${file} while trying to ${action} (EIO: is the drive failing or disconnected?)`, { cause: err });
    default: {
      const detail = oneLine((err as Error | undefined)?.message ?? String(err));
      return new GlacierError('io', `file system error while trying to ${action} in ${root}: ${detail}`, { cause: err });
    }
  }
}
