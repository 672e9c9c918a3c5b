/**
 * Limits on the work a message's session-key packets can ask of a reader, checked on the packets'
 * bytes before any key is derived: how many packets are tried, and each passphrase packet's S2K
 * (RFC 4880 §3.7.1, RFC 9580 §3.7.1.4). An attacker who can write to the bucket can plant any
 * message (a catalog entry is read by `list` with no key needed to write it); these keep what it
 * costs to try one to a few seconds of hashing (signals answered throughout) and 64 MiB of memory.
 *
 * What real writers make stays well inside: one passphrase packet (GnuPG `-c`, our own writer),
 * or one per password given to openpgp.js, and one public-key packet per recipient; iterated S2K
 * counts up to the format's maximum, the count byte 255 (65,011,712 octets), which GnuPG 2.2's
 * calibration often picks; Argon2 as openpgp.js writes it by default (3 passes, 4 lanes, 2^16 KiB).
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { GlacierError } from '../errors';

/** Session-key packets (public-key and passphrase) before the data: recipients plus passphrases. */
export const maxKeyPackets = 64;
/** Passphrase packets: each costs a full S2K when the passphrase is wrong. */
export const maxPassphrasePackets = 8;
/** Argon2 memory exponent: 2^16 KiB (64 MiB), openpgp.js's default and RFC 9580's second recommendation. */
export const maxArgon2MemoryExponent = 16;
/** Argon2 passes × memory, in KiB: openpgp.js's default, 3 passes over 64 MiB. */
export const maxArgon2Work = 3 * 2 ** 16;
/**
 * Argon2 work of all passphrase packets together: two of openpgp.js's default. openpgp.js (which
 * runs Argon2) derives every packet's key in one synchronous stretch when it reads the whole
 * message (SEIPD v2), so this bounds how long a signal can wait to about a second.
 */
export const maxArgon2WorkInAll = 2 * maxArgon2Work;

const argon2 = 4;

/** Throws if these counts of session-key packets pass a limit. */
export function checkPacketCount(counts: { all: number; passphrase: number }, what: string): void {
  if (counts.all > maxKeyPackets) throw refused(what, `it has more than ${maxKeyPackets} session-key packets, the most a reader tries`);
  if (counts.passphrase > maxPassphrasePackets) throw refused(what, `it has more than ${maxPassphrasePackets} passphrase packets, the most a reader tries`);
}

/**
 * Throws if a passphrase packet's body (SKESK v4, v5 or v6) asks for more S2K work than the
 * limits above, alone or with the packets before it (`counts`, which this adds to). Packets it
 * cannot parse are left to the reader that opens them.
 */
export function checkPassphrasePacket(body: Uint8Array, counts: { argon2Work: number }, what: string): void {
  const version = body[0];
  // v4: version, cipher, S2K. v5 (LibrePGP): version, cipher, AEAD, S2K. v6: version, count, cipher, AEAD, S2K length, S2K.
  const at = version === 4 ? 2 : version === 5 ? 3 : version === 6 ? 5 : -1;
  if (at < 0 || body[at] !== argon2 || body.byteLength < at + 20) return;
  const [passes, exponent] = [body[at + 17]!, body[at + 19]!];
  if (exponent > maxArgon2MemoryExponent) {
    throw refused(what, `its passphrase key asks Argon2 for 2^${exponent} KiB of memory; a reader allows at most 2^${maxArgon2MemoryExponent} KiB (64 MiB)`);
  }
  if (passes * 2 ** exponent > maxArgon2Work) {
    throw refused(what, `its passphrase key asks Argon2 for ${passes} passes over 2^${exponent} KiB; a reader allows at most 3 passes over 64 MiB`);
  }
  counts.argon2Work += passes * 2 ** exponent;
  if (counts.argon2Work > maxArgon2WorkInAll) {
    throw refused(what, 'its passphrase packets ask Argon2 for more than 6 passes over 64 MiB in all; a reader allows at most that');
  }
}

function refused(what: string, why: string): GlacierError {
  return new GlacierError('corrupt', `${what} is refused (${why})`);
}

/** Lets signal handlers and timers run, then throws if `signal` was aborted. */
export async function yieldTurn(signal: AbortSignal | undefined, what: string): Promise<void> {
  await nextTurn();
  if (signal?.aborted) throw new GlacierError('cancelled', `opening ${what} cancelled`);
}
