/**
 * Throughput of the content-defined chunker (src/core/pack/incremental/chunker.ts), cutting and
 * hashing random data in 1 MiB pushes. Usage: node --import tsx bench/chunker.ts [MiB, default 256]
 */
import { randomBytes } from 'node:crypto';
import { Chunker } from '../src/core/pack/incremental/chunker';

const mib = Number(process.argv[2] ?? '256');
const block = randomBytes(64 << 20);
const chunker = new Chunker();
let chunks = 0;
const start = performance.now();
for (let done = 0; done < mib; done++) {
  const at = (done % 64) << 20;
  chunks += chunker.push(block.subarray(at, at + (1 << 20))).length;
}
chunks += chunker.finish().length;
const seconds = (performance.now() - start) / 1000;
process.stdout.write(`${mib} MiB in ${seconds.toFixed(2)} s: ${(mib / seconds).toFixed(0)} MiB/s, ${chunks} chunks (mean ${(mib / chunks).toFixed(2)} MiB)\n`);
