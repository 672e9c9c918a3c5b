/**
 * Hostile OpenPGP messages through the built CLI (issue 13): a planted catalog entry whose Argon2
 * S2K asks for gigabytes is refused by `list` in about a second, naming the limit; `download-key`
 * of an object whose bounded S2K work takes seconds stops promptly on SIGTERM; a damaged
 * `gpg -c --compress-algo bzip2` archive ends in one clear line. The destination stays as it was.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { startMoto, type Moto } from '../helpers/moto';
import { cliEnv, runCli } from '../helpers/cli';
import { Gpg } from '../helpers/gpg';
import { tempDir } from '../helpers/tree';
import { literalBody, packet, seipdBody, skeskV4Argon2, skeskV4Iterated, skeskV6Argon2, tag } from '../helpers/pgpCraft';

const bucket = 'hostile-messages-tests';
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
    assert.match(res.stderr, /^glacier-backup: opening s3:\/\/hostile-messages-tests\/foreign\/slow\.tar\.gpg cancelled\n$/);
    assert.deepEqual(readdirSync(dest), []);
  });

  it('download-key: a gpg bzip2 archive with a flipped byte at 40, 60 or 100 ends in one clear line', async () => {
    const gpg = new Gpg();
    try {
      const tree = path.join(work, 'tree');
      mkdirSync(tree);
      for (let i = 0; i < 20; i++) writeFileSync(path.join(tree, `f${i}.txt`), `file ${i}\n`.repeat(2000 + i * 100));
      const tar = spawnSync('tar', ['-C', tree, '-cf', '-', '.'], { maxBuffer: 1 << 30 });
      assert.equal(tar.status, 0);
      const enc = gpg.run(['--passphrase-fd', '0', '--symmetric', '--compress-algo', 'bzip2', '--output', '-'], Buffer.concat([Buffer.from(`${passphrase}\n`), tar.stdout]));
      assert.equal(enc.status, 0, enc.stderr);
      const good = 'foreign/bzip2-good.tar.gpg';
      await put(good, enc.stdout);
      const ok = path.join(work, 'bz-ok');
      mkdirSync(ok);
      const res = await runCli(['download-key', `${bucket}/${good}`, ok], env());
      assert.equal(res.code, 0, res.stderr);
      for (const at of [40, 60, 100]) {
        const damaged = Buffer.from(enc.stdout);
        damaged[at]! ^= 0x20;
        const key = `foreign/bzip2-flipped-${at}.tar.gpg`;
        await put(key, damaged);
        const dest = path.join(work, `bz-${at}`);
        mkdirSync(dest);
        const started = Date.now();
        const bad = await runCli(['download-key', `${bucket}/${key}`, dest], env());
        assert.ok(Date.now() - started < 15_000, `byte ${at}: took ${Date.now() - started} ms`);
        assert.equal(bad.code, 1, `byte ${at}: ${bad.stderr}`);
        assert.match(bad.stderr, /^glacier-backup: (s3:\/\/\S+ (is damaged|failed its integrity check) \(.+\)|cannot open s3:\/\/\S+: wrong passphrase or key)\n$/, `byte ${at}`);
        assert.deepEqual(readdirSync(dest), [], `byte ${at}: nothing left in the destination`);
      }
    } finally {
      gpg.dispose();
    }
  });
});
