/**
 * S2K resource bombs (issue 13): session-key packets crafted by hand that ask for more work than
 * any real writer's defaults (Argon2 memory or passes, thousands of packets) are refused within
 * a second, naming the limit, before any key is derived; what GnuPG and openpgp.js write still
 * opens; and the bounded work that remains stops when its AbortSignal is aborted.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as openpgp from 'openpgp';
import { decryptStream, loadPrivateKeys } from '../../src/core/crypto/openpgp';
import { GlacierError } from '../../src/core/errors';
import { Gpg } from '../helpers/gpg';
import { literalBody, messageOf, packet, seipdBody, skeskV4Argon2, skeskV4Iterated, skeskV6Argon2, tag } from '../helpers/pgpCraft';

const passphrase = 'the right passphrase';
const gpg = new Gpg();
after(() => gpg.dispose());

async function decrypt(message: Uint8Array, dec: { passphrase?: string; privateKeys?: openpgp.PrivateKey[] } = { passphrase }, signal?: AbortSignal): Promise<Buffer> {
  const out: Uint8Array[] = [];
  const source = (async function* () {
    yield message;
  })();
  for await (const part of await decryptStream(source, dec, 'the object', signal)) out.push(part);
  return Buffer.concat(out);
}

/** Refused within `ms` with one line matching `pattern`. */
async function assertRefusedQuickly(message: Uint8Array, pattern: RegExp, dec?: { passphrase?: string; privateKeys?: openpgp.PrivateKey[] }, ms = 1000): Promise<void> {
  const started = Date.now();
  await assert.rejects(decrypt(message, dec), (err: unknown) => {
    assert.ok(err instanceof GlacierError, String(err));
    assert.match(err.message, pattern);
    assert.doesNotMatch(err.message, /\n/);
    return true;
  });
  assert.ok(Date.now() - started < ms, `took ${Date.now() - started} ms`);
}

/** Any SEIPD v1 after the key packets: the bombs are refused before it is read. */
const someData = packet(tag.seipd, seipdBody(packet(tag.literal, literalBody(Buffer.from('x'))), randomBytes(32)));
/** A SEIPD v2 packet header and some bytes: what follows a v6 SKESK. */
const someV2Data = packet(tag.seipd, Buffer.concat([Buffer.of(2, 9, 2, 16), randomBytes(32 + 100)]));

describe('Argon2 S2Ks past openpgp.js defaults are refused before any work', () => {
  it('SKESK v4 asking for 2^21 KiB (2 GiB) of memory', async () => {
    await assertRefusedQuickly(Buffer.concat([skeskV4Argon2(1, 4, 21), someData]), /^the object is refused \(its passphrase key asks Argon2 for 2\^21 KiB of memory; a reader allows at most 2\^16 KiB \(64 MiB\)\)$/);
  });

  it('SKESK v6 asking for 2^30 KiB, before a SEIPD v2', async () => {
    await assertRefusedQuickly(Buffer.concat([skeskV6Argon2(3, 4, 30), someV2Data]), /asks Argon2 for 2\^30 KiB of memory; a reader allows at most 2\^16 KiB/);
  });

  it('SKESK v6 asking for 255 passes over 64 MiB, and 4 passes over 64 MiB', async () => {
    await assertRefusedQuickly(Buffer.concat([skeskV6Argon2(255, 4, 16), someV2Data]), /asks Argon2 for 255 passes over 2\^16 KiB; a reader allows at most 3 passes over 64 MiB/);
    await assertRefusedQuickly(Buffer.concat([skeskV4Argon2(4, 1, 16), someData]), /asks Argon2 for 4 passes over 2\^16 KiB/);
  });

  it('three packets of 3 passes over 64 MiB (more than two of openpgp.js defaults in all)', async () => {
    await assertRefusedQuickly(
      Buffer.concat([skeskV6Argon2(3, 4, 16), skeskV6Argon2(3, 4, 16), skeskV6Argon2(3, 4, 16), someV2Data]),
      /^the object is refused \(its passphrase packets ask Argon2 for more than 6 passes over 64 MiB in all; a reader allows at most that\)$/,
    );
  });

  it('the same bomb in public-key mode (no passphrase to try) is refused as well', async () => {
    const key = gpg.generateKey('Limits <l@example.org>', '', 'future-default');
    const privateKeys = await loadPrivateKeys(key.secretKey);
    await assertRefusedQuickly(Buffer.concat([skeskV4Argon2(1, 4, 24), someData]), /asks Argon2 for 2\^24 KiB/, { privateKeys });
  });

  it('in public-key mode, passphrase packets within the limits cost no S2K work', async () => {
    const key = gpg.generateKey('Limits 2 <l2@example.org>', '', 'future-default');
    const privateKeys = await loadPrivateKeys(key.secretKey);
    // 7 packets of seconds of RIPEMD-160 and one of 3 passes over 64 MiB of Argon2, none tried.
    const message = Buffer.concat([...Array.from({ length: 7 }, () => skeskV4Iterated(255, 3)), skeskV4Argon2(3, 4, 16), someData]);
    await assertRefusedQuickly(message, /^cannot open the object: wrong passphrase or key$/, { privateKeys }, 500);
  });

  it('what openpgp.js writes by default with Argon2 (3 passes, 2^16 KiB) still opens, SEIPD v1 and v2', async () => {
    const data = randomBytes(3000);
    for (const aeadProtect of [false, true]) {
      const message = await openpgp.encrypt({
        message: await openpgp.createMessage({ binary: data }),
        passwords: [passphrase],
        format: 'binary',
        config: { s2kType: openpgp.enums.s2k.argon2, aeadProtect },
      });
      assert.deepEqual(await decrypt(message), data, `aeadProtect ${aeadProtect}`);
      await assert.rejects(decrypt(message, { passphrase: 'wrong' }), /cannot open the object: wrong passphrase or key/);
    }
  });
});

describe('the number of session-key packets is bounded', () => {
  it('3,000 passphrase packets with S2K count 255 (55 KB; took 125 s) are refused at once', async () => {
    const bomb = Buffer.concat([...Array.from({ length: 3000 }, () => skeskV4Iterated(255)), someData]);
    await assertRefusedQuickly(bomb, /^the object is refused \(it has more than 8 passphrase packets, the most a reader tries\)$/);
  });

  it('65 session-key packets of any kind are refused at once', async () => {
    const pkesk = packet(1, Buffer.concat([Buffer.of(3), randomBytes(8), Buffer.of(1, 0, 8), randomBytes(1)]));
    const bomb = Buffer.concat([...Array.from({ length: 65 }, () => pkesk), someData]);
    await assertRefusedQuickly(bomb, /^the object is refused \(it has more than 64 session-key packets, the most a reader tries\)$/, { passphrase });
  });

  it('8 passphrase packets with count 255: a wrong passphrase is tried against each, the right one opens the last', async () => {
    const data = randomBytes(2000);
    const real = messageOf(packet(tag.literal, literalBody(data)), passphrase);
    const message = Buffer.concat([...Array.from({ length: 7 }, () => skeskV4Iterated(255)), real]);
    assert.deepEqual(await decrypt(message), data);
    await assert.rejects(decrypt(message, { passphrase: 'wrong' }), /^GlacierError: cannot open the object: wrong passphrase or key$/);
    await assertRefusedQuickly(Buffer.concat([skeskV4Iterated(255), message]), /more than 8 passphrase packets/);
  });

  it('gpg -c with the largest S2K count (65,011,712, what GnuPG 2.2 calibrates to) still opens', async () => {
    const data = randomBytes(5000);
    const res = gpg.run(['--passphrase-fd', '0', '--symmetric', '--s2k-count', '65011712', '--output', '-'], Buffer.concat([Buffer.from(`${passphrase}\n`), data]));
    assert.equal(res.status, 0, res.stderr);
    // An old-format SKESK header (2 octets), then version, cipher, S2K type, hash, 8 salt octets, the count.
    assert.equal(res.stdout[14], 255, 'count byte 255');
    assert.deepEqual(await decrypt(res.stdout), data);
  });
});

describe('bounded S2K work stops when aborted', () => {
  it('8 RIPEMD-160 count-255 packets (seconds of hashing) stop within 300 ms of the abort', async () => {
    const message = Buffer.concat([...Array.from({ length: 8 }, () => skeskV4Iterated(255, 3)), someData]);
    const controller = new AbortController();
    const started = Date.now();
    const timer = setTimeout(() => controller.abort(), 200);
    await assert.rejects(decrypt(message, { passphrase: 'wrong' }, controller.signal), /^GlacierError: opening the object cancelled$/);
    clearTimeout(timer);
    assert.ok(Date.now() - started < 500, `took ${Date.now() - started} ms`);
  });
});
