/**
 * A streaming reader of OpenPGP messages, on Node's crypto and zlib: the session-key packets, one
 * Symmetrically Encrypted Integrity Protected Data packet, version 1 (RFC 4880 §5.13), its
 * Modification Detection Code checked at the very end (§5.14), and inside it a Literal Data
 * packet (§5.9), compressed (ZIP, ZLIB or BZIP2, §5.6; bzip2.ts) or not, with the one-pass
 * signatures before it and their signatures after it skipped (not verified). That is what we
 * write, and what GnuPG writes for `--symmetric` and `--encrypt` by default.
 *
 * Every message is untrusted input: lengths are checked against what is there, nothing is held
 * beyond a chunk, and each session key is tried against the two check bytes of the encrypted
 * prefix, so a wrong passphrase or key fails before any plaintext (a wrong one passes the check
 * 1 in 65,536 times; the damage then shows in what follows, or at the latest in the MDC).
 *
 * What it does not read goes, from the first byte, to openpgp.js: SEIPD v2 and other AEAD
 * packets, and SEIPD v1 under Twofish or a cipher this OpenSSL lacks. openpgp.js also opens the
 * session-key packets this reader does not (recipients' keys, together; each passphrase packet
 * with an Argon2 S2K or of version 5 or 6, alone); the data is still ours to decrypt. Before any
 * key is derived, keyPackets.ts bounds the packets and their S2K work. Why not openpgp.js for
 * all: its streaming decryption sometimes never settles on damaged data, or on a wrong `gpg -c`
 * passphrase (about 1 time in 10), and a process whose only work waits on it just exits.
 */
import { createCipheriv, createHash, type Cipher, type Hash } from 'node:crypto';
import { pipeline, Readable } from 'node:stream';
import { createInflate, createInflateRaw } from 'node:zlib';
import { GlacierError } from '../errors';
import { bunzip2 } from './bzip2';
import { bodyOf, ByteSource, corrupt, drain, readHeader, tags, type PacketHeader } from './packets';
import { checkPacketCount, checkPassphrasePacket, yieldTurn } from './keyPackets';
import { openPassphraseKeyPacket, symmetricCiphers, type SessionKey } from './skesk';
import type { DerivedKeys } from './derivedKeys';

/** What can open a message: passphrases (tried in order), or session keys that private keys open (openpgp.js). */
export interface MessageKeys {
  passphrases: readonly string[];
  /** Opens the PKESK (and unsupported SKESK) packets, given as their bytes; undefined if none opens. */
  openKeyPackets?: (packets: Uint8Array) => Promise<SessionKey | { unsupported: string } | undefined>;
  /** Stops the key derivation (and the reading) when aborted. */
  signal?: AbortSignal;
  /** Keys the passphrases derived for earlier messages (a store's catalog objects share their S2K salt). */
  derivedKeys?: DerivedKeys;
}

/** The message's plaintext (the literal data), or why this reader leaves it to openpgp.js. */
export type Opened = { plaintext: AsyncGenerator<Buffer> } | { unsupported: string; replay: AsyncIterable<Uint8Array> };

const mdcLength = 22;
/** Larger session-key packets than this are not real ones (a PKESK for RSA-16384 is about 2 KiB). */
const maxKeyPacket = 1 << 16;
/** Packets skipped before the literal data, and after it (GnuPG writes 1 or 2 each side per signer). */
const maxSkippedPackets = 32;

/**
 * Reads the message from `source` up to the start of its literal data, and returns that data as a
 * stream. The stream ends only after the MDC has been checked and the message read to its end; it
 * throws on damage. A wrong passphrase or key throws here, before any plaintext.
 */
export async function openMessage(source: AsyncIterable<Uint8Array>, keys: MessageKeys, what: string): Promise<Opened> {
  const src = new ByteSource(source[Symbol.asyncIterator](), true);
  try {
    const opened = await open(src, keys, what);
    if ('unsupported' in opened) return { unsupported: opened.unsupported, replay: src.replay() };
    src.stopRecording();
    return opened;
  } catch (err) {
    await src.close();
    throw err;
  }
}

async function open(src: ByteSource, keys: MessageKeys, what: string): Promise<{ plaintext: AsyncGenerator<Buffer> } | { unsupported: string }> {
  const keyPackets: { tag: number; raw: Buffer; body: Buffer }[] = [];
  const counts = { all: 0, passphrase: 0, argon2Work: 0 };
  let data: PacketHeader;
  for (;;) {
    const header = await readHeader(src, what, keyPackets.length === 0 ? `${what} is not an OpenPGP message` : undefined);
    if (!header) throw corrupt(what, keyPackets.length ? 'it has no encrypted data' : 'it is empty');
    if (header.tag === tags.pkesk || header.tag === tags.skesk) {
      if (header.tag === tags.skesk) counts.passphrase++;
      counts.all++;
      checkPacketCount(counts, what);
      if (header.length.kind !== 'fixed' || header.length.size > maxKeyPacket) throw corrupt(what, 'a session-key packet has a bad length');
      const body = await src.readExact(header.length.size, what);
      if (header.tag === tags.skesk) checkPassphrasePacket(body, counts, what);
      keyPackets.push({ tag: header.tag, raw: Buffer.concat([header.raw, body]), body });
    } else if (header.tag === tags.marker || header.tag === tags.padding) {
      await drain(bodyOf(src, header.length, what));
    } else if (header.tag === tags.seipd) {
      data = header;
      break;
    } else if (header.tag === tags.aead) {
      return { unsupported: 'AEAD encrypted data' };
    } else if (header.tag === tags.sed) {
      throw new GlacierError('corrupt', `${what} is encrypted without integrity protection (an old Symmetrically Encrypted Data packet), which is refused`);
    } else if (header.tag === tags.literal || header.tag === tags.compressed || header.tag === tags.onePass) {
      throw new GlacierError('corrupt', `${what} is not encrypted`);
    } else {
      throw corrupt(what, `unexpected packet (tag ${header.tag}) before the encrypted data`);
    }
  }
  if (keyPackets.length === 0) throw corrupt(what, 'it has no session-key packet');
  const encrypted = new ByteSource(bodyOf(src, data.length, what));
  const version = (await encrypted.readExact(1, what))[0];
  if (version === 2) return { unsupported: 'SEIPD v2 (AEAD)' };
  if (version !== 1) throw corrupt(what, `unknown encrypted data version ${version}`);

  const candidates = await sessionKeys(keyPackets, keys, what);
  if ('unsupported' in candidates) return candidates;
  let opened: { decipher: CfbDecipher; mdc: Hash } | undefined;
  let unsupported: string | undefined;
  // Read once, so that every candidate is checked against the same bytes.
  let prefix: Buffer | undefined;
  for (const candidate of candidates) {
    const cipher = symmetricCiphers.get(candidate.cipher);
    if (!cipher?.openssl || candidate.key.byteLength !== cipher.keySize) {
      unsupported ??= `cipher ${cipher?.name ?? candidate.cipher}`;
      continue;
    }
    prefix ??= await encrypted.readExact(cipher.blockSize + 2, what);
    if (prefix.byteLength !== cipher.blockSize + 2) {
      unsupported ??= 'session keys for ciphers of two block sizes';
      continue;
    }
    let decipher: CfbDecipher;
    try {
      decipher = new CfbDecipher(`${cipher.openssl}-ecb`, candidate.key, cipher.blockSize);
    } catch {
      unsupported ??= `cipher ${cipher.name} (not in this OpenSSL)`;
      continue;
    }
    const clear = decipher.update(prefix);
    const n = cipher.blockSize;
    if (clear[n - 2] === clear[n] && clear[n - 1] === clear[n + 1]) {
      opened = { decipher, mdc: createHash('sha1').update(clear) };
      break;
    }
  }
  for (const candidate of candidates) candidate.key.fill(0);
  if (!opened) {
    if (unsupported) return { unsupported };
    throw new GlacierError('crypto', `cannot open ${what}: wrong passphrase or key`);
  }

  const decrypted = new ByteSource(decrypt(encrypted, opened.decipher, opened.mdc, what));
  let inner = decrypted;
  let header = await readHeader(inner, what, undefined);
  if (header?.tag === tags.compressed) {
    const body = new ByteSource(bodyOf(decrypted, header.length, what));
    const algorithm = (await body.readExact(1, what))[0];
    if (algorithm !== 0 && algorithm !== 1 && algorithm !== 2 && algorithm !== 3) throw corrupt(what, `unknown compression ${algorithm}`);
    inner = new ByteSource(algorithm === 0 ? body.rest() : algorithm === 3 ? bunzip2(body.rest(), what) : inflate(body.rest(), algorithm, what));
    header = await readHeader(inner, what, undefined);
  }
  // Signed messages (§11.3): one-pass signatures (or signatures) before the literal data, and one
  // signature after it for each one-pass signature. Nothing else, and never a second literal.
  let onePass = 0;
  for (let skipped = 0; header && (header.tag === tags.onePass || header.tag === tags.signature || header.tag === tags.marker || header.tag === tags.padding); skipped++) {
    if (skipped === maxSkippedPackets) throw corrupt(what, `more than ${maxSkippedPackets} signature packets around its data`);
    if (header.tag === tags.onePass) onePass++;
    await drain(bodyOf(inner, header.length, what));
    header = await readHeader(inner, what, undefined);
  }
  if (header?.tag !== tags.literal) throw corrupt(what, header ? `it holds a packet with tag ${header.tag} where its data should be` : 'it holds no data');
  const literal = new ByteSource(bodyOf(inner, header.length, what));
  const [, nameLength] = await literal.readExact(2, what);
  await literal.readExact(nameLength! + 4, what);
  const compressed = inner !== decrypted;

  return {
    plaintext: (async function* () {
      try {
        yield* literal.rest();
        for (let after = await readHeader(inner, what, undefined), n = 1; after; after = await readHeader(inner, what, undefined), n++) {
          if (after.tag !== tags.signature && after.tag !== tags.padding) throw corrupt(what, `a packet with tag ${after.tag} follows its data`);
          if (n > maxSkippedPackets) throw corrupt(what, `more than ${maxSkippedPackets} packets follow its data`);
          if (after.tag === tags.signature && --onePass < 0) throw corrupt(what, 'a signature packet follows its data with no one-pass signature before it');
          await drain(bodyOf(inner, after.length, what));
        }
        // Then the MDC (held back by decrypt), then the end of the message.
        if (compressed && !(await decrypted.atEnd())) throw corrupt(what, 'a packet follows its compressed data');
        await drain(decrypted.rest());
        if (!(await src.atEnd())) throw corrupt(what, 'data follows its encrypted packet');
      } finally {
        await src.close();
      }
    })(),
  };
}

/**
 * The candidate session keys, passphrase first; or why none can be tried here. Each passphrase
 * packet is opened on its own, with a turn of the event loop before it, so that a signal is
 * answered between packets as well as within our own S2K.
 */
async function sessionKeys(packets: { tag: number; raw: Buffer; body: Buffer }[], keys: MessageKeys, what: string): Promise<SessionKey[] | { unsupported: string }> {
  const found: SessionKey[] = [];
  const others: Buffer[] = [];
  let unsupported: string | undefined;
  for (const packet of packets) {
    if (packet.tag === tags.skesk && keys.passphrases.length > 0) {
      for (const passphrase of keys.passphrases) {
        await yieldTurn(keys.signal, what);
        const opened = await openPassphraseKeyPacket(packet.body, passphrase, keys.signal, what, keys.derivedKeys);
        if (opened && 'unsupported' in opened) {
          // openpgp.js tries every passphrase itself.
          const other = keys.openKeyPackets ? await keys.openKeyPackets(packet.raw) : opened;
          if (other && 'unsupported' in other) unsupported ??= other.unsupported;
          else if (other) found.push(other);
          break;
        }
        if (opened) found.push(opened);
      }
    } else if (packet.tag === tags.pkesk || packet.tag === tags.skesk) {
      others.push(packet.raw);
    }
  }
  if (others.length && keys.openKeyPackets) {
    await yieldTurn(keys.signal, what);
    const opened = await keys.openKeyPackets(Buffer.concat(others));
    if (opened && 'unsupported' in opened) return opened;
    if (opened) found.push(opened);
  } else if (found.length === 0 && unsupported) {
    return { unsupported };
  }
  return found;
}

/**
 * CFB-decrypts the rest of the SEIPD body (the prefix is already read), yielding the packets it
 * holds; the last 22 bytes, the MDC packet, are held back and checked once the body has ended.
 */
async function* decrypt(encrypted: ByteSource, decipher: CfbDecipher, mdc: Hash, what: string): AsyncGenerator<Buffer> {
  let tail = Buffer.alloc(0);
  const held = (clear: Buffer): Buffer[] => {
    if (clear.byteLength >= mdcLength) {
      const out = [tail, clear.subarray(0, clear.byteLength - mdcLength)];
      tail = Buffer.from(clear.subarray(clear.byteLength - mdcLength));
      return out;
    }
    const all = Buffer.concat([tail, clear]);
    tail = all.subarray(Math.max(0, all.byteLength - mdcLength));
    return [all.subarray(0, all.byteLength - tail.byteLength)];
  };
  for await (const piece of encrypted.rest()) {
    for (const out of held(decipher.update(piece))) {
      if (out.byteLength === 0) continue;
      mdc.update(out);
      yield out;
    }
  }
  if (tail.byteLength < mdcLength || tail[0] !== 0xd3 || tail[1] !== 0x14) throw corrupt(what, 'it is truncated or its integrity check is missing', 'integrity');
  mdc.update(tail.subarray(0, 2));
  if (!mdc.digest().equals(tail.subarray(2))) throw corrupt(what, 'modification detected', 'integrity');
}

/** ZIP (raw deflate) or ZLIB, streamed, pulling input only as output is read. */
async function* inflate(input: AsyncIterable<Buffer>, algorithm: 1 | 2, what: string): AsyncGenerator<Buffer> {
  const z = algorithm === 1 ? createInflateRaw() : createInflate();
  let failure: unknown;
  pipeline(Readable.from(input, { objectMode: false, highWaterMark: 1 << 16 }), z, (err) => {
    failure = err;
  });
  try {
    for await (const out of z as AsyncIterable<Buffer>) yield out;
  } catch (err) {
    if (err instanceof GlacierError) throw err;
    if (failure instanceof GlacierError) throw failure;
    throw corrupt(what, `in its compressed data: ${(err as Error).message}`);
  } finally {
    z.destroy();
  }
}

/**
 * OpenPGP's CFB decryption (§13.9: whole-block feedback, zero IV, no resync) as ECB encryption
 * plus XOR. Each keystream block is the encryption of the ciphertext block before it, so all of
 * them are known as soon as the ciphertext is, and OpenSSL runs them through its pipelined ECB
 * (AES-NI handles several blocks at once) where its CFB goes one block at a time: about 3 times
 * faster here.
 */
class CfbDecipher {
  private readonly ecb: Cipher;
  /** Keystream made but not used yet: 1 to 16 bytes. */
  private keystream: Buffer;

  constructor(ecbName: string, key: Uint8Array, blockSize: number) {
    this.ecb = createCipheriv(ecbName, key, null);
    this.ecb.setAutoPadding(false);
    this.keystream = this.ecb.update(Buffer.alloc(blockSize));
  }

  update(ciphertext: Buffer): Buffer {
    const keystream = Buffer.concat([this.keystream, this.ecb.update(ciphertext)]);
    const out = Buffer.from(ciphertext);
    xorInto(out, keystream);
    this.keystream = Buffer.from(keystream.subarray(ciphertext.byteLength));
    return out;
  }
}

/** out[i] ^= mask[i] for every byte of out, eight at a time while both are 8-aligned (a fresh Buffer is). */
function xorInto(out: Buffer, mask: Buffer): void {
  let i = 0;
  if (out.byteOffset % 8 === 0 && mask.byteOffset % 8 === 0) {
    const words = out.byteLength >>> 3;
    const a = new BigInt64Array(out.buffer, out.byteOffset, words);
    const b = new BigInt64Array(mask.buffer, mask.byteOffset, words);
    for (let w = 0; w < words; w++) a[w]! ^= b[w]!;
    i = words << 3;
  }
  for (; i < out.byteLength; i++) out[i]! ^= mask[i]!;
}
