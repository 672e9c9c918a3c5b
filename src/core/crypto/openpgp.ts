/**
 * OpenPGP encryption as stock GnuPG 2.2 reads it: SEIPD v1 with MDC, no AEAD, ZIP compression
 * (compress.ts) or none,
 * AES-256 with an iterated+salted S2K for passphrases, v4 keys only for recipients. Our own code
 * writes the data (seipd.ts) and a passphrase's session-key packet (skesk.ts), and reads messages
 * (messageReader.ts); openpgp.js writes and opens the recipients' session-key packets, and reads
 * the messages our reader does not (AEAD, BZIP2, rare ciphers). Owns key handling; never logs or
 * echoes a passphrase or key material. openpgp.js is loaded on first use, so that what does not
 * need it (a passphrase backup or restore, an unchanged backup, listing) does not pay for it
 * (about 13 MB).
 */
import type * as OpenPGP from 'openpgp';
import { GlacierError, oneLine, throwIfAborted } from '../errors';
import { toWebStream } from '../pack/webStream';
import { youngCollector } from '../util/v8Flags';
import { openMessage } from './messageReader';
import { derivedKeysOf } from './derivedKeys';
import { StallGuard } from './stallGuard';
import { deflateLevel, deflateLiteralSync, type Compression } from './compress';
import { deflateLiteral } from './deflatePool';
import { checkParams, encryptSeipdPieces, encryptSeipdSync, randomPrefix, randomSessionKey, zipPacket, type SeipdParams } from './seipd';
import { encryptSeipd, type EncryptedStream, type SeipdStreamOptions } from './seipdStream';
import { openpgp } from './openpgpLib';
import { passphraseKeyPacket, type SessionKey } from './skesk';

export type Encryption =
  | { mode: 'passphrase'; passphrase: string }
  | { mode: 'public-key'; recipients: OpenPGP.PublicKey[] };

/** What can open archives: a passphrase, or private keys (already decrypted). */
export interface Decryption {
  passphrase?: string;
  /**
   * More passphrases, tried after `passphrase` in order: a previous one, another machine's. A
   * reader tries each on every passphrase packet, so at most `maxPassphrases` in all.
   */
  otherPassphrases?: readonly string[];
  privateKeys?: OpenPGP.PrivateKey[];
}

/** The most passphrases a reader tries: each costs a key derivation per passphrase packet. */
export const maxPassphrases = 4;

/** The passphrases of `dec`, in the order they are tried. */
export function passphrasesOf(dec: Decryption): string[] {
  const all = [...(dec.passphrase !== undefined ? [dec.passphrase] : []), ...(dec.otherPassphrases ?? [])];
  if (all.length > maxPassphrases) throw new GlacierError('usage', `at most ${maxPassphrases} passphrases are tried: ${all.length} were given`);
  return [...new Set(all)];
}


const writeConfig = () =>
  ({
    aeadProtect: false,
    preferredCompressionAlgorithm: openpgp.enums.compression.uncompressed,
    preferredSymmetricAlgorithm: openpgp.enums.symmetric.aes256,
    s2kType: openpgp.enums.s2k.iterated,
    v6Keys: false,
  }) as const;

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
 * every recipient key prefers (AES-128 otherwise). `s2kSalt` (8 bytes) is the S2K's salt in
 * passphrase mode, random by default; the session key is random whatever the salt.
 */
export async function newSeipdParams(enc: Encryption, s2kSalt?: Uint8Array): Promise<SeipdParams> {
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
      ? passphraseKeyPacket(enc.passphrase, algorithm, sessionKey, s2kSalt)
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
      ...(passphrasesOf(dec).length ? { passwords: passphrasesOf(dec) } : {}),
      ...(dec.privateKeys?.length ? { decryptionKeys: dec.privateKeys } : {}),
    });
    return key ? { algorithm: key.algorithm ?? '', data: key.data } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Encrypts a byte stream into an OpenPGP message (binary), SEIPD v1 with MDC (see seipd.ts),
 * compressed as `compression` says (default `off`; deflatePool.ts). Pass `params` to fix the
 * session key, prefix and key packets (the output is then a function of them, the setting and the
 * plaintext); by default fresh ones are made for `enc`.
 */
export async function encryptStream(
  source: AsyncIterable<Uint8Array>,
  enc: Encryption,
  options: SeipdStreamOptions & { params?: SeipdParams; compression?: Compression } = {},
): Promise<EncryptedStream> {
  const params = options.params ?? (await newSeipdParams(enc));
  const level = deflateLevel(options.compression ?? 'off');
  if (level === undefined) return encryptSeipd(source, params, options);
  const deflated = deflateLiteral(source, { level, chunkSize: checkParams(params).chunkSize, recycle: options.recycle });
  // The deflate stream's pieces are the encryptor's to take (each owns its buffer).
  return encryptSeipd(deflated, params, { ...options, packet: zipPacket, recycle: () => undefined });
}

export async function encryptBytes(data: Uint8Array, enc: Encryption): Promise<Uint8Array> {
  return encryptSeipdSync(data, await newSeipdParams(enc));
}

/**
 * Encrypts a message whose plaintext is given as pieces (strings as UTF-8), yielding the message
 * as it is made: neither the plaintext nor the ciphertext is ever held whole. Compressed on this
 * thread, every block deflated (for manifests: JSON always compresses). Each piece and its
 * ciphertext are garbage once consumed; a minor GC every 3 MiB (where the front end allows it,
 * see util/v8Flags.ts) frees them before they pile up. `s2kSalt`: see newSeipdParams.
 */
export async function* encryptPieces(pieces: Iterable<string | Uint8Array>, enc: Encryption, compression: Compression = 'off', s2kSalt?: Uint8Array): AsyncGenerator<Buffer> {
  const consumed = youngCollector();
  const params = await newSeipdParams(enc, s2kSalt);
  const level = deflateLevel(compression);
  const message =
    level === undefined ? encryptSeipdPieces(asBytes(pieces), params) : encryptSeipdPieces(deflateLiteralSync(asBytes(pieces), level, checkParams(params).chunkSize), params, zipPacket);
  for (const out of message) {
    yield out;
    consumed(out.byteLength);
  }
}

function* asBytes(pieces: Iterable<string | Uint8Array>): Generator<Uint8Array> {
  for (const piece of pieces) yield typeof piece === 'string' ? Buffer.from(piece) : piece;
}

/** Decrypts a whole (small) message, checking its integrity; wrong keys give a clear error. */
export async function decryptBytes(data: Uint8Array, dec: Decryption, what: string, signal?: AbortSignal): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const part of await decryptStream(once(data), dec, what, signal, { whole: true })) parts.push(part);
  return Buffer.concat(parts);
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
 * Decrypts a streamed message (messageReader.ts; openpgp.js for what that does not read).
 * Plaintext flows before the integrity check (MDC) at the end has been verified, so memory stays
 * bounded; the returned stream errors if the check fails, and callers must keep what they write
 * unpublished (a staging folder) until the stream has ended. A wrong passphrase or key fails
 * here, before any plaintext. The session-key packets' S2K work is bounded (keyPackets.ts) and
 * stops when `signal` is aborted; the keys it derives are kept for `dec`'s next reads
 * (derivedKeys.ts), so messages that share an S2K salt (a store's catalog) cost one derivation.
 *
 * `whole`: the caller bounds `source` and reads the message whole anyway (a manifest, a summary,
 * an escrowed key). What openpgp.js decrypts is then authenticated (its MDC checked) before any
 * packet inside is parsed. Streamed, openpgp.js parses the plaintext as it comes, and on some
 * plaintext that does not authenticate it never settles: nothing is left pending, so a CLI just
 * exits. A wrong passphrase gets there: 1 time in 256 it opens a passphrase packet to a session
 * key for Twofish, which this reader cannot check, and about 1 time in 30 the garbage that key
 * makes of the data is such plaintext.
 */
export async function decryptStream(
  source: AsyncIterable<Uint8Array>,
  dec: Decryption,
  what: string,
  signal?: AbortSignal,
  options: { whole?: boolean; stallMs?: number } = {},
): Promise<AsyncIterable<Uint8Array>> {
  const passphrases = passphrasesOf(dec);
  if (passphrases.length === 0 && !dec.privateKeys?.length) {
    throw new GlacierError('crypto', `cannot open ${what}: no passphrase or private key given`);
  }
  const keys = { passphrases, openKeyPackets: (packets: Uint8Array) => openKeyPackets(packets, dec), signal, derivedKeys: derivedKeysOf(dec) };
  const opened = await openMessage(source, keys, what);
  if ('plaintext' in opened) return opened.plaintext;
  throwIfAborted(signal, `opening ${what}`);
  return decryptWithOpenpgp(opened.replay, dec, what, options.whole === true, options.stallMs ?? defaultStallMs);
}

/** How long openpgp.js's streaming decryption may make no progress (stallGuard.ts) before it is failed. */
const defaultStallMs = 30_000;

async function* once(data: Uint8Array): AsyncGenerator<Uint8Array> {
  yield data;
}

/** The session key that openpgp.js opens from key packets (PKESKs, SKESKs we do not read). */
async function openKeyPackets(packets: Uint8Array, dec: Decryption): Promise<SessionKey | undefined> {
  // openpgp.js tries only the passphrase when given both: the keys first, then the passphrase.
  const opened =
    (dec.privateKeys?.length ? await openSessionKey(packets, { privateKeys: dec.privateKeys }) : undefined) ??
    (passphrasesOf(dec).length ? await openSessionKey(packets, { passphrase: dec.passphrase, otherPassphrases: dec.otherPassphrases }) : undefined);
  const cipher = opened && (openpgp.enums.symmetric as unknown as Record<string, number | undefined>)[opened.algorithm];
  return cipher === undefined || !opened ? undefined : { cipher, key: Buffer.from(opened.data) };
}

/** The decryption of openpgp.js, for messages our reader leaves to it: streamed, or authenticated first (`whole`, see decryptStream). */
async function decryptWithOpenpgp(source: AsyncIterable<Uint8Array>, dec: Decryption, what: string, whole: boolean, stallMs: number): Promise<AsyncIterable<Uint8Array>> {
  // Streamed, openpgp.js can stop on garbage without failing (stallGuard.ts): a stall fails it.
  const guard = whole ? undefined : new StallGuard(stallMs, () => new GlacierError('crypto', `cannot open ${what}: wrong passphrase or key, or it is damaged (its decryption stopped)`));
  let message: OpenPGP.Message<ReadableStream<Uint8Array>>;
  try {
    message = await openpgp.readMessage({ binaryMessage: toWebStream(guard ? guard.watch(source) : source) });
  } catch (err) {
    throw new GlacierError('corrupt', `${what} is not an OpenPGP message (${oneLine(errorText(err))})`);
  }
  try {
    const decrypting = openpgp.decrypt({
      message,
      ...(passphrasesOf(dec).length ? { passwords: passphrasesOf(dec) } : {}),
      ...(dec.privateKeys?.length ? { decryptionKeys: dec.privateKeys } : {}),
      format: 'binary',
      config: { allowUnauthenticatedStream: !whole, allowUnauthenticatedMessages: false },
    });
    const { data } = await (guard ? guard.guard(decrypting) : decrypting);
    return guard ? guard.output(data as unknown as AsyncIterable<Uint8Array>) : (data as unknown as AsyncIterable<Uint8Array>);
  } catch (err) {
    if (guard?.failure && err === guard.failure) throw err;
    const text = errorText(err);
    if (/session key|no decryption key|incorrect key|password/i.test(text)) {
      throw new GlacierError('crypto', `cannot open ${what}: wrong passphrase or key`);
    }
    // A passphrase packet holds no checksum: a wrong passphrase opens it to some session key, and
    // only the data tells (see decryptStream's `whole`).
    if (whole && !dec.privateKeys?.length && /modification detected/i.test(text)) {
      throw new GlacierError('crypto', `cannot open ${what}: wrong passphrase or key, or it is damaged (${oneLine(text)})`);
    }
    throw new GlacierError('corrupt', `${what} is damaged (${oneLine(text)})`);
  }
}

/** Names an error raised while reading a decrypted stream: integrity failures are corruption. */
export function streamDecryptError(err: unknown, what: string): GlacierError {
  if (err instanceof GlacierError) return err;
  return new GlacierError('corrupt', `${what} failed its integrity check (${oneLine(errorText(err))})`);
}
