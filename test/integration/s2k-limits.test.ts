/**
 * S2K resource bombs through the built CLI (issue 13): a planted catalog entry whose Argon2 S2K
 * asks for gigabytes is refused by `list` in about a second, naming the limit; and `download-key`
 * of an object whose bounded S2K work takes seconds stops promptly on SIGTERM, leaving its
 * destination as it was.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { startMoto, type Moto } from '../helpers/moto';
import { cliEnv, runCli } from '../helpers/cli';
import { tempDir } from '../helpers/tree';
import { literalBody, packet, seipdBody, skeskV4Argon2, skeskV4Iterated, skeskV6Argon2, tag } from '../helpers/pgpCraft';

const bucket = 's2k-limits-tests';
const passphrase = 'pw';
let moto: Moto;
let work: string;

const env = (): NodeJS.ProcessEnv => cliEnv({ endpoint: moto.endpoint, bucket, work, passphrase });
const put = (key: string, body: Uint8Array): Promise<unknown> => moto.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
const someData = packet(tag.seipd, seipdBody(packet(tag.literal, literalBody(Buffer.from('x'))), randomBytes(32)));

before(async () => {
  work = tempDir();
  moto = await startMoto();
  await moto.createBucket(bucket);
});

after(async () => {
  await moto.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('S2K bombs through the CLI', () => {
  it('list: a planted catalog entry asking Argon2 for 2^22 KiB is refused in about a second', async () => {
    const id = '20260101T000000Z-00000000000000b1';
    await put(`glacier-backup/archives/${id}.tar.gpg`, randomBytes(100));
    await put(`glacier-backup/catalog/${id}.json.gpg`, Buffer.concat([skeskV6Argon2(1, 4, 22), skeskV4Argon2(3, 4, 22), someData]));
    const started = Date.now();
    const res = await runCli(['list'], env());
    assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /\(the manifest of 20260101T000000Z-00000000000000b1 is refused \(its passphrase key asks Argon2 for 2\^22 KiB of memory; a reader allows at most 2\^16 KiB \(64 MiB\)\)\)/);
  });

  it('download-key: SIGTERM during seconds of bounded S2K work stops it promptly', async () => {
    const key = 'foreign/slow.tar.gpg';
    // 8 RIPEMD-160 count-255 packets for AES-256: two hashes of 65 MB each, 3.5 s in all on an idle
    // machine; the CLI has reached them 2 s after it started (about 0.3 s when idle).
    await put(key, Buffer.concat([...Array.from({ length: 8 }, () => skeskV4Iterated(255, 3)), someData]));
    const dest = path.join(work, 'dest');
    mkdirSync(dest);
    let killedAt = 0;
    const started = Date.now();
    const res = await runCli(['download-key', `${bucket}/${key}`, dest], env(), {
      onSpawn: (pid) => {
        setTimeout(() => {
          killedAt = Date.now();
          process.kill(pid, 'SIGTERM');
        }, 2000);
      },
    });
    const exited = Date.now();
    assert.ok(killedAt > 0 && exited - killedAt < 1000, `exited ${exited - killedAt} ms after SIGTERM (${exited - started} ms in all)`);
    assert.equal(res.code, 1, res.stderr);
    assert.match(res.stderr, /^glacier-backup: opening s3:\/\/s2k-limits-tests\/foreign\/slow\.tar\.gpg cancelled\n$/);
    assert.deepEqual(readdirSync(dest), []);
  });
});
