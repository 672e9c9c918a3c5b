import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as path from 'node:path';
import * as openpgp from 'openpgp';
import { defaultCountByte, passphraseKeyPacket, s2kCount, s2kKey } from '../../src/core/crypto/skesk';
import { randomSessionKey, type SymmetricAlgorithm } from '../../src/core/crypto/seipd';

async function openWithOpenpgpJs(packet: Uint8Array, passphrase: string): Promise<{ algorithm: string | null; data: Uint8Array } | undefined> {
  const message = await openpgp.readMessage({ binaryMessage: packet });
  const [key] = await openpgp.decryptSessionKeys({ message, passwords: [passphrase] }).catch(() => []);
  return key;
}

describe('passphrase session-key packet (SKESK v4, iterated+salted S2K)', () => {
  it('is opened by openpgp.js to the same session key, for passphrases of any length and script', async () => {
    // 11 + 8 bytes do not divide the 16 MiB count; the long one is longer than a hashing block.
    for (const passphrase of ['x', 'correct horse', 'pässwörd ✓ 密码', 'p'.repeat(70_000)]) {
      for (const algorithm of ['aes128', 'aes192', 'aes256'] as SymmetricAlgorithm[]) {
        const sessionKey = randomSessionKey(algorithm);
        const opened = await openWithOpenpgpJs(passphraseKeyPacket(passphrase, algorithm, sessionKey), passphrase);
        assert.ok(opened, `${algorithm}, passphrase of ${passphrase.length} characters`);
        assert.equal(opened.algorithm, algorithm);
        assert.deepEqual(Buffer.from(opened.data), Buffer.from(sessionKey));
      }
    }
  });

  it('does not give the session key for another passphrase', async () => {
    const sessionKey = randomSessionKey('aes256');
    const opened = await openWithOpenpgpJs(passphraseKeyPacket('right', 'aes256', sessionKey), 'wrong');
    assert.ok(!opened || !Buffer.from(opened.data).equals(Buffer.from(sessionKey)));
  });

  it('has the layout openpgp.js writes for a passphrase: same header, S2K and length', async () => {
    const sessionKey = randomSessionKey('aes256');
    const ours = passphraseKeyPacket('pw', 'aes256', sessionKey);
    const theirs = Buffer.from(
      await openpgp.encryptSessionKey({
        data: sessionKey,
        algorithm: 'aes256',
        passwords: ['pw'],
        format: 'binary',
        config: { s2kType: openpgp.enums.s2k.iterated, aeadProtect: false, v6Keys: false },
      }),
    );
    assert.equal(ours.byteLength, theirs.byteLength);
    // Tag and length, version 4, AES-256, S2K type 3 with SHA-256; then 8 salt bytes; the count byte.
    assert.deepEqual(ours.subarray(0, 6), theirs.subarray(0, 6));
    assert.deepEqual([...ours.subarray(0, 6)], [0xc3, 46, 4, 9, 3, 8]);
    assert.equal(ours[14], theirs[14]);
    assert.equal(ours[14], defaultCountByte);
    assert.notDeepEqual(passphraseKeyPacket('pw', 'aes256', sessionKey).subarray(6, 14), ours.subarray(6, 14), 'a fresh salt each time');
  });

  it('hashes exactly the count of bytes: the same key as hashing the repeated stream at once', () => {
    assert.equal(s2kCount(defaultCountByte), 16 * 1024 * 1024);
    assert.equal(s2kCount(0), 1024);
    const salt = randomBytes(8);
    for (const passphrase of ['abc', 'a much longer passphrase than the salt']) {
      // Count byte 0 (1,024 bytes): small enough to build the stream whole here.
      const unit = Buffer.concat([salt, Buffer.from(passphrase)]);
      const stream = Buffer.concat(new Array<Buffer>(Math.ceil(1024 / unit.length)).fill(unit)).subarray(0, 1024);
      const expected = (pre: number): Buffer => createHash('sha256').update(Buffer.alloc(pre)).update(stream).digest();
      assert.deepEqual(s2kKey(passphrase, salt, 0, 32), expected(0));
      assert.deepEqual(s2kKey(passphrase, salt, 0, 48), Buffer.concat([expected(0), expected(1)]).subarray(0, 48));
    }
  });

  it('lets a passphrase backup run without loading openpgp.js (about 13 MB)', () => {
    // A whole backup (packed and encrypted, then discarded) in a fresh process, which then lists
    // the openpgp.js files it loaded. The second run then opens a session key, which does need
    // openpgp.js: the list shows it, so the first run's empty list means something.
    const script = (readBack: boolean): string => `
      const { backup } = require('./src/core/jobs/backup.ts');
      const { openStore } = require('./src/core/jobs/openStore.ts');
      const { openSessionKey } = require('./src/core/crypto/openpgp.ts');
      const store = { bucket: 'unused', prefix: '', storageClass: 'STANDARD', endpoint: 'http://127.0.0.1:9' };
      backup({ store: openStore({ kind: 's3', ...store }), paths: ['test/unit'], encryption: { mode: 'passphrase', passphrase: 'pw' }, discardOutput: true })
        .then(async (r) => {
          if (${readBack}) await openSessionKey(Buffer.alloc(1), { passphrase: 'pw' });
          const loaded = Object.keys(require.cache).filter((k) => /node_modules[\\\\/]openpgp[\\\\/]/.test(k));
          process.stdout.write(JSON.stringify({ status: r.status, loaded }));
        });`;
    const run = (readBack: boolean): { status: string; loaded: string[] } => {
      const res = spawnSync(process.execPath, ['--import', 'tsx', '-e', script(readBack)], { cwd: path.join(__dirname, '..', '..'), encoding: 'utf8' });
      assert.equal(res.status, 0, res.stderr);
      return JSON.parse(res.stdout) as { status: string; loaded: string[] };
    };
    assert.deepEqual(run(false), { status: 'created', loaded: [] });
    assert.equal(run(true).loaded.length, 1);
  });
});
