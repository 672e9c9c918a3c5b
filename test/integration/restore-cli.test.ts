/**
 * The restore cycle through the CLI against moto: backup → status archived → download refused →
 * restore → status restored → download → identical files; and damaged or hostile archives refused
 * with nothing written outside staging and staging removed.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import * as tar from 'tar-stream';
import { encryptBytes } from '../../src/core/crypto/openpgp';
import { useMoto, type Moto } from '../helpers/moto';
import { startCuttingProxy } from '../helpers/restoreProxy';
import { cliEnv, runCli } from '../helpers/cli';
import { makeTree, snapshot } from '../helpers/tree';

const bucket = 'restore-cli-tests';
const passphrase = 'restore passphrase';
let moto: Moto;
let work: string;

function env(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  return cliEnv({ endpoint: moto.endpoint, bucket: bucket, work, passphrase: passphrase }, extra);
}

async function backupTiny(name: string): Promise<string> {
  const dir = path.join(work, name);
  mkdirSync(dir);
  writeFileSync(path.join(dir, 'a.txt'), `content of ${name}\n`);
  const res = await runCli(['backup', dir, '--storage-class', 'STANDARD'], env());
  assert.equal(res.code, 0, res.stderr);
  return res.stdout.trim();
}

async function replaceArchive(id: string, body: Uint8Array): Promise<void> {
  await moto.client.send(new PutObjectCommand({ Bucket: bucket, Key: `glacier-backup/archives/${id}.tar.gpg`, Body: body }));
}

async function archiveBytes(id: string): Promise<Buffer> {
  const res = await moto.client.send(new GetObjectCommand({ Bucket: bucket, Key: `glacier-backup/archives/${id}.tar.gpg` }));
  return Buffer.from(await res.Body!.transformToByteArray());
}

/** The destination must hold exactly what it held before: nothing new, no staging left behind. */
function assertUntouched(dest: string, before: string[]): void {
  assert.deepEqual(readdirSync(dest).sort(), before);
}

useMoto(bucket, (m, w) => {
  moto = m;
  work = w;
});

describe('the whole cycle in Deep Archive', () => {
  let id: string;
  let source: string;
  const dest = () => path.join(work, 'dest');

  it('backs up and reports the archive as archived', async () => {
    source = path.join(work, 'cycle');
    mkdirSync(source);
    makeTree(source);
    const res = await runCli(['backup', source, '--label', 'Cycle test'], env());
    assert.equal(res.code, 0, res.stderr);
    id = res.stdout.trim();
    const status = await runCli(['status', id, '--json'], env());
    assert.equal(status.code, 0, status.stderr);
    assert.equal(JSON.parse(status.stdout).state, 'archived');
    const list = await runCli(['list'], env());
    assert.match(list.stdout, new RegExp(`${id}.*DEEP_ARCHIVE\\tarchived`));
  });

  it('refuses to download before a restore, leaving the destination untouched', async () => {
    mkdirSync(dest());
    writeFileSync(path.join(dest(), 'existing.txt'), 'keep me');
    const res = await runCli(['download', id, dest()], env());
    assert.equal(res.code, 1);
    assert.match(res.stderr, /is in DEEP_ARCHIVE and not restored: request a restore first/);
    assertUntouched(dest(), ['existing.txt']);
  });

  it('refuses the Expedited tier for Deep Archive, then requests a Standard restore', async () => {
    const expedited = await runCli(['restore', id, '--tier', 'Expedited'], env());
    assert.equal(expedited.code, 2);
    assert.match(expedited.stderr, /Deep Archive has no Expedited tier/);
    const res = await runCli(['restore', id, '--tier', 'Standard', '--days', '3'], env());
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stderr, /restore of .* requested \(Standard, within 12 hours, kept 3 days\)/);
    // The plan comes first: which archive, how much, and the cost of each tier Deep Archive offers.
    assert.match(res.stderr, new RegExp(`^snapshot ${id} reads 1 archive \\([\\d.]+ [KM]iB\\): ${id}$`, 'm'));
    assert.match(res.stderr, /^retrieving [\d.]+ [KM]iB costs about (< )?\$\S+ \(Standard, within 12 hours\), (< )?\$\S+ \(Bulk, within 48 hours\)$/m);
    const status = JSON.parse((await runCli(['status', id, '--json'], env())).stdout);
    assert.equal(status.state, 'restored');
    assert.ok(Date.parse(status.expiry) > Date.now());
    const again = await runCli(['restore', id, '--days', '5'], env());
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /kept 5 more days/);
  });

  it('downloads into a new folder with files, modes and mtimes identical to the source', async () => {
    // The tree holds an absolute (dangling) link: refused unless the user allows such links.
    const refused = await runCli(['download', id, dest()], env());
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /refused entry "cycle\/dangling-link".*--allow-outside-links restores such links/);
    assertUntouched(dest(), ['existing.txt']);
    const res = await runCli(['download', id, dest(), '--allow-outside-links'], env());
    assert.equal(res.code, 0, res.stderr);
    const out = res.stdout.trim();
    assert.equal(path.dirname(out), dest());
    assert.match(path.basename(out), /^Cycle test-\d{4}-\d{2}-\d{2}$/);
    assert.deepEqual(readdirSync(dest()).sort(), ['Cycle test-' + path.basename(out).slice(-10), 'existing.txt'].sort());
    const want = snapshot(source, (rel) => rel.startsWith('node_modules'));
    const got = snapshot(path.join(out, 'cycle'));
    assert.deepEqual([...got.keys()], [...want.keys()]);
    for (const [rel, w] of want) {
      const g = got.get(rel)!;
      assert.equal(g.type, w.type, rel);
      assert.equal(g.sha256, w.sha256, rel);
      assert.equal(g.target, w.target, rel);
      if (w.type !== 'symlink') {
        assert.equal(g.mode, w.mode, `mode of ${rel}`);
        assert.equal(g.mtime, w.mtime, `mtime of ${rel}`);
      }
    }
    const second = await runCli(['download', id, dest(), '--allow-outside-links'], env());
    assert.equal(second.code, 0, second.stderr);
    assert.equal(second.stdout.trim(), `${out}-2`, 'never overwrites an earlier restore');
  });

  it('restores only a subset', async () => {
    const sub = path.join(work, 'subset');
    const res = await runCli(['download', id, sub, '--only', 'cycle/docs/readme.md', '--allow-outside-links'], env());
    assert.equal(res.code, 0, res.stderr);
    const got = snapshot(path.join(res.stdout.trim()));
    assert.deepEqual([...got.entries()].filter(([, e]) => e.type === 'file').map(([p]) => p), ['cycle/docs/readme.md']);
  });
});

describe('damaged and hostile archives', () => {
  const dest = () => path.join(work, 'bad-dest');
  before(() => mkdirSync(dest(), { recursive: true }));

  it('a wrong passphrase', async () => {
    const id = await backupTiny('wrong-pass');
    const res = await runCli(['download', id, dest()], env({ GLACIER_BACKUP_PASSPHRASE: 'not the passphrase' }));
    assert.equal(res.code, 1);
    assert.match(res.stderr, /cannot open the manifest of .*: wrong passphrase or key/);
    assertUntouched(dest(), []);
  });

  it('one bit flipped in the middle, and a truncated ciphertext', async () => {
    for (const damage of ['flip', 'truncate'] as const) {
      const id = await backupTiny(`damaged-${damage}`);
      const bytes = await archiveBytes(id);
      if (damage === 'flip') bytes[Math.floor(bytes.length / 2)]! ^= 0x10;
      await replaceArchive(id, damage === 'flip' ? bytes : bytes.subarray(0, bytes.length - 40));
      const res = await runCli(['download', id, dest()], env());
      assert.equal(res.code, 1, `${damage}: ${res.stderr}`);
      assert.match(res.stderr, /integrity check|damaged|does not match its manifest|not a valid tar/, damage);
      assert.equal(res.stderr.trim().split('\n').length, 1);
      assertUntouched(dest(), []);
    }
  });

  it('an archive whose manifest is missing', async () => {
    const res = await runCli(['download', '20260101T000000Z-0000000000000000', dest()], env());
    assert.equal(res.code, 1);
    assert.match(res.stderr, /has no manifest in the catalog/);
  });

  for (const [name, entries] of [
    ['../escape', [{ name: '../escape', type: 'file', body: 'x' }]],
    ['/abs/path', [{ name: '/abs/path', type: 'file', body: 'x' }]],
    ['evil', [{ name: 'evil', type: 'symlink', linkname: path.join(work ?? '/tmp', 'outside') }, { name: 'evil/pwned', type: 'file', body: 'x' }]],
    ['hard', [{ name: 'hard', type: 'link', linkname: '/etc/passwd' }]],
  ] as const) {
    it(`a tar with "${name}", encrypted with the right passphrase, is refused by the tar layer`, async () => {
      const outside = path.join(work, 'outside');
      mkdirSync(outside, { recursive: true });
      const id = await backupTiny(`hostile-${Math.random().toString(16).slice(2)}`);
      const pack = tar.pack();
      for (const e of entries as readonly { name: string; type: string; body?: string; linkname?: string }[]) {
        const header = { name: e.name, type: e.type, ...(e.linkname ? { linkname: e.linkname.replace('/tmp/outside', outside) } : {}) } as Parameters<typeof pack.entry>[0];
        if (e.body !== undefined) pack.entry(header, e.body);
        else pack.entry(header);
      }
      pack.finalize();
      const chunks: Buffer[] = [];
      for await (const c of pack) chunks.push(c as Buffer);
      await replaceArchive(id, await encryptBytes(Buffer.concat(chunks), { mode: 'passphrase', passphrase }));
      const res = await runCli(['download', id, dest()], env());
      assert.equal(res.code, 1, res.stderr);
      assert.match(res.stderr, new RegExp(`refused entry "${name.replace(/[./]/g, (c) => `\\${c}`)}`));
      assertUntouched(dest(), []);
      assert.deepEqual(readdirSync(outside), []);
    });
  }
});

describe('a dropped connection', () => {
  it('resumes with a ranged GET and still verifies byte-identical', async () => {
    const dir = path.join(work, 'resumable');
    mkdirSync(dir);
    const data = Buffer.alloc(3 * 1024 * 1024);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7919) % 251;
    writeFileSync(path.join(dir, 'data.bin'), data);
    const backup = await runCli(['backup', dir, '--storage-class', 'STANDARD'], env());
    assert.equal(backup.code, 0, backup.stderr);
    const proxy = await startCuttingProxy(moto.endpoint, 1024 * 1024);
    try {
      const out = path.join(work, 'resumed-dest');
      const res = await runCli(['download', backup.stdout.trim(), out], env({ GLACIER_BACKUP_ENDPOINT: proxy.endpoint }));
      assert.equal(res.code, 0, res.stderr);
      assert.equal(proxy.ranges[0], '');
      assert.match(proxy.ranges[1] ?? '', /^bytes=\d+-$/, `ranges: ${proxy.ranges.join(', ')}`);
      // A reset may drop bytes in flight, so the client resumes where its own count stopped.
      const offset = Number(/\d+/.exec(proxy.ranges[1]!)![0]);
      assert.ok(offset > 0 && offset <= 1024 * 1024, `resumed mid-object, not from the start: ${offset}`);
      const restored = (await import('node:fs')).readFileSync(path.join(res.stdout.trim(), 'resumable', 'data.bin'));
      assert.ok(restored.equals(data));
    } finally {
      await proxy.close();
    }
  });
});
