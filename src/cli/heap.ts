/**
 * Imported first by the CLI: keeps the process's garbage small (see core/util/v8Flags.ts).
 * - V8's young generation stays at its initial size. Left alone, V8 doubles it up to 3 × 16 MiB
 *   under the many short-lived objects of a backup and keeps it, about 35 MB of a 220 MB peak
 *   for no measurable speed. The flag is read whenever the young generation would grow, so
 *   setting it at start-up is enough (`--max-semi-space-size` would need node's command line).
 * - The engine may collect the young generation itself, which frees the uploaded ciphertext
 *   buffers at once instead of after about 64 MB of them.
 */
import { enableYoungCollections, setProcessV8Flags } from '../core/util/v8Flags';

setProcessV8Flags('--semi-space-growth-factor=1');
enableYoungCollections();
