/**
 * Keys as the front ends hand them to jobs: key files and passphrases become an Encryption (what
 * new archives are encrypted to) or a Decryption (what opens manifests and archives). The
 * OpenPGP work stays in core/crypto; front ends reach it only through here (eslint.config.mjs).
 */
import { loadPrivateKeys, loadRecipients, type Decryption, type Encryption } from '../crypto/openpgp';

export type { Decryption, Encryption } from '../crypto/openpgp';
/** How many passphrases a Decryption may carry (each is tried on every manifest). */
export { maxPassphrases } from '../crypto/openpgp';
/** `key generate`: a recipient key pair for public-key mode. */
export { generateRecipientKey } from '../crypto/keyGen';

/** Public-key mode: new archives are encrypted to these recipients; 'bad-key' names the key that is not one. */
export async function recipientEncryption(keys: readonly { name: string; data: string | Uint8Array }[]): Promise<Encryption> {
  return { mode: 'public-key', recipients: await loadRecipients(keys) };
}

/** What opens archives encrypted to a private key; 'bad-key' when the key, or its passphrase, is wrong. */
export async function privateKeyDecryption(armored: string, passphrase?: string): Promise<Decryption> {
  return { privateKeys: await loadPrivateKeys(armored, passphrase) };
}
