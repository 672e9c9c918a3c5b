/**
 * The catalog's shared S2K salt (catalog.ts catalogSalt, crypto/derivedKeys.ts): a store's
 * summaries and manifests carry one salt, each its own session key; GnuPG decrypts them as before;
 * a reader derives each passphrase's key once for all of them, and still reads objects with
 * other salts (archives, older catalog objects, `gpg -c`).
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { catalogSalt, readManifest, writeManifest } from '../../src/core/catalog/catalog';
import { manifestFormat, type Manifest } from '../../src/core/catalog/manifest';
import { readSummary, summaryOf, writeSummary } from '../../src/core/catalog/summary';
import { DerivedKeys, derivedKeysOf, maxEntries } from '../../src/core/crypto/derivedKeys';
import { decryptBytes, encryptBytes, type Decryption } from '../../src/core/crypto/openpgp';
import { openPassphraseKeyPacket, s2kKey } from '../../src/core/crypto/skesk';
import { LocalStore } from '../../src/core/store/local/localStore';
import { keys } from '../../src/core/model/keys';
import { Gpg } from '../helpers/gpg';
import { sampleManifest } from '../helpers/manifests';
import { tempDir } from '../helpers/tree';

const passphrase = 'catalog pass ✓';
const enc = { mode: 'passphrase', passphrase } as const;
const dirs = [tempDir('gb-salt-'), tempDir('gb-salt-'), tempDir('gb-salt-')];
const [storeA, storeB] = [new LocalStore({ root: dirs[0]! }), new LocalStore({ root: dirs[1]! })];
const gpg = new Gpg();
after(() => {
  gpg.dispose();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const manifestFor = (id: string): Manifest => ({ ...sampleManifest(id), label: `label of ${id}` });
const ids = ['20260102T030405Z-0000000000000001', '20260102T030405Z-0000000000000002'];

async function bytesOf(store: LocalStore, key: string): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const part of (await store.open(key)).body) parts.push(part);
  return Buffer.concat(parts);
}

/** The SKESK v4 at the start of a message we wrote: its salt, and the session key the passphrase opens. */
async function keyPacketOf(message: Buffer): Promise<{ salt: Buffer; sessionKey: Buffer }> {
  assert.deepEqual([...message.subarray(0, 6)], [0xc3, 46, 4, 9, 3, 8], 'an SKESK v4, AES-256, iterated+salted SHA-256');
  const opened = await openPassphraseKeyPacket(message.subarray(2, 48), passphrase, undefined, 'test');
  assert.ok(opened && 'key' in opened);
  return { salt: message.subarray(6, 14), sessionKey: opened.key };
}

describe('catalog objects of a store share one S2K salt', () => {
  const written = (async () => {
    for (const id of ids) {
      await writeSummary(storeA, manifestFor(id), enc, { onNotice: (m) => assert.fail(m) });
      await writeManifest(storeA, manifestFor(id), enc);
    }
    await writeSummary(storeB, manifestFor(ids[0]!), enc, { onNotice: (m) => assert.fail(m) });
  })();
  const catalogKeys = ids.flatMap((id) => [keys.summary(id), keys.manifest(id)]);

  it('summaries and manifests carry the store salt, from its identity; each object has its own session key', async () => {
    await written;
    const packets = await Promise.all(catalogKeys.map(async (key) => keyPacketOf(await bytesOf(storeA, key))));
    for (const p of packets) assert.deepEqual(p.salt, catalogSalt(storeA));
    assert.deepEqual(catalogSalt(storeA), catalogSalt(new LocalStore({ root: dirs[0]! })), 'the same store, the same salt');
    assert.notDeepEqual(catalogSalt(storeA), catalogSalt(storeB));
    assert.deepEqual((await keyPacketOf(await bytesOf(storeB, keys.summary(ids[0]!)))).salt, catalogSalt(storeB));
    assert.equal(new Set(packets.map((p) => p.sessionKey.toString('hex'))).size, packets.length, 'a session key each');
    // Archives keep a random salt each.
    const archive = await keyPacketOf(Buffer.from(await encryptBytes(Buffer.from('tar'), enc)));
    assert.notDeepEqual(archive.salt, catalogSalt(storeA));
  });

  it('gpg decrypts each of them', async () => {
    await written;
    for (const [i, key] of catalogKeys.entries()) {
      const file = path.join(dirs[2]!, `object-${i}.gpg`);
      writeFileSync(file, await bytesOf(storeA, key));
      const res = gpg.decryptFileWithPassphrase(file, passphrase);
      assert.equal(res.status, 0, res.stderr);
      const json = JSON.parse(res.stdout.toString('utf8')) as { id: string; format: string };
      assert.equal(json.id, ids[Math.floor(i / 2)]);
      assert.equal(json.format, i % 2 === 0 ? 'glacier-backup/summary' : manifestFormat);
    }
  });

  it('a reader derives the key once for all of them, and still reads objects with other salts', async () => {
    await written;
    const dec: Decryption = { passphrase };
    const derived = derivedKeysOf(dec);
    const [first, second] = await Promise.all(ids.map((id) => readSummary(storeA, id, dec)));
    assert.deepEqual([first, second], ids.map((id) => summaryOf(manifestFor(id))));
    assert.equal(derived.derivations, 1, 'two reads under way together share one derivation');
    assert.equal((await readManifest(storeA, ids[1]!, dec)).label, `label of ${ids[1]}`);
    assert.equal(derived.derivations, 1, 'a manifest of the same store: none');

    // Another store's salt, an archive's random salt, a `gpg -c` message: one each, and they read.
    assert.equal((await readSummary(storeB, ids[0]!, dec)).id, ids[0]);
    assert.equal(derived.derivations, 2);
    assert.equal(Buffer.from(await decryptBytes(await encryptBytes(Buffer.from('tar'), enc), dec, 'an archive')).toString(), 'tar');
    assert.equal(derived.derivations, 3);
    const plain = path.join(dirs[2]!, 'plain.txt');
    writeFileSync(plain, 'by gpg');
    const res = gpg.run(['--passphrase-fd', '0', '--symmetric', '--output', '-', plain], `${passphrase}\n`);
    assert.equal(res.status, 0, res.stderr);
    assert.equal(Buffer.from(await decryptBytes(res.stdout, dec, 'a gpg -c message')).toString(), 'by gpg');
    assert.equal(derived.derivations, 4);

    // Several passphrases: one derivation each, then none, and a wrong one still fails clearly.
    const two: Decryption = { passphrase: 'an older passphrase', otherPassphrases: [passphrase] };
    for (const id of ids) assert.equal((await readSummary(storeA, id, two)).id, id);
    assert.equal(derivedKeysOf(two).derivations, 2);
    const wrong: Decryption = { passphrase: 'wrong' };
    for (const id of ids) await assert.rejects(readSummary(storeA, id, wrong), /wrong passphrase or key/);
    assert.equal(derivedKeysOf(wrong).derivations, 1);
  });
});

describe('DerivedKeys', () => {
  const spec = (salt: Buffer) => ({ hash: 'sha256', salt, countByte: 0, keySize: 32 });
  const derive = (salt: Buffer) => async () => s2kKey(passphrase, salt, 0, 32);

  it(`keeps at most ${maxEntries} keys, the most recently used`, async () => {
    const cache = new DerivedKeys();
    const salts = Array.from({ length: maxEntries + 1 }, () => randomBytes(8));
    for (const salt of salts) await cache.key(passphrase, spec(salt), derive(salt));
    assert.equal(cache.derivations, maxEntries + 1);
    const last = salts[maxEntries]!;
    assert.deepEqual(await cache.key(passphrase, spec(last), derive(last)), s2kKey(passphrase, last, 0, 32));
    assert.equal(cache.derivations, maxEntries + 1, 'the last one is kept');
    await cache.key(passphrase, spec(salts[0]!), derive(salts[0]!));
    assert.equal(cache.derivations, maxEntries + 2, 'the first one was dropped');
  });

  it('gives a copy: zeroing it leaves the kept key whole', async () => {
    const cache = new DerivedKeys();
    const salt = randomBytes(8);
    (await cache.key(passphrase, spec(salt), derive(salt))).fill(0);
    assert.deepEqual(await cache.key(passphrase, spec(salt), derive(salt)), s2kKey(passphrase, salt, 0, 32));
  });

  it('a derivation aborted under one read is run again for another whose signal is not aborted, and forgotten', async () => {
    const cache = new DerivedKeys();
    const salt = randomBytes(8);
    const stop = new AbortController();
    const aborted = cache.key(passphrase, spec(salt), () => new Promise((_, reject) => stop.signal.addEventListener('abort', () => reject(new Error('aborted')))), stop.signal);
    const waiting = cache.key(passphrase, spec(salt), derive(salt));
    stop.abort();
    await assert.rejects(aborted, /aborted/);
    assert.deepEqual(await waiting, s2kKey(passphrase, salt, 0, 32));
    assert.equal(cache.derivations, 2);
  });
});
