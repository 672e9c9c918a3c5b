/**
 * Hostile manifests through the CLI against moto, as someone with write access to the bucket
 * would plant them: a compressed manifest that expands past every limit, and text from the bucket
 * made to drive the terminal. Each ends in one clear line (or escaped output), bounded memory,
 * and no stack trace.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { readManifest, writeManifest } from '../../src/core/catalog/catalog';
import type { Manifest } from '../../src/core/catalog/manifest';
import { useMoto, type Moto } from '../helpers/moto';
import { cliEnv, cliPath, runCli, type CliResult } from '../helpers/cli';
import { S3Store } from '../../src/core/store/s3/s3Store';

const bucket = 'hostile-catalog-tests';
const passphrase = 'catalog passphrase';
const prefix = 'glacier-backup/';
const store = { bucket, prefix, storageClass: 'STANDARD' as const };
let moto: Moto;
let work: string;

useMoto(bucket, (m, w) => {
  moto = m;
  work = w;
});

function env(): NodeJS.ProcessEnv {
  return cliEnv({ endpoint: moto.endpoint, bucket, work, passphrase });
}

const manifestKey = (id: string): string => `${prefix}catalog/${id}.json.gpg`;
const archiveKey = (id: string): string => `${prefix}archives/${id}.tar.gpg`;

function assertOneLineFailure(res: CliResult, pattern: RegExp): void {
  assert.equal(res.code, 1, `exit code; stderr: ${res.stderr}`);
  const lines = res.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line on stderr, got: ${res.stderr}`);
  assert.match(lines[0]!, /^glacier-backup: /);
  assert.match(lines[0]!, pattern);
}

/** Runs the CLI under /usr/bin/time; returns its result and peak RSS in MB. */
async function runMeasured(args: string[]): Promise<CliResult & { rssMb: number }> {
  const rssFile = path.join(work, `rss-${Date.now()}`);
  const res = await runCli(args, env(), { wrap: ['/usr/bin/time', '-q', '-f', '%M', '-o', rssFile] });
  return { ...res, rssMb: Number(readFileSync(rssFile, 'utf8').trim().split('\n').pop()) / 1024 };
}

/** A manifest of one file, as a backup writes it, with `over` applied. */
function manifest(id: string, over: Partial<Manifest> = {}): Manifest {
  return {
    format: 'glacier-backup/manifest',
    version: 1,
    id,
    created: '2026-01-02T03:04:05.000Z',
    label: 'docs',
    host: 'host',
    sources: [{ path: '/home/u/docs', name: 'docs', type: 'directory' }],
    fingerprint: 'f'.repeat(64),
    archive: { key: archiveKey(id), tarSize: 10240, size: 10300, sha256: 'a'.repeat(64), storageClass: 'STANDARD' },
    encryption: { mode: 'passphrase', recipients: [] },
    fileCount: 1,
    fileBytes: 3,
    entries: [{ path: 'docs/a.txt', type: 'file', size: 3, mtime: 1_700_000_000_000, mode: 0o644, sha256: 'c'.repeat(64) }],
    skipped: [],
    changed: [],
    ...over,
  };
}

async function plant(m: Manifest): Promise<void> {
  await moto.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: manifestKey(m.id) }));
  await writeManifest(new S3Store(moto.client, { ...store, endpoint: moto.endpoint }), m, { mode: 'passphrase', passphrase });
  await moto.client.send(new PutObjectCommand({ Bucket: bucket, Key: archiveKey(m.id), Body: Buffer.alloc(16) }));
}

describe('a compressed manifest bomb', () => {
  const id = '20260301T000000Z-00000000000000b0';

  it('is refused by files within the plaintext limit, in bounded time and memory', async () => {
    // 300 MB of JSON (whitespace inside "entries") that gpg compresses to well under 1 MB.
    const [head, tail] = JSON.stringify(manifest(id, { entries: [] })).split('"entries":[]');
    const dir = path.join(work, 'bomb');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'pass'), passphrase);
    writeFileSync(path.join(dir, 'head'), `${head}"entries":[`);
    writeFileSync(path.join(dir, 'tail'), `]${tail}`);
    const out = path.join(dir, 'bomb.gpg');
    const made = spawnSync(
      'sh',
      ['-c', `{ cat head; head -c 300000000 /dev/zero | tr '\\0' ' '; cat tail; } | gpg --homedir . --batch --quiet --passphrase-file pass --pinentry-mode loopback -c --compress-algo zlib -z 9 -o bomb.gpg`],
      { cwd: dir, encoding: 'utf8' },
    );
    spawnSync('gpgconf', ['--homedir', dir, '--kill', 'all']);
    assert.equal(made.status, 0, made.stderr);
    const bomb = readFileSync(out);
    assert.ok(bomb.length < 2_000_000, `compressed to ${bomb.length} bytes`);
    await moto.client.send(new PutObjectCommand({ Bucket: bucket, Key: manifestKey(id), Body: bomb }));
    await moto.client.send(new PutObjectCommand({ Bucket: bucket, Key: archiveKey(id), Body: Buffer.alloc(16) }));

    const started = Date.now();
    const res = await runMeasured(['files', id]);
    assertOneLineFailure(res, /manifest of 20260301T000000Z-00000000000000b0 is refused: its plaintext is larger than 268435456 bytes/);
    assert.equal(res.stdout, '');
    assert.ok(res.rssMb < 200, `peak RSS ${res.rssMb} MB`);
    assert.ok(Date.now() - started < 30_000);
  });

  it('is reported by list on its row, in bounded memory', async () => {
    const res = await runMeasured(['list']);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /00000000000000b0\t.*\(manifest of .* is refused: its plaintext is larger than/);
    assert.ok(res.rssMb < 200, `peak RSS ${res.rssMb} MB`);
    await moto.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: manifestKey(id) }));
    await moto.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: archiveKey(id) }));
  });
});

describe('text from the bucket on the terminal', () => {
  const id = '20260302T000000Z-00000000000000e5';
  // Set the window title, colour red, reverse the line (bidi override), a C1 CSI, a new line.
  const label = 'docs\u001b]0;owned\u0007\u001b[31m\u202eevil\u009b2J\nline';
  const file = 'docs/a\u001b[2Jb\u2066.txt';
  const raw = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

  it('list and files show labels and paths escaped', async () => {
    await plant(manifest(id, { label, entries: [{ path: file, type: 'file', size: 3, mtime: 1_700_000_000_000, mode: 0o644, sha256: 'c'.repeat(64) }] }));
    const list = await runCli(['list'], env());
    assert.equal(list.code, 0, list.stderr);
    assert.doesNotMatch(list.stdout, raw);
    assert.ok(list.stdout.includes('docs\\x1b]0;owned\\x07\\x1b[31m\\u{202e}evil\\x9b2J\\x0aline'), list.stdout);
    assert.equal(list.stdout.trim().split('\n').length, 2, 'the new line in the label does not start a row');
    const files = await runCli(['files', id], env());
    assert.equal(files.code, 0, files.stderr);
    assert.doesNotMatch(files.stdout, raw);
    assert.ok(files.stdout.includes('docs/a\\x1b[2Jb\\u{2066}.txt'), files.stdout);
  });

  it('--json output escapes them too and still parses to the same text', async () => {
    for (const args of [['list', '--json'], ['files', id, '--json']]) {
      const res = await runCli(args, env());
      assert.equal(res.code, 0, res.stderr);
      assert.doesNotMatch(res.stdout, raw);
      assert.ok(res.stdout.includes(args[0] === 'list' ? label.replace(/./gsu, (c) => JSON.stringify(c).slice(1, -1)).replace('\u202e', '\\u202e').replace('\u009b', '\\u009b') : '\\u2066'), res.stdout);
      const value = JSON.parse(res.stdout) as { label?: string; path?: string }[];
      assert.ok(value.some((v) => v.label === label || v.path === file));
    }
  });

  it('an error message quoting a path from the manifest is one escaped line (verify)', async () => {
    const dir = path.join(work, 'real');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'a.txt'), 'abc');
    const backup = await runCli(['backup', dir, '--storage-class', 'STANDARD'], env());
    assert.equal(backup.code, 0, backup.stderr);
    const real = backup.stdout.trim();
    const m = await readManifest(new S3Store(moto.client, { ...store, endpoint: moto.endpoint }), real, { passphrase });
    m.entries = m.entries.map((e) => (e.type === 'file' ? { ...e, path: file } : e));
    await moto.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: manifestKey(real) }));
    await writeManifest(new S3Store(moto.client, { ...store, endpoint: moto.endpoint }), m, { mode: 'passphrase', passphrase });
    const res = await runCli(['verify', real], env());
    assertOneLineFailure(res, /lacks "docs\/a\\x1b\[2Jb\\u\{2066\}\.txt"/);
    assert.doesNotMatch(res.stderr, raw);
  });

  it('an mtime no date can hold is refused in one line, not "Invalid time value"', async () => {
    const bad = '20260302T000000Z-0000000000000e30';
    await plant(manifest(bad, { entries: [{ path: 'docs/a.txt', type: 'file', size: 3, mtime: 1e300, mode: 0o644, sha256: 'c'.repeat(64) }] }));
    const res = await runCli(['files', bad], env());
    assertOneLineFailure(res, /manifest of .* is invalid: an entry has a modification time out of range/);
  });
});

describe('a closed pipe', () => {
  it('ends list quietly when its reader goes away (list | head -1)', async () => {
    const child = spawn(process.execPath, [cliPath, 'list'], { env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(stderr, '');
    assert.equal(code, 0);
  });
});
