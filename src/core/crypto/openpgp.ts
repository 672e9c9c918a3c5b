/**
 * OpenPGP encryption as stock GnuPG 2.2 reads it: SEIPD v1 with MDC, no AEAD, no compression,
 * AES-256 with an iterated+salted S2K for passphrases, v4 keys only for recipients. Our own writers
 * make the data (seipd.ts) and a passphrase's session-key packet (skesk.ts); openpgp.js writes
 * the recipients' session-key packets and decrypts. Owns key handling; never logs or echoes a
 * passphrase or key material. openpgp.js is loaded on first use, so that what does not need it
 * (a passphrase backup, an unchanged backup, listing) does not pay for it (about 13 MB).
 */
import { createDecipheriv } from 'node:crypto';
import type * as OpenPGP from 'openpgp';
import { GlacierError, oneLine } from '../errors';
import { youngCollector } from '../util/v8Flags';
import { encryptSeipdPieces, encryptSeipdSync, randomPrefix, randomSessionKey, type SeipdParams } from './seipd';
import { encryptSeipd, type EncryptedStream, type SeipdStreamOptions } from './seipdStream';
import { passphraseKeyPacket } from './skesk';

export type Encryption =
  | { mode: 'passphrase'; passphrase: string }
  | { mode: 'public-key'; recipients: OpenPGP.PublicKey[] };

/** What can open archives: a passphrase, or private keys (already decrypted). */
export interface Decryption {
  passphrase?: string;
  privateKeys?: OpenPGP.PrivateKey[];
}

let loaded: typeof OpenPGP | undefined;
/** openpgp.js, required on first property access (a bundled CommonJS module runs only then). */
const openpgp = new Proxy({} as typeof OpenPGP, {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- deliberately lazy: import() would make every caller async
  get: (_target, key) => Reflect.get((loaded ??= require('openpgp') as typeof OpenPGP), key),
});

const writeConfig = () =>
  ({
    aeadProtect: false,
    preferredCompressionAlgorithm: openpgp.enums.compression.uncompressed,
    preferredSymmetricAlgorithm: openpgp.enums.symmetric.aes256,
    s2kType: openpgp.enums.s2k.iterated,
    v6Keys: false,
  }) as const;

const readConfig = {
  // Manifests and archives we read were written by us or by gpg; both are SEIPD v1 or AEAD.
  allowUnauthenticatedMessages: false,
  allowUnauthenticatedStream: false,
} as const;

/** Features flag "SEIPD v2 supported" (RFC 9580 §5.2.3.32); openpgp.js then writes AEAD. */
const seipdv2Feature = 0x08;

const gpg22UnreadableAlgorithms = (): Set<number> =>
  new Set<number>([openpgp.enums.publicKey.x25519, openpgp.enums.publicKey.x448, openpgp.enums.publicKey.ed25519, openpgp.enums.publicKey.ed448]);

/**
 * Parses armored (or binary) public keys given as recipients and refuses any that is not a valid
 * public key, has no usable encryption key, or would make the output unreadable for GnuPG 2.2.
 */
export async function loadRecipients(keys: readonly { name: string; data: string | Uint8Array }[]): Promise<OpenPGP.PublicKey[]> {
  if (keys.length === 0) throw new GlacierError('bad-key', 'public-key mode needs at least one recipient key');
  const result: OpenPGP.PublicKey[] = [];
  for (const { name, data } of keys) {
    let parsed: OpenPGP.Key[];
    try {
      parsed =
        typeof data === 'string' && data.includes('-----BEGIN PGP')
          ? await openpgp.readKeys({ armoredKeys: data })
          : await openpgp.readKeys({ binaryKeys: typeof data === 'string' ? Buffer.from(data, 'binary') : data });
    } catch (err) {
      throw new GlacierError('bad-key', `recipient key ${name} is not a valid OpenPGP public key (${oneLine(errorText(err))})`);
    }
    for (const key of parsed) {
      if (key.isPrivate()) {
        throw new GlacierError('bad-key', `recipient key ${name} is a private key: give the public key (gpg --armor --export)`);
      }
      const fpr = key.getFingerprint().toUpperCase();
      if (key.keyPacket.version !== 4) {
        throw new GlacierError('bad-key', `recipient key ${name} (${fpr}) is a v${key.keyPacket.version} key, which GnuPG 2.2 cannot read`);
      }
      let encKey: Awaited<ReturnType<OpenPGP.Key['getEncryptionKey']>>;
      try {
        encKey = await key.getEncryptionKey();
      } catch (err) {
        throw new GlacierError('bad-key', `recipient key ${name} (${fpr}) has no usable encryption key (${oneLine(errorText(err))})`);
      }
      if (gpg22UnreadableAlgorithms().has(encKey.getAlgorithmInfo().algorithm as unknown as number)) {
        throw new GlacierError('bad-key', `recipient key ${name} (${fpr}) uses an algorithm GnuPG 2.2 cannot read`);
      }
      const selfSig = await (key as unknown as { getPrimarySelfSignature(): Promise<{ features?: number[] | null }> }).getPrimarySelfSignature();
      const features = selfSig.features?.[0] ?? 0;
      if (features & seipdv2Feature) {
        throw new GlacierError('bad-key', `recipient key ${name} (${fpr}) asks for SEIPD v2 (AEAD) encryption, which GnuPG 2.2 cannot read`);
      }
      result.push(key as OpenPGP.PublicKey);
    }
  }
  return result;
}

export function recipientFingerprints(enc: Encryption): string[] {
  return enc.mode === 'public-key' ? enc.recipients.map((k) => k.getFingerprint().toUpperCase()) : [];
}

/**
 * Fresh parameters for one message: a random session key and prefix, and the session-key packets
 * for them: an SKESK with an iterated+salted S2K (skesk.ts; the packet openpgp.js would write),
 * or a v3 PKESK per recipient, which openpgp.js writes. The session cipher is AES-256, or what
 * every recipient key prefers (AES-128 otherwise).
 */
export async function newSeipdParams(enc: Encryption): Promise<SeipdParams> {
  let algorithm: string = 'aes256';
  if (enc.mode === 'public-key') {
    const chosen = await openpgp.generateSessionKey({ encryptionKeys: enc.recipients, config: writeConfig() });
    if (chosen.aeadAlgorithm) throw new GlacierError('bad-key', 'a recipient key asks for SEIPD v2 (AEAD) encryption, which GnuPG 2.2 cannot read');
    algorithm = chosen.algorithm;
  }
  if (algorithm !== 'aes128' && algorithm !== 'aes192' && algorithm !== 'aes256') {
    throw new GlacierError('bad-key', `the recipient keys ask for the ${algorithm} cipher, which this version does not write`);
  }
  const sessionKey = randomSessionKey(algorithm);
  const keyPackets =
    enc.mode === 'passphrase'
      ? passphraseKeyPacket(enc.passphrase, algorithm, sessionKey)
      : await openpgp.encryptSessionKey({ data: sessionKey, algorithm, encryptionKeys: enc.recipients, format: 'binary', config: writeConfig() });
  return { algorithm, sessionKey, prefix: randomPrefix(), keyPackets };
}

/**
 * The session key that the key packets of `message` (a whole message, or only its key packets)
 * hold, opened with `dec`; undefined when it does not open them. A wrong passphrase can yield a
 * plausible key now and then: callers check it (against a value they kept, or the quick check).
 */
export async function openSessionKey(message: Uint8Array, dec: Decryption): Promise<{ algorithm: string; data: Uint8Array } | undefined> {
  try {
    const [key] = await openpgp.decryptSessionKeys({
      message: await openpgp.readMessage({ binaryMessage: message }),
      ...(dec.passphrase ? { passwords: [dec.passphrase] } : {}),
      ...(dec.privateKeys?.length ? { decryptionKeys: dec.privateKeys } : {}),
    });
    return key ? { algorithm: key.algorithm ?? '', data: key.data } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Encrypts a byte stream into an OpenPGP message (binary), SEIPD v1 with MDC (see seipd.ts).
 * Pass `params` to fix the session key, prefix and key packets (the output is then a function of
 * them and the plaintext); by default fresh ones are made for `enc`.
 */
export async function encryptStream(
  source: AsyncIterable<Uint8Array>,
  enc: Encryption,
  options: SeipdStreamOptions & { params?: SeipdParams } = {},
): Promise<EncryptedStream> {
  const params = options.params ?? (await newSeipdParams(enc));
  return encryptSeipd(source, params, options);
}

export async function encryptBytes(data: Uint8Array, enc: Encryption): Promise<Uint8Array> {
  return encryptSeipdSync(data, await newSeipdParams(enc));
}

/**
 * Encrypts a message whose plaintext is given as pieces (strings as UTF-8), yielding the message
 * as it is made: neither the plaintext nor the ciphertext is ever held whole. Each piece and its
 * ciphertext are garbage once consumed; a minor GC every 3 MiB (where the front end allows it,
 * see util/v8Flags.ts) frees them before they pile up.
 */
export async function* encryptPieces(pieces: Iterable<string | Uint8Array>, enc: Encryption): AsyncGenerator<Buffer> {
  const consumed = youngCollector();
  for (const out of encryptSeipdPieces(asBytes(pieces), await newSeipdParams(enc))) {
    yield out;
    consumed(out.byteLength);
  }
}

function* asBytes(pieces: Iterable<string | Uint8Array>): Generator<Uint8Array> {
  for (const piece of pieces) yield typeof piece === 'string' ? Buffer.from(piece) : piece;
}

/** Decrypts a whole (small) message, checking its integrity; wrong keys give a clear error. */
export async function decryptBytes(data: Uint8Array, dec: Decryption, what: string): Promise<Uint8Array> {
  if (!dec.passphrase && !dec.privateKeys?.length) {
    throw new GlacierError('crypto', `cannot open ${what}: no passphrase or private key given`);
  }
  let message: OpenPGP.Message<Uint8Array>;
  try {
    message = await openpgp.readMessage({ binaryMessage: data });
  } catch (err) {
    throw new GlacierError('corrupt', `${what} is not an OpenPGP message (${oneLine(errorText(err))})`);
  }
  try {
    const { data: plain } = await openpgp.decrypt({
      message,
      ...(dec.passphrase ? { passwords: [dec.passphrase] } : {}),
      ...(dec.privateKeys?.length ? { decryptionKeys: dec.privateKeys } : {}),
      format: 'binary',
      config: readConfig,
    });
    return plain as Uint8Array;
  } catch (err) {
    const text = errorText(err);
    if (/session key|decrypt(ing)? (the )?session|no decryption key|incorrect key|password|Error decrypting message: Session/i.test(text)) {
      throw new GlacierError('crypto', `cannot open ${what}: wrong passphrase or key`);
    }
    // A wrong passphrase sometimes yields a plausible session key (about 1 in 256 times): the
    // data then fails its MDC. The prefix's quick-check bytes tell the two apart.
    const fits = await sessionKeyFits(data, dec);
    if (fits === false) throw new GlacierError('crypto', `cannot open ${what}: wrong passphrase or key`);
    if (fits === undefined) throw new GlacierError('crypto', `cannot open ${what}: wrong passphrase or key, or it failed its integrity check (${oneLine(text)})`);
    throw new GlacierError('corrupt', `${what} failed its integrity check (${oneLine(text)})`);
  }
}

/**
 * Whether the session key that `dec` opens decrypts the first bytes of the SEIPD v1 packet to a
 * prefix whose last two bytes repeat (RFC 4880 §5.13): a wrong key passes this 1 in 65,536 times.
 * Only called after a failed decryption, so it is no oracle an attacker does not already have.
 * Undefined when it cannot tell: the key opens to a cipher other than AES (which a wrong
 * passphrase does now and then, and which we never write), or the packets are not as expected.
 */
async function sessionKeyFits(data: Uint8Array, dec: Decryption): Promise<boolean | undefined> {
  const key = await openSessionKey(data, dec);
  if (!key) return false;
  try {
    const bits = ({ aes128: 128, aes192: 192, aes256: 256 } as Record<string, number | undefined>)[key.algorithm];
    const body = seipdBodyStart(data);
    if (!bits || body === undefined || body[0] !== 1 || body.length < 19) return undefined;
    const decipher = createDecipheriv(`aes-${bits}-cfb`, key.data, Buffer.alloc(16));
    const prefix = decipher.update(body.subarray(1, 19));
    return prefix[14] === prefix[16] && prefix[15] === prefix[17];
  } catch {
    return false;
  }
}

/** The first bytes of the SEIPD packet's body (its first chunk when partial lengths are used), if found. */
function seipdBodyStart(data: Uint8Array): Uint8Array | undefined {
  let at = 0;
  while (at < data.length) {
    const ctb = data[at]!;
    if (!(ctb & 0x80)) return undefined;
    let tag: number;
    let length: number;
    let header: number;
    if (ctb & 0x40) {
      tag = ctb & 0x3f;
      const first = data[at + 1] ?? 0;
      if (first < 192) [length, header] = [first, 2];
      else if (first < 224) [length, header] = [((first - 192) << 8) + (data[at + 2] ?? 0) + 192, 3];
      else if (first === 255) [length, header] = [Buffer.from(data.subarray(at + 2, at + 6)).readUInt32BE(0), 6];
      else [length, header] = [1 << (first & 0x1f), 2]; // a partial length: the first chunk
    } else {
      tag = (ctb >> 2) & 0x0f;
      const type = ctb & 3;
      const n = type === 0 ? 1 : type === 1 ? 2 : type === 2 ? 4 : 0;
      if (n === 0) [length, header] = [data.length - at - 1, 1];
      else [length, header] = [Buffer.from(data.subarray(at + 1, at + 1 + n)).readUIntBE(0, n), 1 + n];
    }
    if (tag === openpgp.enums.packet.symEncryptedIntegrityProtectedData) return data.subarray(at + header, at + header + length);
    at += header + length;
  }
  return undefined;
}

/** Reads armored private keys (for restore and listing in public-key mode) and unlocks them. */
export async function loadPrivateKeys(armored: string, passphrase?: string): Promise<OpenPGP.PrivateKey[]> {
  let keys: OpenPGP.PrivateKey[];
  try {
    keys = await openpgp.readPrivateKeys({ armoredKeys: armored });
  } catch (err) {
    throw new GlacierError('bad-key', `not a valid OpenPGP private key (${oneLine(errorText(err))})`);
  }
  return Promise.all(
    keys.map(async (key) => {
      if (key.isDecrypted()) return key;
      if (!passphrase) throw new GlacierError('bad-key', `private key ${key.getFingerprint().toUpperCase()} is protected: its passphrase is needed`);
      try {
        return await openpgp.decryptKey({ privateKey: key, passphrase });
      } catch {
        throw new GlacierError('bad-key', `wrong passphrase for private key ${key.getFingerprint().toUpperCase()}`);
      }
    }),
  );
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Decrypts a streamed message. Plaintext flows before the integrity check (MDC) at the end has
 * been verified, so memory stays bounded; the returned stream errors if the check fails, and
 * callers must keep what they write unpublished (a staging folder) until the stream has ended.
 * A wrong passphrase or key fails here, before any plaintext.
 */
export async function decryptStream(source: ReadableStream<Uint8Array>, dec: Decryption, what: string): Promise<ReadableStream<Uint8Array>> {
  if (!dec.passphrase && !dec.privateKeys?.length) {
    throw new GlacierError('crypto', `cannot open ${what}: no passphrase or private key given`);
  }
  let message: OpenPGP.Message<ReadableStream<Uint8Array>>;
  try {
    message = await openpgp.readMessage({ binaryMessage: source });
  } catch (err) {
    throw new GlacierError('corrupt', `${what} is not an OpenPGP message (${oneLine(errorText(err))})`);
  }
  try {
    const { data } = await openpgp.decrypt({
      message,
      ...(dec.passphrase ? { passwords: [dec.passphrase] } : {}),
      ...(dec.privateKeys?.length ? { decryptionKeys: dec.privateKeys } : {}),
      format: 'binary',
      config: { allowUnauthenticatedStream: true, allowUnauthenticatedMessages: false },
    });
    return data as ReadableStream<Uint8Array>;
  } catch (err) {
    const text = errorText(err);
    if (/session key|no decryption key|incorrect key|password/i.test(text)) {
      throw new GlacierError('crypto', `cannot open ${what}: wrong passphrase or key`);
    }
    throw new GlacierError('corrupt', `${what} is damaged (${oneLine(text)})`);
  }
}

/** Names an error raised while reading a decrypted stream: integrity failures are corruption. */
export function streamDecryptError(err: unknown, what: string): GlacierError {
  if (err instanceof GlacierError) return err;
  return new GlacierError('corrupt', `${what} failed its integrity check (${oneLine(errorText(err))})`);
}
