/**
 * Interop of our SEIPD v1 writer with stock GnuPG: gpg decrypts what we write, in passphrase and
 * public-key modes (RSA and Curve25519 keys made by gpg), at the partial-length edges, and detects
 * a flipped bit through the MDC.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { encryptStream, loadRecipients, type Encryption } from '../../src/core/crypto/openpgp';
import { Gpg } from '../helpers/gpg';
import { tempDir } from '../helpers/tree';

const MiB = 1 << 20;
const dir = tempDir();
const gpg = new Gpg();
let rsa: ReturnType<Gpg['generateKey']>;
let cv25519: ReturnType<Gpg['generateKey']>;

before(() => {
  rsa = gpg.generateKey('RSA <rsa@example.org>', 'rsa-pass', 'default') // gpg 2.2: RSA 3072 + RSA subkey;
  cv25519 = gpg.generateKey('Curve <cv@example.org>', 'cv-pass', 'future-default');
});
after(() => {
  gpg.dispose();
  rmSync(dir, { recursive: true, force: true });
});

async function* pieces(data: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let at = 0; at < data.length; at += size) yield data.subarray(at, at + size);
}

async function encryptToFile(data: Buffer, enc: Encryption, name: string): Promise<string> {
  const parts: Buffer[] = [];
  for await (const p of await encryptStream(pieces(data, 300_000), enc)) parts.push(p);
  const file = path.join(dir, name);
  writeFileSync(file, Buffer.concat(parts));
  return file;
}

describe('gpg decrypts our archives', () => {
  // The literal packet's body is 6 octets + data; 1 MiB partial lengths by default.
  for (const size of [0, 1, MiB - 7, MiB - 6, MiB - 5, 3 * MiB + 1]) {
    it(`passphrase mode, ${size} bytes`, async () => {
      const data = randomBytes(size);
      const file = await encryptToFile(data, { mode: 'passphrase', passphrase: 'pass phrase ✓' }, `p${size}.gpg`);
      const res = gpg.decryptFileWithPassphrase(file, 'pass phrase ✓');
      assert.equal(res.status, 0, res.stderr);
      assert.ok(res.stdout.equals(data), 'same bytes back');
      assert.match(res.stderr, /AES256/);
      assert.doesNotMatch(res.stderr, /WARNING/);
    });
  }

  it('public-key mode: an RSA and a Curve25519 recipient each decrypt the same archive', async () => {
    const data = randomBytes(2 * MiB + 333);
    const recipients = await loadRecipients([
      { name: 'rsa.asc', data: rsa.publicKey },
      { name: 'cv.asc', data: cv25519.publicKey },
    ]);
    const file = await encryptToFile(data, { mode: 'public-key', recipients }, 'pk.gpg');
    for (const keyPass of ['rsa-pass', 'cv-pass']) {
      // Each run sees only one secret key: delete the other's, then re-import it after.
      const other = keyPass === 'rsa-pass' ? cv25519 : rsa;
      const del = gpg.run(['--yes', '--delete-secret-keys', other.fingerprint]);
      assert.equal(del.status, 0, del.stderr);
      const res = gpg.decryptFile(file, keyPass);
      assert.equal(res.status, 0, res.stderr);
      assert.ok(res.stdout.equals(data));
      assert.match(res.stderr, keyPass === 'rsa-pass' ? /3072-bit RSA key/ : /255-bit ECDH key/);
      const imp = gpg.run(['--passphrase-fd', '0', '--import'], `${keyPass === 'rsa-pass' ? 'cv-pass' : 'rsa-pass'}\n${other.secretKey}`);
      assert.equal(imp.status, 0, imp.stderr);
    }
  });

  it('reports a flipped bit as a failed integrity check, whether in the data or in the MDC', async () => {
    const data = randomBytes(MiB + 100);
    const file = await encryptToFile(data, { mode: 'passphrase', passphrase: 'pw' }, 'flip.gpg');
    const bytes = (await import('node:fs')).readFileSync(file);
    for (const at of [bytes.length - 5000, bytes.length - 3]) {
      const bad = Buffer.from(bytes);
      bad[at]! ^= 0x01;
      const badFile = path.join(dir, `flip-${at}.gpg`);
      writeFileSync(badFile, bad);
      const res = gpg.decryptFileWithPassphrase(badFile, 'pw');
      assert.notEqual(res.status, 0, 'gpg must fail');
      assert.match(res.stderr, /manipulated|MDC|integrity/i);
    }
  });
});
