/**
 * BZIP2 compressed messages, read by our own streaming decompressor (src/core/crypto/bzip2.ts)
 * instead of openpgp.js, whose streaming reader hung on a damaged one (issue 13): what gpg and
 * bzip2 write decompresses byte-identical, in one block or many; every damaged byte ends in a
 * clear error within seconds; a bomb is read in bounded pieces.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { bunzip2 } from '../../src/core/crypto/bzip2';
import { openMessage } from '../../src/core/crypto/messageReader';
import { decryptStream } from '../../src/core/crypto/openpgp';
import { GlacierError } from '../../src/core/errors';
import { Gpg } from '../helpers/gpg';

const passphrase = 'bzip2 passphrase';
const gpg = new Gpg();
let work: string;
before(() => {
  work = mkdtempSync(path.join(os.tmpdir(), 'gb-bzip2-'));
});
after(() => {
  gpg.dispose();
  rmSync(work, { recursive: true, force: true });
});

function bzip2(data: Buffer, level = 9): Buffer {
  const res = spawnSync('bzip2', [`-${level}`, '-c'], { input: data, maxBuffer: 1 << 30 });
  assert.equal(res.status, 0);
  return res.stdout;
}

/** What `gpg -c --compress-algo bzip2` writes (level 1: blocks of 100,000 bytes); a salted S2K keeps each try quick. */
function gpgBzip2(data: Buffer, level = 6): Buffer {
  const file = path.join(work, `plain-${randomBytes(4).toString('hex')}`);
  writeFileSync(file, data);
  const res = gpg.run(['--passphrase-fd', '0', '--symmetric', '--compress-algo', 'bzip2', '--bzip2-compress-level', String(level), '--s2k-mode', '1', '--output', '-', file], `${passphrase}\n`);
  assert.equal(res.status, 0, res.stderr);
  return res.stdout;
}

async function* pieces(data: Uint8Array, size = 4096): AsyncGenerator<Buffer> {
  for (let at = 0; at < data.byteLength; at += size) yield Buffer.from(data.subarray(at, at + size));
}

async function collect(source: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const piece of source) out.push(Buffer.from(piece));
  return Buffer.concat(out);
}

/** Text that compresses, runs (the RLE1 of bzip2), and bytes that do not. */
function mixed(size: number): Buffer {
  const parts: Buffer[] = [];
  for (let n = 0; n < size; ) {
    const part = [Buffer.from('a line of a text file that repeats\n'.repeat(300)), Buffer.alloc(700 + (n % 300), n % 256), randomBytes(5000)][parts.length % 3]!;
    parts.push(part);
    n += part.byteLength;
  }
  return Buffer.concat(parts).subarray(0, size);
}

describe('bzip2 streams', () => {
  it('decompress byte-identical: empty, tiny, runs of every length, many blocks, two streams', async () => {
    const runs = Buffer.concat(Array.from({ length: 300 }, (_, i) => Buffer.alloc(i, i % 256)));
    for (const [name, data, level] of [
      ['empty', Buffer.alloc(0), 9],
      ['tiny', Buffer.from('x'), 9],
      ['runs', runs, 9],
      ['1 MB in 100k blocks', mixed(1_000_000), 1],
    ] as const) {
      assert.deepEqual(await collect(bunzip2(pieces(bzip2(data, level)), 'm')), data, name);
    }
    const two = Buffer.concat([bzip2(Buffer.from('one ')), bzip2(Buffer.from('two'))]);
    assert.deepEqual(await collect(bunzip2(pieces(two, 1), 'm')), Buffer.from('one two'));
  });

  it('a bomb (20 MB of zeros in 100 bytes) comes out in pieces of at most 64 KiB, as they are read', async () => {
    const bomb = bzip2(Buffer.alloc(20_000_000));
    assert.ok(bomb.byteLength < 200);
    let largest = 0;
    let total = 0;
    for await (const piece of bunzip2(pieces(bomb), 'm')) {
      largest = Math.max(largest, piece.byteLength);
      total += piece.byteLength;
    }
    assert.equal(total, 20_000_000);
    assert.ok(largest <= 65536, `largest piece ${largest}`);
  });

  it('damage ends in one clear error: header, truncation, checksums, garbage', async () => {
    const good = bzip2(mixed(50_000));
    const cases: [string, Buffer][] = [
      ['no header', Buffer.from('not bzip2 at all')],
      ['bad level', Buffer.concat([Buffer.from('BZh0'), good.subarray(4)])],
      ['truncated', good.subarray(0, good.byteLength - 100)],
      ['cut after the header', good.subarray(0, 6)],
      ['random bytes after a header', Buffer.concat([good.subarray(0, 4), randomBytes(20_000)])],
    ];
    for (let at = 4; at < 200; at += 7) {
      const damaged = Buffer.from(good);
      damaged[at]! ^= 0x10;
      cases.push([`flipped byte ${at}`, damaged]);
    }
    for (const [name, data] of cases) {
      await assert.rejects(collect(bunzip2(pieces(data), 'm')), (err: unknown) => {
        assert.ok(err instanceof GlacierError, `${name}: ${String(err)}`);
        assert.match(err.message, /^m is damaged \(in its bzip2 data: [A-Za-z ]+\)$/, name);
        return true;
      });
    }
  });
});

describe('gpg --compress-algo bzip2 messages', () => {
  it('are read by our reader, small and multi-block, byte-identical', async () => {
    for (const [data, level] of [[Buffer.from('small\n'), 6], [mixed(450_000), 1]] as const) {
      const message = gpgBzip2(data, level);
      const opened = await openMessage(pieces(message), { passphrases: [passphrase] }, 'm');
      assert.ok('plaintext' in opened, 'our reader, not openpgp.js');
      assert.deepEqual(await collect(opened.plaintext), data);
    }
  });

  it('every flipped byte in its first 160 bytes, and at offsets 40, 60, 100, ends in a clear error within seconds', async () => {
    const message = gpgBzip2(mixed(60_000));
    for (let at = 0; at < 160; at++) {
      const damaged = Buffer.from(message);
      damaged[at]! ^= at % 2 ? 0x01 : 0x80;
      const started = Date.now();
      await assert.rejects(
        (async () => collect(await decryptStream(pieces(damaged), { passphrase }, 'the object')))(),
        (err: unknown) => {
          assert.ok(err instanceof GlacierError, `byte ${at}: ${String(err)}`);
          assert.match(err.message, /^(cannot open the object: wrong passphrase or key|the object (is damaged|failed its integrity check) \(.+\)|the object is not an OpenPGP message|the object is not encrypted)$/, `byte ${at}`);
          return true;
        },
      );
      assert.ok(Date.now() - started < 5000, `byte ${at} took ${Date.now() - started} ms`);
    }
  });
});
