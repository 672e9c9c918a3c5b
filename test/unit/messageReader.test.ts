/**
 * The streaming OpenPGP reader against messages real GnuPG writes (each option that changes the
 * packets), our own messages split every way, and damaged, truncated or wrongly keyed input,
 * which must always end in a clear error: never hang, never yield a result.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decryptStream, loadPrivateKeys, newSeipdParams } from '../../src/core/crypto/openpgp';
import { openMessage } from '../../src/core/crypto/messageReader';
import { encryptSeipdSync } from '../../src/core/crypto/seipd';
import { GlacierError } from '../../src/core/errors';
import { Gpg } from '../helpers/gpg';

const passphrase = 'seed script passphrase';
const gpg = new Gpg();
let work: string;
let plainFile: string;
/** Text that compresses, then bytes that do not: both kinds of deflate blocks. */
const plain = Buffer.concat([Buffer.from('a line of a text file that repeats\n'.repeat(6000)), randomBytes(200_000)]);

before(() => {
  work = mkdtempSync(path.join(os.tmpdir(), 'gb-reader-'));
  plainFile = path.join(work, 'plain');
  writeFileSync(plainFile, plain);
});
after(() => {
  gpg.dispose();
  rmSync(work, { recursive: true, force: true });
});

function gpgSymmetric(options: string[], input = plainFile): Buffer {
  const res = gpg.run(['--passphrase-fd', '0', '--symmetric', ...options, '--output', '-', input], `${passphrase}\n`);
  assert.equal(res.status, 0, res.stderr);
  return res.stdout;
}

/** The message in pieces of `size` bytes (the last one shorter). */
async function* pieces(data: Uint8Array, size = 65536): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < data.byteLength; at += size) yield data.subarray(at, at + size);
}

async function collect(source: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const out: Uint8Array[] = [];
  for await (const piece of source) out.push(piece);
  return Buffer.concat(out);
}

/** Decrypts and reads to the end; rejects if that does not settle within `ms` (a hang). */
async function decryptAll(data: Uint8Array, secret: string, size?: number, ms = 20_000): Promise<Buffer> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('never settled')), ms);
  });
  try {
    return await Promise.race([(async () => collect(await decryptStream(pieces(data, size), { passphrase: secret }, 'the object')))(), hung]);
  } finally {
    clearTimeout(timer);
  }
}

/** Which reader takes the message: ours, or openpgp.js (and why). */
async function readerOf(data: Uint8Array): Promise<string> {
  const opened = await openMessage(pieces(data), { passphrases: [passphrase] }, 'm');
  if ('plaintext' in opened) {
    await opened.plaintext.return(undefined);
    return 'ours';
  }
  return `openpgp.js: ${opened.unsupported}`;
}

describe('reading what gpg writes', () => {
  const cases: [string, string[], string][] = [
    ['gpg -c defaults (ZIP compression)', [], 'ours'],
    ['no compression', ['--compress-algo', 'none'], 'ours'],
    ['ZLIB', ['--compress-algo', 'zlib'], 'ours'],
    ['AES-128', ['--cipher-algo', 'AES128'], 'ours'],
    ['Camellia-256', ['--cipher-algo', 'CAMELLIA256'], 'ours'],
    ['a salted S2K with SHA-512', ['--s2k-mode', '1', '--s2k-digest-algo', 'SHA512'], 'ours'],
    ['an iterated S2K with the smallest count', ['--s2k-count', '1024'], 'ours'],
    ['BZIP2', ['--compress-algo', 'bzip2'], 'ours'],
    ['Twofish', ['--cipher-algo', 'TWOFISH'], 'openpgp.js: cipher Twofish'],
  ];
  for (const [name, options, reader] of cases) {
    it(`${name}: read by ${reader.split(':')[0]}, byte-identical`, async () => {
      const message = gpgSymmetric(options);
      assert.equal(await readerOf(message), reader);
      assert.ok((await decryptAll(message, passphrase)).equals(plain));
    });
  }

  it('CAST5 (gpg 1.x default), whichever reader this OpenSSL allows, byte-identical', async () => {
    assert.ok((await decryptAll(gpgSymmetric(['--cipher-algo', 'CAST5']), passphrase)).equals(plain));
  });

  it('a message signed and encrypted: the signature packets are skipped', async () => {
    const signer = new Gpg();
    try {
      signer.generateKey('Signer <signer@example.org>', '', 'ed25519');
      const res = signer.run(['--passphrase-fd', '0', '--sign', '--symmetric', '--output', '-', plainFile], `${passphrase}\n`);
      assert.equal(res.status, 0, res.stderr);
      const file = path.join(work, 'signed.gpg');
      writeFileSync(file, res.stdout);
      assert.match(signer.run(['--passphrase-fd', '0', '--list-packets', file], `${passphrase}\n`).stdout.toString(), /onepass_sig packet/);
      assert.equal(await readerOf(res.stdout), 'ours');
      assert.ok((await decryptAll(res.stdout, passphrase)).equals(plain));
    } finally {
      signer.dispose();
    }
  });

  it('a message to a recipient key: openpgp.js opens the session key, our reader the data', async () => {
    const key = gpg.generateKey('Recipient <r@example.org>', 'key pass', 'future-default');
    const res = gpg.run(['--trust-model', 'always', '--encrypt', '--recipient', key.fingerprint, '--output', '-', plainFile]);
    assert.equal(res.status, 0, res.stderr);
    const privateKeys = await loadPrivateKeys(key.secretKey, 'key pass');
    assert.ok((await collect(await decryptStream(pieces(res.stdout), { privateKeys }, 'm'))).equals(plain));
    const other = new Gpg();
    try {
      const stranger = await loadPrivateKeys(other.generateKey('Other <o@example.org>', 'x', 'future-default').secretKey, 'x');
      await assert.rejects(decryptStream(pieces(res.stdout), { privateKeys: stranger }, 'm'), /cannot open m: wrong passphrase or key/);
    } finally {
      other.dispose();
    }
  });
});

describe('bad input always ends in a clear error', () => {
  const clear = /^(cannot open the object: wrong passphrase or key|the object (is damaged|failed its integrity check) \(.+\)|the object is not an OpenPGP message|the object is not encrypted|the object is encrypted without integrity protection.*)$/;
  async function assertRefused(data: Uint8Array, secret = passphrase, label = ''): Promise<void> {
    await assert.rejects(decryptAll(data, secret, 4096), (err: unknown) => {
      assert.ok(err instanceof GlacierError, `${label}: ${String(err)}`);
      assert.match(err.message, clear, label);
      return true;
    });
  }

  it('a wrong passphrase for gpg -c, 25 times (openpgp.js alone hung on about 1 in 10)', async () => {
    const message = gpgSymmetric([]);
    for (let i = 0; i < 25; i++) {
      await assert.rejects(decryptAll(message, `wrong ${i} ${randomBytes(4).toString('hex')}`), /^GlacierError: cannot open the object: wrong passphrase or key$|cannot open the object: wrong passphrase or key$/);
    }
  });

  it('every flipped byte at the start and the end of a gpg -c message', async () => {
    const message = gpgSymmetric(['--s2k-count', '1024']);
    const positions = [...Array(100).keys(), ...Array.from({ length: 40 }, (_, i) => message.length - 40 + i)];
    for (const at of positions) {
      const damaged = Buffer.from(message);
      damaged[at]! ^= at % 2 ? 0x01 : 0x80;
      await assertRefused(damaged, passphrase, `byte ${at}`);
    }
  });

  it('every flipped byte at the start and the end of one of our messages', async () => {
    const params = await newSeipdParams({ mode: 'passphrase', passphrase });
    const message = encryptSeipdSync(randomBytes(10_000), params);
    for (const at of [...Array(120).keys(), ...Array.from({ length: 40 }, (_, i) => message.length - 40 + i)]) {
      const damaged = Buffer.from(message);
      damaged[at]! ^= 0x04;
      await assertRefused(damaged, passphrase, `byte ${at}`);
    }
  });

  it('a message cut anywhere', async () => {
    const message = gpgSymmetric(['--s2k-count', '1024']);
    for (const cut of [0, 1, 2, 10, 15, 16, 17, 20, 40, 60, 1000, message.length - 23, message.length - 22, message.length - 1]) {
      await assertRefused(message.subarray(0, cut), passphrase, `cut at ${cut}`);
    }
  });

  it('data after the message, no encryption, no integrity protection, not OpenPGP at all', async () => {
    const message = gpgSymmetric(['--s2k-count', '1024']);
    await assert.rejects(decryptAll(Buffer.concat([message, Buffer.from('more')]), passphrase), /the object is damaged \(data follows its encrypted packet\)/);
    const stored = gpg.run(['--store', '--output', '-', plainFile]).stdout;
    await assert.rejects(decryptAll(stored, passphrase), /the object is not encrypted/);
    // An SKESK, then a Symmetrically Encrypted Data packet (tag 9): what gpg --rfc2440 wrote.
    const sed = Buffer.concat([message.subarray(0, 2 + message[1]!), Buffer.of(0xc9, 40), randomBytes(40)]);
    await assert.rejects(decryptAll(sed, passphrase), /the object is encrypted without integrity protection/);
    await assert.rejects(decryptAll(Buffer.from('just some text'), passphrase), /the object is not an OpenPGP message/);
  });
});

describe('reading our own messages', () => {
  it('gives the same bytes however the message is split', async () => {
    const data = randomBytes(20_000);
    const message = encryptSeipdSync(data, { ...(await newSeipdParams({ mode: 'passphrase', passphrase })), chunkSize: 1024 });
    for (const size of [1, 7, 22, 23, 512, 1029, 65536]) assert.ok((await decryptAll(message, passphrase, size)).equals(data), `pieces of ${size}`);
  });
});
