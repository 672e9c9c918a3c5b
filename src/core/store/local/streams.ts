/**
 * Streaming helpers of the local-folder store: reading a body that a cancel can interrupt while
 * it waits, and reading a stored file in bounded pieces.
 */
import { constants, promises as fs } from 'node:fs';
import { GlacierError } from '../../errors';
import { noFollow } from './paths';

/**
 * The iterator's next chunk, or the `cancelled()` error as soon as the signal fires, even while
 * the body is still waiting for data; the iterator is then told to stop (its return()).
 */
export async function nextOrAbort<T>(it: AsyncIterator<T>, signal: AbortSignal | undefined, cancelled: () => Error): Promise<IteratorResult<T>> {
  if (signal === undefined) return it.next();
  if (signal.aborted) {
    void Promise.resolve(it.return?.()).catch(() => undefined);
    throw cancelled();
  }
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(cancelled());
    signal.addEventListener('abort', onAbort, { once: true });
  });
  const next = it.next();
  try {
    return await Promise.race([next, aborted]);
  } catch (err) {
    if (signal.aborted) {
      next.catch(() => undefined);
      void Promise.resolve(it.return?.()).catch(() => undefined);
    }
    throw err;
  } finally {
    signal.removeEventListener('abort', onAbort!);
  }
}

export interface ReadFileOptions {
  /** The size the caller was told; the file must still hold exactly this. */
  size: number;
  /** The inode the caller looked at: another file under the name is refused. */
  ino: bigint;
  signal?: AbortSignal | undefined;
  cancelled: () => Error;
  fail: (err: unknown) => Error;
}

/**
 * The bytes of `file` in pieces of at most 1 MiB, each a fresh buffer the consumer may keep.
 * Opened with O_NOFOLLOW when the first piece is asked for; closed when the reading ends.
 */
export async function* readFile(file: string, o: ReadFileOptions): AsyncGenerator<Uint8Array> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, constants.O_RDONLY | noFollow);
  } catch (err) {
    throw o.fail(err);
  }
  try {
    const st = await handle.stat({ bigint: true });
    if (st.ino !== o.ino || Number(st.size) !== o.size) throw new GlacierError('conflict', `${file} changed after it was opened`);
    let offset = 0;
    while (offset < o.size) {
      if (o.signal?.aborted) throw o.cancelled();
      const piece = Buffer.allocUnsafe(Math.min(1 << 20, o.size - offset));
      let bytesRead: number;
      try {
        ({ bytesRead } = await handle.read(piece, 0, piece.length, offset));
      } catch (err) {
        throw o.fail(err);
      }
      if (bytesRead === 0) throw new GlacierError('io', `${file} ended after ${offset} of ${o.size} bytes`);
      offset += bytesRead;
      yield piece.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}
