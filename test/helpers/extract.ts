/** Tar fixtures for the safe extractor's tests: tars built in memory, fed in odd-sized chunks, into a staging root with a watched sibling. */
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import * as tar from 'tar-stream';
import { extractTar, type ExtractOptions } from '../../src/core/pack/safeExtract';
import { GlacierError } from '../../src/core/errors';
import { tempDir } from './tree';

export type Spec = Parameters<tar.Pack['entry']>[0] & { body?: string | Buffer };

export async function makeTar(entries: readonly Spec[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const collected = (async () => {
    for await (const c of pack) chunks.push(c as Buffer);
  })();
  for (const { body, ...header } of entries) {
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null): void => (err ? reject(err) : resolve());
      if (body !== undefined) pack.entry(header, body, cb);
      else pack.entry(header, cb);
    });
  }
  pack.finalize();
  await collected;
  return Buffer.concat(chunks);
}

/** The bytes in odd-sized chunks, so that headers and data straddle chunk boundaries. */
export async function* from(buf: Buffer, size = 777): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < buf.length; i += size) yield new Uint8Array(buf.subarray(i, i + size));
}

/** A staging root with an empty sibling "outside" that must stay empty. */
export function stage(): { parent: string; root: string; outside: string } {
  const parent = tempDir('gb-extract-');
  const root = path.join(parent, 'root');
  const outside = path.join(parent, 'outside');
  mkdirSync(root);
  mkdirSync(outside);
  return { parent, root, outside };
}

export function assertNothingOutside(s: { parent: string; outside: string }): void {
  assert.deepEqual(readdirSync(s.outside), [], 'nothing written in the sibling folder');
  assert.deepEqual(readdirSync(s.parent).sort(), ['outside', 'root'], 'nothing written next to the root');
}

export async function assertRefused(entries: readonly Spec[] | ((outside: string) => Spec[]), message: RegExp, options: Partial<ExtractOptions> = {}): Promise<void> {
  const s = stage();
  const bytes = await makeTar(typeof entries === 'function' ? entries(s.outside) : entries);
  await assert.rejects(extractTar(from(bytes), { root: s.root, ...options }), (err: unknown) => {
    assert.ok(err instanceof GlacierError, String(err));
    assert.equal(err.code, 'corrupt');
    assert.match(err.message, message);
    return true;
  });
  assertNothingOutside(s);
}
