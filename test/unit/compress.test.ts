/**
 * Compressed archives and manifests (compress.ts, deflatePool.ts): stock `gpg -d` and our own
 * reader give back exactly the plaintext, for text, random, mixed, empty and 1-byte inputs, in
 * every setting and however the work is split; incompressible stretches are stored, not deflated;
 * the bytes do not depend on the number of workers or on how the plaintext is chunked.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { constants, deflateRawSync, inflateRawSync } from 'node:zlib';
import { parseManifestStream } from '../../src/core/catalog/manifest';
import { deflateLiteralSync, finalBlock, type Compression } from '../../src/core/crypto/compress';
import { deflateLiteral } from '../../src/core/crypto/deflatePool';
import { decryptBytes, decryptStream, encryptPieces, encryptStream, loadRecipients, newSeipdParams, type Encryption } from '../../src/core/crypto/openpgp';
import { encryptSeipdPieces, zipPacket, type SeipdParams } from '../../src/core/crypto/seipd';
import { Gpg } from '../helpers/gpg';

const passphrase = 'compression test passphrase';
const enc: Encryption = { mode: 'passphrase', passphrase };
const gpg = new Gpg();
const work = mkdtempSync(path.join(os.tmpdir(), 'gb-compress-'));
after(() => {
  gpg.dispose();
  rmSync(work, { recursive: true, force: true });
});

/** Text: lines of words from a small vocabulary, as source code and logs are. */
function text(bytes: number, seed = 1): Buffer {
  const words = Array.from({ length: 400 }, (_, i) => `w${((i * 2654435761) >>> 0).toString(36).slice(0, 3 + (i % 5))}`);
  let s = '';
  let x = seed;
  while (s.length < bytes) {
    x = (x * 1103515245 + 12345) >>> 0;
    s += words[x % words.length] + (x % 11 === 0 ? '\n' : ' ');
  }
  return Buffer.from(s.slice(0, bytes));
}

const inputs: [string, Buffer][] = [
  ['empty', Buffer.alloc(0)],
  ['1 byte', Buffer.of(0x41)],
  ['text (3.5 MiB)', text(3.5 * 2 ** 20)],
  ['random (2.3 MiB)', randomBytes(2.3 * 2 ** 20)],
  ['mixed: text, random, text, zeros', Buffer.concat([text(700_000), randomBytes(1_500_000), text(900_000, 7), Buffer.alloc(600_000)])],
];

async function* chunked(data: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let at = 0; at < data.length; at += size) yield Buffer.from(data.subarray(at, at + size));
}

async function collect(it: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const p of it) parts.push(p);
  return Buffer.concat(parts);
}

async function encrypt(data: Buffer, compression: Compression, chunk = 1 << 20, params?: SeipdParams): Promise<Buffer> {
  return collect(await encryptStream(chunked(data, chunk), enc, { compression, ...(params ? { params } : {}) }));
}

function gpgDecrypt(message: Buffer, name: string): { status: number; stdout: Buffer; stderr: string } {
  const file = path.join(work, name.replace(/\W+/g, '-'));
  writeFileSync(file, message);
  return gpg.decryptFileWithPassphrase(file, passphrase);
}

/** The data of a Literal Data packet (new format, partial lengths) whose header is 6 octets. */
function literalData(packet: Buffer): Buffer {
  assert.equal(packet[0], 0xcb);
  const parts: Buffer[] = [];
  for (let at = 1; ; ) {
    const o = packet[at++]!;
    let size: number;
    if (o < 192) size = o;
    else if (o < 224) size = ((o - 192) << 8) + packet[at++]! + 192;
    else if (o === 255) {
      size = packet.readUInt32BE(at);
      at += 4;
    } else size = 1 << (o & 0x1f);
    parts.push(packet.subarray(at, at + size));
    at += size;
    if (o < 224 || o === 255) break;
  }
  return Buffer.concat(parts).subarray(6);
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('compressed archives', () => {
  for (const compression of ['auto', 'max'] as const) {
    for (const [name, data] of inputs) {
      it(`${compression}, ${name}: gpg -d and our reader give the plaintext back`, async () => {
        const message = await encrypt(data, compression);
        const res = gpgDecrypt(message, `${compression}-${name}`);
        assert.equal(res.status, 0, res.stderr);
        assert.equal(sha(res.stdout), sha(data), 'gpg -d output equals the input');
        const packets = gpg.run(['--list-packets', '--passphrase', passphrase, path.join(work, `${compression}-${name}`.replace(/\W+/g, '-'))]);
        assert.match(packets.stdout.toString(), /:compressed packet: algo=1/, 'a ZIP compressed data packet');
        assert.equal(sha(Buffer.from(await decryptBytes(message, { passphrase }, 'the archive'))), sha(data), 'our reader');
      });
    }
  }

  it('stores what does not compress and deflates what does', async () => {
    const random = randomBytes(3 * 2 ** 20);
    const message = await encrypt(random, 'auto');
    // Stored blocks: 5 octets per 65,535; plus packet framing and the key packets.
    assert.ok(message.length < random.length * 1.0002 + 300, `random: ${message.length} for ${random.length}`);
    const stream = deflateLiteral(chunked(random, 1 << 20), { level: 1, chunkSize: 1 << 20 });
    await collect(stream);
    assert.ok(stream.stats.deflatedBytes < 1024, `${stream.stats.deflatedBytes} bytes of the random data were run through deflate (a short tail may be)`);
    const words = text(3 * 2 ** 20);
    const small = await encrypt(words, 'auto');
    assert.ok(small.length < words.length * 0.6, `text: ${small.length} for ${words.length}`);
    assert.ok((await encrypt(words, 'max')).length <= small.length, 'max is no larger than auto');
  });

  it('gives the same bytes for any number of workers and any chunking of the plaintext', async () => {
    const data = inputs[4]![1];
    const outputs = await Promise.all(
      [
        [1, 1 << 20],
        [2, 1 << 20],
        [3, 65_537],
        [2, 3 * 2 ** 20],
      ].map(([workers, chunk]) => collect(deflateLiteral(chunked(data, chunk!), { level: 1, chunkSize: 1 << 20, workers: workers!, workersAfter: 0 }))),
    );
    for (const out of outputs.slice(1)) assert.equal(sha(out), sha(outputs[0]!));
    // The stream inflates to the literal packet that seipd.ts writes uncompressed.
    const literal = inflateRawSync(outputs[0]!);
    assert.deepEqual(literal.subarray(0, 8), Buffer.from([0xcb, 0xe0 | 20, 0x62, 0, 0, 0, 0, 0]), 'tag 11, a partial length of 2^20, binary, no name, date 0');
    assert.equal(sha(literalData(literal)), sha(data));
  });

  it('small partial lengths: blocks shorter than the 32 KiB window still join into one stream', async () => {
    const data = inputs[4]![1].subarray(0, 300_000);
    const params = { ...(await newSeipdParams(enc)), chunkSize: 512 };
    const message = await encrypt(data, 'auto', 10_000, params);
    const res = gpgDecrypt(message, 'small-partials');
    assert.equal(res.status, 0, res.stderr);
    assert.equal(sha(res.stdout), sha(data));
    const pieces = collect(deflateLiteral(chunked(data, 777), { level: 1, chunkSize: 512 }));
    assert.equal(sha(literalData(inflateRawSync(await pieces))), sha(data));
  });
});

describe('compressed manifests', () => {
  it('are read back by gpg -d and by our reader, and are smaller', async () => {
    const json = Array.from({ length: 20_000 }, (_, i) => `{"path":"src/dir${i % 50}/file${i}.ts","type":"file","size":${i * 7},"mode":420}`);
    const pieces = ['{"entries":[', ...json.map((j, i) => (i ? `,${j}` : j)), ']}'];
    const whole = Buffer.from(pieces.join(''));
    const zipped = await collect(encryptPieces(pieces, enc, 'auto'));
    const plain = await collect(encryptPieces(pieces, enc, 'off'));
    assert.ok(zipped.length < plain.length / 4, `${zipped.length} against ${plain.length}`);
    const res = gpgDecrypt(zipped, 'manifest');
    assert.equal(res.status, 0, res.stderr);
    assert.equal(sha(res.stdout), sha(whole));
    assert.equal(sha(Buffer.from(await decryptBytes(zipped, { passphrase }, 'the manifest'))), sha(whole));
  });

  it('starts no worker for the first 4 MiB to deflate (a small archive), and the same bytes come out', async () => {
    const data = text(6 * 2 ** 20);
    const runs = [undefined, 0, 8 << 20].map((workersAfter) => {
      const stream = deflateLiteral(chunked(data.subarray(0, 3 * 2 ** 20), 1 << 20), { level: 1, chunkSize: 1 << 20, ...(workersAfter === undefined ? {} : { workersAfter }) });
      return { stream, out: collect(stream) };
    });
    const big = deflateLiteral(chunked(data, 1 << 20), { level: 1, chunkSize: 1 << 20, workers: 2 });
    const bigOut = await collect(big);
    const outs = await Promise.all(runs.map((r) => r.out));
    assert.deepEqual(
      runs.map((r) => r.stream.stats.workers),
      [0, os.availableParallelism(), 0],
    );
    assert.equal(big.stats.workers, 2, 'past 4 MiB the workers start');
    for (const out of outs.slice(1)) assert.equal(sha(out), sha(outs[0]!));
    assert.equal(sha(literalData(inflateRawSync(bigOut))), sha(data));
  });

  it('the main-thread stream equals the workers\' one on text (every block deflated)', async () => {
    const data = text(2.5 * 2 ** 20);
    const sync = Buffer.concat([...deflateLiteralSync([data], 1, 1 << 20)]);
    const pooled = await collect(deflateLiteral(chunked(data, 1 << 20), { level: 1, chunkSize: 1 << 20, workersAfter: 0 }));
    assert.deepEqual(inflateRawSync(sync), inflateRawSync(pooled));
  });
});

describe('a hostile compressed stream', () => {
  it('a ZIP bomb manifest (1 GiB of JSON whitespace in under 2 MB) is refused at the limit, its memory bounded', async () => {
    // Old-format literal packet of indeterminate length (tag 11, length type 3), binary, no name.
    const head = deflateRawSync(Buffer.concat([Buffer.of(0xaf, 0x62, 0, 0, 0, 0, 0), Buffer.from('{"format":"glacier-backup/manifest","entries":[')]), {
      finishFlush: constants.Z_SYNC_FLUSH,
    });
    // Each piece ends byte-aligned and refers only to itself: repeated, they stay one valid stream.
    const spaces = deflateRawSync(Buffer.alloc(16 << 20, 0x20), { level: 9, finishFlush: constants.Z_SYNC_FLUSH });
    const pieces = [head, ...Array.from({ length: 64 }, () => spaces), finalBlock];
    const bomb = Buffer.concat([...encryptSeipdPieces(pieces, await newSeipdParams(enc), zipPacket)]);
    assert.ok(bomb.length < 2_000_000, `${bomb.length} bytes`);
    global.gc?.();
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    try {
      const plaintext = await decryptStream(chunked(bomb, 1 << 16), { passphrase }, 'the manifest');
      await assert.rejects(parseManifestStream(plaintext, '20261201T000000Z-0123456789abcdef'), /refused: .*limit of this version/);
    } finally {
      clearInterval(sampler);
    }
    assert.ok(peak - before < 128 * 2 ** 20, `RSS grew by ${Math.round((peak - before) / 2 ** 20)} MiB`);
  });
});

describe('compressed archives in public-key mode', () => {
  it('gpg -d opens and decompresses an archive for a Curve25519 recipient (auto and max)', async () => {
    const key = gpg.generateKey('Compress <compress@example.org>', 'key-pass', 'future-default');
    const recipients = await loadRecipients([{ name: 'compress.asc', data: key.publicKey }]);
    const data = inputs[4]![1];
    for (const compression of ['auto', 'max'] as const) {
      const message = await collect(await encryptStream(chunked(data, 1 << 20), { mode: 'public-key', recipients }, { compression }));
      const file = path.join(work, `public-key-${compression}`);
      writeFileSync(file, message);
      const res = gpg.decryptFile(file, 'key-pass');
      assert.equal(res.status, 0, res.stderr);
      assert.equal(sha(res.stdout), sha(data), compression);
    }
  });
});
