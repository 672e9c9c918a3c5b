/**
 * Process-wide V8 settings, made by a front end that owns its process (the CLI; never the VS Code
 * extension, whose extension host is shared with other extensions).
 *
 * - V8 flags: starting a worker thread resets them, so the engine's workers set them again
 *   (seipdStream.ts).
 * - Explicit young-generation collections: the encryption worker's output comes back as
 *   buffers that are garbage once uploaded. V8 only collects for such outside-the-heap memory
 *   after about 64 MB of it, so without help a backup carries that much dead ciphertext. With
 *   `enableYoungCollections()`, a `youngCollector()` runs a minor GC after every few MiB of
 *   consumed buffers (well under a millisecond with a small young generation); otherwise it does
 *   nothing.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let flags = '';
let gc: ((options: { type: 'minor' }) => void) | undefined;

export function setProcessV8Flags(value: string): void {
  flags = value;
  setFlagsFromString(value);
}

/** What setProcessV8Flags was given, for a new worker to set again; empty if nothing. */
export function processV8Flags(): string {
  return flags;
}

export function enableYoungCollections(): void {
  setFlagsFromString('--expose-gc');
  gc = runInNewContext('gc') as typeof gc;
}

/** Whether the front end allowed explicit collections: its workers then run them too. */
export function youngCollectionsEnabled(): boolean {
  return gc !== undefined;
}

/** A minor GC if the front end allowed it; a no-op otherwise. */
function collectYoung(): void {
  gc?.({ type: 'minor' });
}

/**
 * A counter of bytes that have become garbage (buffers consumed): runs collectYoung() after about
 * every `every` bytes of them (3 MiB by default).
 */
export function youngCollector(every = 3 << 20): (garbage: number) => void {
  let since = 0;
  return (garbage) => {
    since += garbage;
    if (since < every) return;
    since = 0;
    collectYoung();
  };
}
