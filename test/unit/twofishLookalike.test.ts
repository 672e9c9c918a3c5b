/**
 * A wrong passphrase that opens a passphrase packet to a Twofish session key. The packet's
 * encrypted session key (RFC 4880 §5.3) has no checksum, so a wrong passphrase opens it to a
 * random cipher id and key: 1 time in 256 the id is Twofish (10), which the reader cannot check
 * against the data and leaves to openpgp.js. For the message below (ours, '{"hello":"world"}'
 * under another passphrase, its packet made to open so with "wrong"), the garbage that key makes
 * of the data is plaintext that openpgp.js's streaming decryption parses and never settles on:
 * nothing stays pending, so `prune` with a wrong passphrase ended on the CLI's "internal error
 * … nothing was left to wait for" when a bucket's objects happened to hold such a packet.
 * Read whole, openpgp.js checks the data before it parses it and fails; without that, the last two
 * tests leave their promises unsettled, which node:test reports as failures.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readManifest } from '../../src/core/catalog/catalog';
import { readSummary } from '../../src/core/catalog/summary';
import { decryptBytes, decryptStream } from '../../src/core/crypto/openpgp';
import { openMessage } from '../../src/core/crypto/messageReader';
import { GlacierError } from '../../src/core/errors';
import { keys } from '../../src/core/model/keys';
import { LocalStore } from '../../src/core/store/local/localStore';

const lookalike = Buffer.from(
  'c32e04090308a0efc931b25d826ee09d6dafee818899772c9a1084a78923b76c72743c0134210fd7aee44f081b8fd785d2420168db4469b35a82145c8bdaa035acd48087539b2d88ef9e256bdb69e884657795a7848ee176fcc9f81d6dffaf06e9df45180cd09cbf1e773c3799b110625bb90f3b',
  'hex',
);
const id = '20261201T120000Z-0000000000000001';
const wrongOrDamaged = (err: unknown): boolean =>
  err instanceof GlacierError && err.code === 'crypto' && /^cannot open the (message|manifest of \S+|summary of \S+): wrong passphrase or key, or it is damaged \(.*Modification detected\.\)$/.test(err.message);

async function* once(data: Uint8Array): AsyncGenerator<Uint8Array> {
  yield data;
}

describe('a wrong passphrase that opens a Twofish session key', () => {
  let root: string;
  let store: LocalStore;
  before(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'gb-twofish-'));
    for (const key of [keys.manifest(id), keys.summary(id)]) {
      mkdirSync(path.dirname(path.join(root, key)), { recursive: true });
      writeFileSync(path.join(root, key), lookalike);
    }
    store = new LocalStore({ root });
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('is what the reader leaves to openpgp.js', async () => {
    const opened = await openMessage(once(lookalike), { passphrases: ['wrong'] }, 'the message');
    assert.ok('unsupported' in opened);
    assert.equal(opened.unsupported, 'cipher Twofish');
  });

  it('fails a whole message: wrong passphrase, or damaged, as its integrity check fails', async () => {
    await assert.rejects(decryptBytes(lookalike, { passphrase: 'wrong' }, 'the message'), wrongOrDamaged);
  });

  it('fails reading a manifest and a summary (what prune and list read)', async () => {
    await assert.rejects(readManifest(store, id, { passphrase: 'wrong' }), wrongOrDamaged);
    await assert.rejects(readSummary(store, id, { passphrase: 'wrong' }), wrongOrDamaged);
  });

  it('fails a streamed message (an archive) once openpgp.js stops making progress, instead of never settling', async () => {
    const started = Date.now();
    await assert.rejects(
      (async () => {
        const plaintext = await decryptStream(once(lookalike), { passphrase: 'wrong' }, 'archive X', undefined, { stallMs: 300 });
        for await (const chunk of plaintext) void chunk;
      })(),
      (err: unknown) => err instanceof GlacierError && err.code === 'crypto' && err.message === 'cannot open archive X: wrong passphrase or key, or it is damaged (its decryption stopped)',
    );
    assert.ok(Date.now() - started < 10_000);
  });
});
