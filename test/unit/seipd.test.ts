import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createDecipheriv, createHash, randomBytes } from 'node:crypto';
import * as openpgp from 'openpgp';
import { bodyLength, encryptSeipdSync, partialLength, type SeipdParams } from '../../src/core/crypto/seipd';
import { encryptSeipd } from '../../src/core/crypto/seipdStream';
import { decryptBytes, decryptStream, newSeipdParams } from '../../src/core/crypto/openpgp';

/** One packet as read back by an independent parser: its tag, body, and the body's length headers. */
interface Packet {
  tag: number;
  body: Buffer;
  /** Each length header: a partial length (2^k) or the final normal length. */
  lengths: { partial: boolean; size: number }[];
}

/** A minimal RFC 4880 §4.2 new-format packet reader (the only format we write). */
function readPackets(data: Buffer): Packet[] {
  const packets: Packet[] = [];
  let at = 0;
  while (at < data.length) {
    const first = data[at++]!;
    assert.equal(first & 0xc0, 0xc0, `new-format packet header at ${at - 1}`);
    const parts: Buffer[] = [];
    const lengths: Packet['lengths'] = [];
    for (;;) {
      const o = data[at++]!;
      let size: number;
      let partial = false;
      if (o < 192) size = o;
      else if (o < 224) size = ((o - 192) << 8) + data[at++]! + 192;
      else if (o === 255) {
        size = data.readUInt32BE(at);
        at += 4;
      } else {
        size = 1 << (o & 0x1f);
        partial = true;
      }
      lengths.push({ partial, size });
      parts.push(data.subarray(at, at + size));
      at += size;
      assert.ok(at <= data.length, 'packet runs past the end');
      if (!partial) break;
    }
    packets.push({ tag: first & 0x3f, body: Buffer.concat(parts), lengths });
  }
  return packets;
}

/** Decrypts our message with the session key, independently of the writer: checks prefix, MDC. */
function openWithSessionKey(message: Buffer, params: SeipdParams): { literal: Packet; plaintext: Buffer } {
  const packets = readPackets(message);
  const seipd = packets.at(-1)!;
  assert.equal(seipd.tag, 18);
  assert.equal(seipd.body[0], 1, 'SEIPD version 1');
  const decipher = createDecipheriv(`aes-${params.sessionKey.length * 8}-cfb`, params.sessionKey, Buffer.alloc(16));
  const plain = Buffer.concat([decipher.update(seipd.body.subarray(1)), decipher.final()]);
  assert.deepEqual(plain.subarray(14, 16), plain.subarray(16, 18), 'prefix check bytes');
  assert.deepEqual(plain.subarray(0, 16), Buffer.from(params.prefix));
  const mdc = plain.subarray(plain.length - 22);
  assert.deepEqual(mdc.subarray(0, 2), Buffer.from([0xd3, 0x14]));
  assert.deepEqual(mdc.subarray(2), createHash('sha1').update(plain.subarray(0, plain.length - 20)).digest(), 'MDC');
  const inner = readPackets(plain.subarray(18, plain.length - 22));
  assert.equal(inner.length, 1);
  const literal = inner[0]!;
  assert.equal(literal.tag, 11);
  assert.deepEqual(literal.body.subarray(0, 6), Buffer.from([0x62, 0, 0, 0, 0, 0]), "binary, no file name, date 0");
  return { literal, plaintext: literal.body.subarray(6) };
}

function params(chunkSize?: number): SeipdParams {
  return { algorithm: 'aes256', sessionKey: randomBytes(32), prefix: randomBytes(16), keyPackets: Buffer.alloc(0), chunkSize };
}

async function collect(it: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const p of it) parts.push(p);
  return Buffer.concat(parts);
}

async function* split(data: Buffer, sizes: number[]): AsyncGenerator<Buffer> {
  let at = 0;
  for (let i = 0; at < data.length; i++) {
    const n = sizes[i % sizes.length]!;
    yield data.subarray(at, at + n);
    at += n;
  }
}

function checkLengths(p: Packet, chunk: number): void {
  const last = p.lengths.at(-1)!;
  assert.equal(last.partial, false, 'the last length is a normal one');
  assert.ok(last.size > 0 || p.lengths.length === 1, 'no zero-length tail after partial lengths');
  assert.ok(last.size <= chunk);
  for (const l of p.lengths.slice(0, -1)) {
    assert.equal(l.partial, true);
    assert.equal(l.size, chunk);
  }
  if (p.lengths.length > 1) assert.ok(p.lengths[0]!.size >= 512, 'first partial length ≥ 512');
}

describe('length headers (RFC 4880 §4.2.2)', () => {
  it('encodes one-, two- and five-octet lengths at their limits', () => {
    assert.deepEqual(bodyLength(0), Buffer.from([0]));
    assert.deepEqual(bodyLength(191), Buffer.from([191]));
    assert.deepEqual(bodyLength(192), Buffer.from([192, 0]));
    assert.deepEqual(bodyLength(1723), Buffer.from([197, 251])); // RFC 4880's own example
    assert.deepEqual(bodyLength(8383), Buffer.from([223, 255]));
    assert.deepEqual(bodyLength(8384), Buffer.from([255, 0, 0, 0x20, 0xc0]));
    assert.deepEqual(bodyLength(100000), Buffer.from([255, 0, 1, 0x86, 0xa0])); // RFC 4880's example
  });

  it('encodes partial lengths as 224 + log2 and refuses anything else', () => {
    assert.deepEqual(partialLength(1), Buffer.from([224]));
    assert.deepEqual(partialLength(512), Buffer.from([233]));
    assert.deepEqual(partialLength(1 << 20), Buffer.from([244]));
    assert.deepEqual(partialLength(2 ** 30), Buffer.from([254]));
    assert.throws(() => partialLength(1000), /not a partial body length/);
    assert.throws(() => encryptSeipdSync(Buffer.alloc(1), params(256)), /power of two from 512/);
    assert.throws(() => encryptSeipdSync(Buffer.alloc(1), params(3000)), /power of two from 512/);
  });
});

describe('SEIPD v1 writer', () => {
  const chunk = 512;
  // The literal body is 6 header octets + the data; the SEIPD body is 1 + 18 + literal packet + 22.
  const sizes = [0, 1, 185, 186, 187, chunk - 7, chunk - 6, chunk - 5, chunk, 2 * chunk - 6, 2 * chunk - 5, 5000, 70_000];

  for (const size of sizes) {
    it(`frames and encrypts ${size} bytes (chunk ${chunk}) so that an independent reader and openpgp.js agree`, async () => {
      const data = randomBytes(size);
      const p = params(chunk);
      const message = encryptSeipdSync(data, p);
      const outer = readPackets(message);
      assert.equal(outer.length, 1);
      checkLengths(outer[0]!, chunk);
      const { literal, plaintext } = openWithSessionKey(message, p);
      checkLengths(literal, chunk);
      assert.deepEqual(plaintext, data);
      const expectedLiteralLengths = 6 + size > chunk ? Math.ceil((6 + size) / chunk) : 1;
      assert.equal(literal.lengths.length, expectedLiteralLengths);

      const viaOpenpgp = await openpgp.decrypt({
        message: await openpgp.readMessage({ binaryMessage: message }),
        sessionKeys: { data: p.sessionKey, algorithm: 'aes256' },
        format: 'binary',
      });
      assert.deepEqual(Buffer.from(viaOpenpgp.data as Uint8Array), data);
    });
  }

  it('places every chunk boundary right, including inside the prefix and the MDC, for every size around two chunks', async () => {
    const p = params(chunk);
    for (let size = 2 * chunk - 80; size <= 2 * chunk + 20; size++) {
      const data = randomBytes(size);
      const message = encryptSeipdSync(data, p);
      checkLengths(readPackets(message)[0]!, chunk);
      assert.ok(openWithSessionKey(message, p).plaintext.equals(data), `size ${size}`);
      if (size % 10 === 0) assert.ok((await collect(encryptSeipd(split(data, [100]), p, { thread: 'worker' }))).equals(message), `worker, size ${size}`);
    }
  });

  it('writes the default 1 MiB chunks for a large stream, on a worker and on this thread alike', async () => {
    const data = randomBytes(5 * (1 << 20) + 12345);
    const p = params();
    const workerStream = encryptSeipd(split(data, [1 << 20, 77, 300_000]), p, { thread: 'worker' });
    const mainStream = encryptSeipd(split(data, [65536]), p, { thread: 'main' });
    assert.equal(workerStream.summary, undefined, 'no summary before the end');
    const onWorker = await collect(workerStream);
    const onMain = await collect(mainStream);
    assert.ok(onWorker.equals(onMain));
    for (const stream of [workerStream, mainStream]) {
      assert.deepEqual(stream.summary, { size: onWorker.length, sha256: createHash('sha256').update(onWorker).digest('hex') });
    }
    const [outer] = readPackets(onWorker);
    checkLengths(outer!, 1 << 20);
    assert.equal(outer!.lengths.length, 6);
    const { literal, plaintext } = openWithSessionKey(onWorker, p);
    checkLengths(literal, 1 << 20);
    assert.ok(plaintext.equals(data));
  });

  it('takes over owned chunks without copying them, and hands each back once, after its bytes are encrypted', async () => {
    const data = randomBytes(3 * (1 << 20) + 4321);
    const p = params();
    const owned: Buffer[] = [];
    for (let at = 0; at < data.length; at += 1 << 20) owned.push(Buffer.from(data.subarray(at, at + (1 << 20))));
    const backing = new Set<ArrayBufferLike>(owned.map((c) => c.buffer));
    const handedBack: Buffer[] = [];
    async function* source(): AsyncGenerator<Buffer> {
      yield* owned;
    }
    const out = await collect(encryptSeipd(source(), p, { thread: 'worker', recycle: (c) => handedBack.push(c) }));
    assert.ok(out.equals(encryptSeipdSync(data, p)), 'the same bytes as without a worker');
    assert.ok(owned.every((c) => c.byteLength === 0), 'transferred, not copied: the originals are detached');
    assert.equal(handedBack.length, owned.length);
    assert.equal(new Set(handedBack.map((c) => c.buffer)).size, owned.length, 'each once');
    assert.ok(handedBack.every((c) => !backing.has(c.buffer) && c.byteLength > 0), 'handed back as usable buffers');
  });

  it('is deterministic: the same params and plaintext give the same bytes however the input is split', async () => {
    const data = randomBytes(200_000);
    const p = params(1024);
    const whole = encryptSeipdSync(data, p);
    for (const sizes of [[1], [511, 513], [1024], [4096, 3], [200_000]]) {
      const piecewise = await collect(encryptSeipd(split(data, sizes.length === 1 && sizes[0] === 1 ? [1, 9999] : sizes), p, { thread: 'main' }));
      assert.ok(piecewise.equals(whole), `split ${sizes.join(',')}`);
    }
    assert.ok((await collect(encryptSeipd(split(data, [3333]), p, { thread: 'worker' }))).equals(whole));
    const other = encryptSeipdSync(data, { ...p, prefix: randomBytes(16) });
    assert.ok(!other.equals(whole), 'another prefix gives another ciphertext');
  });

  it('writes an empty stream as a valid message', async () => {
    const p = params();
    const empty = await collect(encryptSeipd(split(Buffer.alloc(0), [1]), p, { thread: 'worker' }));
    assert.ok(empty.equals(encryptSeipdSync(Buffer.alloc(0), p)));
    assert.equal(openWithSessionKey(empty, p).plaintext.length, 0);
  });

  it('by default chooses this thread for a source that ends within 8 MiB, a worker past it; the same bytes', async () => {
    const data = randomBytes(3 * (1 << 20) + 7);
    const p = params();
    const reference = await collect(encryptSeipd(split(data, [1 << 20]), p, { thread: 'main' }));
    const small = encryptSeipd(split(data, [1 << 20]), p);
    const past = encryptSeipd(split(data, [1 << 20]), p, { workerAfter: 2 << 20 });
    assert.equal(small.thread, undefined, 'chosen once read');
    assert.ok((await collect(small)).equals(reference));
    assert.ok((await collect(past)).equals(reference));
    assert.deepEqual([small.thread, past.thread], ['main', 'worker']);
    assert.equal(past.summary?.sha256, createHash('sha256').update(reference).digest('hex'));
  });

  // Chosen by default (`workerAfter`) or asked for, a worker stops with the consumer and fails with the source.
  for (const [how, options] of [['a worker', { thread: 'worker' }], ['a worker chosen', { workerAfter: 2 << 20 }]] as const) {
    it(`stops ${how} and the source when the consumer stops early`, async () => {
      let closed = false;
      async function* source(): AsyncGenerator<Buffer> {
        try {
          for (;;) yield randomBytes(1 << 20);
        } finally {
          closed = true;
        }
      }
      let seen = 0;
      for await (const piece of encryptSeipd(source(), params(), options)) {
        seen += piece.length;
        if (seen > 3 << 20) break;
      }
      assert.ok(closed, 'the source was closed');
    });

    it(`fails the stream on ${how} when the source fails`, async () => {
      async function* source(): AsyncGenerator<Buffer> {
        yield randomBytes(5000);
        throw new Error('disk on fire');
      }
      await assert.rejects(collect(encryptSeipd(source(), params(), options)), /disk on fire/);
    });
  }
});

describe('messages with openpgp.js key packets', () => {
  it('open with the passphrase through openpgp.js, whole and streamed, and refuse a flipped bit', async () => {
    const data = randomBytes(3 * (1 << 20) + 5);
    const p = await newSeipdParams({ mode: 'passphrase', passphrase: 'correct horse' });
    const message = await collect(encryptSeipd(split(data, [1 << 20]), p));
    assert.ok(Buffer.from(await decryptBytes(message, { passphrase: 'correct horse' }, 'm')).equals(data));
    const web = new Blob([new Uint8Array(message)]).stream() as ReadableStream<Uint8Array>;
    const plain = await decryptStream(web as unknown as AsyncIterable<Uint8Array>, { passphrase: 'correct horse' }, 'm');
    assert.ok((await collect(plain as unknown as AsyncIterable<Buffer>)).equals(data));

    const flipped = Buffer.from(message);
    flipped[flipped.length - 100_000]! ^= 0x10;
    await assert.rejects(decryptBytes(flipped, { passphrase: 'correct horse' }, 'the archive'), /the archive failed its integrity check/);
    await assert.rejects(decryptBytes(message, { passphrase: 'wrong' }, 'the archive'), /wrong passphrase or key/);
  });

  it('a wrong passphrase that opens a plausible session key is still named a wrong passphrase, not damage', async () => {
    // About 1 in 256 wrong passphrases decrypt the SKESK to a valid-looking key; the data then
    // fails its MDC. Same situation, made deterministic: key packets for one key, data under another.
    const p = await newSeipdParams({ mode: 'passphrase', passphrase: 'pw' });
    const other: SeipdParams = { ...p, sessionKey: randomBytes(32) };
    const message = encryptSeipdSync(randomBytes(1000), other);
    await assert.rejects(decryptBytes(message, { passphrase: 'pw' }, 'the manifest'), /^GlacierError: cannot open the manifest: wrong passphrase or key$|cannot open the manifest: wrong passphrase or key$/);
    // The right key with damaged data is still damage.
    const good = Buffer.from(encryptSeipdSync(randomBytes(1000), p));
    good[good.length - 30]! ^= 1;
    await assert.rejects(decryptBytes(good, { passphrase: 'pw' }, 'the manifest'), /the manifest failed its integrity check/);
  });
});
