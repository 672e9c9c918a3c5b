/**
 * Bench entry point: pack + encrypt to a null sink (no S3), so the engine can be compared with
 * `tar | gpg -c > /dev/null`. Usage: node dist/bench-pack.js PATH... (passphrase from
 * GLACIER_BACKUP_PASSPHRASE, compression from BENCH_COMPRESSION: auto, max or off; default auto).
 * Prints the ciphertext size.
 */
import '../src/cli/heap';
import type { Compression } from '../src/core/crypto/compress';
import { backup } from '../src/core/jobs/backup';
import { openStore } from '../src/core/jobs/openStore';

async function main(): Promise<void> {
  const paths = process.argv.slice(2);
  const passphrase = process.env.GLACIER_BACKUP_PASSPHRASE ?? 'bench';
  const store = { bucket: 'unused', prefix: 'bench/', storageClass: 'DEEP_ARCHIVE' as const, endpoint: 'http://127.0.0.1:9', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } };
  const compression = (process.env.BENCH_COMPRESSION ?? 'auto') as Compression;
  const res = await backup({ store: openStore({ kind: 's3', ...store }), paths, encryption: { mode: 'passphrase', passphrase }, discardOutput: true, exclude: [], compression });
  process.stdout.write(`${res.manifest?.archive.size ?? 0}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench-pack: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
