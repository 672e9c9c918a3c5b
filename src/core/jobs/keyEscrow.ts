/**
 * Key escrow for public-key mode: the private key kept in the store itself, encrypted with an
 * escrow passphrase of its own (`keys/<fingerprint>.asc.gpg`, STANDARD; format.md "Objects"), so
 * that losing the machine that held the key does not lose every backup. The object is an OpenPGP
 * message stock `gpg -d` opens with that passphrase alone: SEIPD v1, AES-256, an iterated+salted
 * S2K at the format's highest count (255: about 65 MB hashed per guess, the most GnuPG 2.2's
 * calibration picks), since anyone who can read the bucket can try passphrases offline.
 *
 * The trade-off (README "Key escrow"): anyone with the bucket and the escrow passphrase reads all
 * backups. The key keeps its own protection (its passphrase, if it has one) inside the message.
 *
 * Guarantees: the object is written once (a key already escrowed is refused, never replaced); what
 * is recovered is bounded, opened only with the escrow passphrase, and returned only if it is one
 * private key with the fingerprint asked for.
 */
import { randomBytes } from 'node:crypto';
import type * as OpenPGP from 'openpgp';
import { decryptStream } from '../crypto/openpgp';
import { openpgp } from '../crypto/openpgpLib';
import { encryptSeipdSync, randomPrefix, randomSessionKey } from '../crypto/seipd';
import { passphraseKeyPacket } from '../crypto/skesk';
import { GlacierError, oneLine } from '../errors';
import { PutRetry, type ArchiveStore } from '../store/archiveStore';
import { keys } from '../model/keys';

/** An escrowed key, ciphertext or plaintext: a private key with many subkeys and user ids stays far below. */
export const maxEscrowBytes = 1 << 20;
/** The escrow passphrase guards every backup against whoever can read the bucket. */
export const minEscrowPassphraseLength = 12;
const escrowCountByte = 255;

/** "0123 4567 …" or lower case → the upper-case hex a key object is named with; refuses anything else. */
export function normaliseFingerprint(text: string): string {
  const fpr = text.replace(/\s+/g, '').toUpperCase();
  if (!/^(?:[0-9A-F]{40}|[0-9A-F]{64})$/.test(fpr)) throw new GlacierError('usage', `"${oneLine(text).slice(0, 80)}" is not a key fingerprint (40 hex digits, spaces allowed)`);
  return fpr;
}

/** The one private key of an armored text; `what` names it in the message. */
async function onePrivateKey(armored: string, what: string): Promise<OpenPGP.PrivateKey> {
  let parsed: OpenPGP.PrivateKey[];
  try {
    parsed = await openpgp.readPrivateKeys({ armoredKeys: armored });
  } catch (err) {
    const text = err instanceof Error ? err.message : String(err);
    const hint = armored.includes('PUBLIC KEY BLOCK') ? ': it is a public key (escrow the private key, gpg --armor --export-secret-keys)' : ` (${oneLine(text)})`;
    throw new GlacierError('bad-key', `${what} is not an armored OpenPGP private key${hint}`);
  }
  if (parsed.length !== 1) throw new GlacierError('bad-key', `${what} holds ${parsed.length} private keys: escrow one key at a time`);
  return parsed[0]!;
}

/**
 * Stores `armored` (one private key) in the store under its fingerprint, encrypted with
 * `escrowPassphrase`. Returns the fingerprint and the object's key as the store shows it.
 */
export async function escrowPrivateKey(
  store: ArchiveStore,
  req: { armored: string; what: string; escrowPassphrase: string; signal?: AbortSignal },
): Promise<{ fingerprint: string; objectKey: string }> {
  if (req.escrowPassphrase.length < minEscrowPassphraseLength) {
    throw new GlacierError('usage', `the escrow passphrase must have at least ${minEscrowPassphraseLength} characters: with it and the bucket anyone reads every backup`);
  }
  if (Buffer.byteLength(req.armored) > maxEscrowBytes) throw new GlacierError('bad-key', `${req.what} is larger than ${maxEscrowBytes} bytes: not a private key this tool escrows`);
  const key = await onePrivateKey(req.armored, req.what);
  const fingerprint = key.getFingerprint().toUpperCase();
  const objectKey = keys.escrow(fingerprint);
  const sessionKey = randomSessionKey('aes256');
  const message = encryptSeipdSync(Buffer.from(key.armor()), {
    algorithm: 'aes256',
    sessionKey,
    prefix: randomPrefix(),
    keyPackets: passphraseKeyPacket(req.escrowPassphrase, 'aes256', sessionKey, randomBytes(8), escrowCountByte),
  });
  const put = () =>
    store.put({
      key: objectKey,
      body: (async function* () {
        yield message;
      })(),
      tier: 'catalog',
      sizeBound: message.byteLength,
      contentType: 'application/pgp-encrypted',
      what: 'escrowed key',
      action: `escrow key ${fingerprint}`,
      ...(req.signal ? { signal: req.signal } : {}),
    });
  try {
    try {
      await put();
    } catch (err) {
      if (!(err instanceof PutRetry && err.reason === 'store-adjusted')) throw err;
      await put();
    }
  } catch (err) {
    if (err instanceof GlacierError && err.code === 'conflict') {
      throw new GlacierError('conflict', `key ${fingerprint} is already escrowed as ${store.objectKey(objectKey)}: check it with "glacier-backup key recover ${fingerprint}"; to change its escrow passphrase, delete that object first`);
    }
    throw err;
  }
  return { fingerprint, objectKey: store.objectKey(objectKey) };
}

/**
 * The escrowed private key `fingerprint`, opened with `escrowPassphrase`: the armored key, still
 * under its own passphrase if it had one.
 */
export async function recoverEscrowedKey(store: ArchiveStore, fingerprintText: string, escrowPassphrase: string, signal?: AbortSignal): Promise<{ fingerprint: string; armored: string }> {
  const fingerprint = normaliseFingerprint(fingerprintText);
  const key = keys.escrow(fingerprint);
  const shown = store.objectKey(key);
  const what = `escrowed key ${shown}`;
  let opened;
  try {
    opened = await store.open(key, { what, action: `read the escrowed key ${fingerprint}`, ...(signal ? { signal } : {}) });
  } catch (err) {
    if (err instanceof GlacierError && err.code === 'not-found') throw new GlacierError('not-found', `no escrowed key ${fingerprint} in ${store.name} (no ${shown})`);
    throw err;
  }
  const tooLarge = (): GlacierError => new GlacierError('corrupt', `${what} is refused: larger than ${maxEscrowBytes} bytes, which no escrowed key is`);
  if (opened.size > maxEscrowBytes) {
    await opened.body.return(undefined);
    throw tooLarge();
  }
  const bounded = async function* (body: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    let seen = 0;
    for await (const piece of body) {
      if ((seen += piece.byteLength) > maxEscrowBytes) throw tooLarge();
      yield piece;
    }
  };
  const parts: Uint8Array[] = [];
  try {
    let seen = 0;
    for await (const part of await decryptStream(bounded(opened.body), { passphrase: escrowPassphrase }, what, signal, { whole: true })) {
      if ((seen += part.byteLength) > maxEscrowBytes) throw tooLarge();
      parts.push(part);
    }
  } catch (err) {
    if (err instanceof GlacierError && err.code === 'crypto') throw new GlacierError('bad-key', `the escrow passphrase does not open ${shown}`);
    if (err instanceof GlacierError) throw err;
    throw new GlacierError('corrupt', `${what} failed its integrity check (${oneLine(err instanceof Error ? err.message : String(err))})`);
  } finally {
    await opened.body.return(undefined);
  }
  const found = await onePrivateKey(Buffer.concat(parts).toString('utf8'), what);
  const got = found.getFingerprint().toUpperCase();
  if (got !== fingerprint) throw new GlacierError('corrupt', `${what} holds key ${got}, not ${fingerprint}: it is refused`);
  return { fingerprint, armored: found.armor() };
}
