/**
 * Hostile framing inside an encrypted message, built by hand (test/helpers/pgpCraft.ts): packets
 * the format does not allow after the literal data, too many skipped packets, and bodies cut into
 * 1-byte partial lengths, which must cost no more per byte than normal framing.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { deflateRawSync, deflateSync } from 'node:zlib';
import { decryptStream } from '../../src/core/crypto/openpgp';
import { literalBody, messageOf, packet, partialPacket, tag } from '../helpers/pgpCraft';

const passphrase = 'framing passphrase';

async function decrypt(message: Uint8Array, piece = 65536): Promise<Buffer> {
  const out: Uint8Array[] = [];
  const source = (async function* () {
    for (let at = 0; at < message.byteLength; at += piece) yield message.subarray(at, at + piece);
  })();
  for await (const part of await decryptStream(source, { passphrase }, 'the object')) out.push(part);
  return Buffer.concat(out);
}

/** A one-pass signature packet body (§5.4): v3, binary, SHA-256, RSA, a key id, last. */
const onePass = (): Buffer => packet(tag.onePass, Buffer.concat([Buffer.of(3, 0, 8, 1), randomBytes(8), Buffer.of(1)]));
const signature = (): Buffer => packet(tag.signature, randomBytes(40));
const literal = (data: Uint8Array): Buffer => packet(tag.literal, literalBody(data));

describe('what may follow the literal data', () => {
  it('reads a literal packet alone, and one with its one-pass signature and signature', async () => {
    const data = randomBytes(5000);
    assert.deepEqual(await decrypt(messageOf(literal(data), passphrase)), data);
    assert.deepEqual(await decrypt(messageOf(Buffer.concat([onePass(), literal(data), signature()]), passphrase)), data);
  });

  it('refuses a second literal packet', async () => {
    const inner = Buffer.concat([literal(Buffer.from('first')), literal(Buffer.from('second, which was silently ignored'))]);
    await assert.rejects(decrypt(messageOf(inner, passphrase)), /^GlacierError: the object is damaged \(a packet with tag 11 follows its data\)$/);
  });

  it('refuses a second literal packet after a compressed one', async () => {
    const compressed = packet(tag.compressed, Buffer.concat([Buffer.of(1), deflateRawSync(literal(Buffer.from('first')))]));
    const inner = Buffer.concat([compressed, literal(Buffer.from('second'))]);
    await assert.rejects(decrypt(messageOf(inner, passphrase)), /^GlacierError: the object is damaged \(a packet follows its compressed data\)$/);
  });

  it('refuses a literal packet inside the compressed one after the first', async () => {
    const compressed = packet(tag.compressed, Buffer.concat([Buffer.of(2), deflateSync(Buffer.concat([literal(Buffer.from('a')), literal(Buffer.from('b'))]))]));
    await assert.rejects(decrypt(messageOf(compressed, passphrase)), /the object is damaged \(a packet with tag 11 follows its data\)/);
  });

  it('refuses a signature after the data with no one-pass signature before it, and other packets', async () => {
    await assert.rejects(decrypt(messageOf(Buffer.concat([literal(Buffer.from('x')), signature()]), passphrase)), /a signature packet follows its data with no one-pass signature before it/);
    await assert.rejects(decrypt(messageOf(Buffer.concat([literal(Buffer.from('x')), onePass()]), passphrase)), /a packet with tag 4 follows its data/);
  });

  it('refuses a compressed packet inside a compressed packet (one layer only)', async () => {
    const once = packet(tag.compressed, Buffer.concat([Buffer.of(1), deflateRawSync(literal(Buffer.from('x')))]));
    const twice = packet(tag.compressed, Buffer.concat([Buffer.of(1), deflateRawSync(once)]));
    assert.deepEqual(await decrypt(messageOf(once, passphrase)), Buffer.from('x'));
    await assert.rejects(decrypt(messageOf(twice, passphrase)), /^GlacierError: the object is damaged \(it holds a packet with tag 8 where its data should be\)$/);
  });

  it('reads a literal packet with the longest file name (255 octets)', async () => {
    const inner = packet(tag.literal, literalBody(Buffer.from('data'), 'n'.repeat(255)));
    assert.deepEqual(await decrypt(messageOf(inner, passphrase)), Buffer.from('data'));
  });

  it('refuses more than 32 packets skipped before the data, or after it', async () => {
    const many = (n: number): Buffer => Buffer.concat([...Array.from({ length: n }, onePass), literal(Buffer.from('x')), ...Array.from({ length: n }, signature)]);
    assert.deepEqual(await decrypt(messageOf(many(32), passphrase)), Buffer.from('x'));
    await assert.rejects(decrypt(messageOf(many(33), passphrase)), /^GlacierError: the object is damaged \(more than 32 signature packets around its data\)$/);
    const padded = Buffer.concat([literal(Buffer.from('x')), ...Array.from({ length: 33 }, () => packet(tag.padding, randomBytes(8)))]);
    await assert.rejects(decrypt(messageOf(padded, passphrase)), /^GlacierError: the object is damaged \(more than 32 packets follow its data\)$/);
  });
});

describe('partial lengths cost the same per byte however small', () => {
  it('a 300 KB message in 1-byte partial pieces (literal and SEIPD) decrypts quickly and byte-identical', async () => {
    const data = randomBytes(300_000);
    const inner = partialPacket(tag.literal, literalBody(data), 512, 1);
    const message = messageOf(inner, passphrase, (body) => partialPacket(tag.seipd, body, 512, 1));
    assert.ok(message.byteLength > 1_100_000, 'about 4 framed bytes per plaintext byte');
    const started = Date.now();
    assert.deepEqual(await decrypt(message), data);
    const took = Date.now() - started;
    assert.ok(took < 2000, `took ${took} ms`);
  });

  it('the same message arriving a few bytes at a time', async () => {
    const data = randomBytes(20_000);
    const message = messageOf(partialPacket(tag.literal, literalBody(data), 512, 1), passphrase, (body) => partialPacket(tag.seipd, body, 512, 2));
    assert.deepEqual(await decrypt(message, 3), data);
  });
});
