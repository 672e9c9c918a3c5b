import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as openpgp from 'openpgp';
import { decryptBytes, encryptBytes, loadPrivateKeys, loadRecipients } from '../../src/core/crypto/openpgp';

type KeyOptions = { type: string; curve?: string; config?: Partial<openpgp.Config> };

async function generate(options: KeyOptions): Promise<{ publicKey: string; privateKey: string }> {
  const args = { userIDs: [{ name: 'Test', email: 'test@example.org' }], format: 'armored', ...options };
  return (await openpgp.generateKey(args as Parameters<typeof openpgp.generateKey>[0])) as unknown as { publicKey: string; privateKey: string };
}

describe('recipient keys', () => {
  it('accepts a v4 Curve25519 key and round-trips a message to it', async () => {
    const { publicKey, privateKey } = await generate({ type: 'ecc', curve: 'curve25519Legacy' });
    const [key] = await loadRecipients([{ name: 'k.asc', data: publicKey }]);
    const cipher = await encryptBytes(Buffer.from('hello'), { mode: 'public-key', recipients: [key!] });
    const plain = await decryptBytes(cipher, { privateKeys: await loadPrivateKeys(privateKey) }, 'test message');
    assert.equal(Buffer.from(plain).toString(), 'hello');
  });

  it('refuses text that is not a key, a private key, and no keys at all', async () => {
    await assert.rejects(loadRecipients([{ name: 'junk.asc', data: 'hello' }]), /junk\.asc is not a valid OpenPGP public key/);
    const { privateKey } = await generate({ type: 'ecc', curve: 'curve25519Legacy' });
    await assert.rejects(loadRecipients([{ name: 'secret.asc', data: privateKey }]), /is a private key/);
    await assert.rejects(loadRecipients([]), /at least one recipient/);
  });

  it('refuses keys that would force a format GnuPG 2.2 cannot read', async () => {
    const v6 = await generate({ type: 'curve25519', config: { v6Keys: true } });
    await assert.rejects(loadRecipients([{ name: 'v6.asc', data: v6.publicKey }]), /v6 key, which GnuPG 2\.2 cannot read/);
    const aead = await generate({ type: 'ecc', curve: 'curve25519Legacy', config: { aeadProtect: true } });
    await assert.rejects(loadRecipients([{ name: 'aead.asc', data: aead.publicKey }]), /SEIPD v2 \(AEAD\)/);
  });
});

describe('passphrase messages', () => {
  it('decrypt with the right passphrase and fail clearly with a wrong one or a flipped bit', async () => {
    const cipher = await encryptBytes(Buffer.from('secret manifest'), { mode: 'passphrase', passphrase: 'right' });
    assert.equal(Buffer.from(await decryptBytes(cipher, { passphrase: 'right' }, 'm')).toString(), 'secret manifest');
    await assert.rejects(decryptBytes(cipher, { passphrase: 'wrong' }, 'the manifest'), /cannot open the manifest: wrong passphrase or key/);
    const flipped = Buffer.from(cipher);
    flipped[flipped.length - 10]! ^= 1;
    await assert.rejects(decryptBytes(flipped, { passphrase: 'right' }, 'the manifest'), (err: Error) => {
      assert.match(err.message, /the manifest/);
      assert.doesNotMatch(err.message, /right/);
      return true;
    });
  });
});
