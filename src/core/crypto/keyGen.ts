/**
 * A key pair for public-key mode that GnuPG 2.2 reads and that the recipient rules of
 * docs/format.md accept: a v4 key, EdDSA (Ed25519 legacy) for signing with an ECDH
 * (Curve25519 legacy) subkey for encryption, no SEIPD v2 in its features, no expiry. The private
 * key is protected by its own passphrase (iterated+salted S2K, as GnuPG 2.2 writes).
 */
import { GlacierError } from '../errors';
import { openpgp } from './openpgpLib';

export interface GeneratedKey {
  /** Upper-case v4 fingerprint. */
  fingerprint: string;
  publicArmored: string;
  privateArmored: string;
}

export async function generateRecipientKey(options: { name: string; email?: string; passphrase: string }): Promise<GeneratedKey> {
  if (options.passphrase === '') throw new GlacierError('usage', 'a private key needs a passphrase of its own');
  if (options.name.trim() === '' || /[<>\n]/.test(options.name) || (options.email !== undefined && !/^[^\s<>@]+@[^\s<>@]+$/.test(options.email))) {
    throw new GlacierError('usage', 'a key needs a name (no <, > or line breaks) and, if given, an e-mail address like backup@example.com');
  }
  const { privateKey, publicKey } = await openpgp.generateKey({
    type: 'ecc',
    curve: 'curve25519Legacy',
    userIDs: [{ name: options.name.trim(), ...(options.email ? { email: options.email } : {}) }],
    passphrase: options.passphrase,
    format: 'armored',
    config: { v6Keys: false, aeadProtect: false, s2kType: openpgp.enums.s2k.iterated },
  });
  const key = await openpgp.readKey({ armoredKey: publicKey });
  return { fingerprint: key.getFingerprint().toUpperCase(), publicArmored: publicKey, privateArmored: privateKey };
}
