/**
 * Local state shared by several processes: the pending-restore list and the last-backup records
 * are updated under a lock file, so concurrent updates from separate processes are never lost,
 * and a lock left by a killed process does not block anyone.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { withFileLock } from '../../src/core/fileLock';
import { FilePendingStore } from '../../src/core/jobs/restoreTracker';
import { lastBackup, recordBackup, recordsOf } from '../../src/core/catalog/dedupState';
import { tempDir } from '../helpers/tree';
import { makeZombie } from '../helpers/zombie';

const worker = path.resolve(__dirname, '../helpers/pendingWorker.ts');

function run(args: string[]): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
    const child = spawn(process.execPath, ['--import', 'tsx', worker, ...args], { env, stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('error', reject);
    child.on('close', resolve);
  });
}

describe('FilePendingStore across processes', () => {
  it('keeps every update when four processes add restores at the same time', async () => {
    const dir = tempDir();
    try {
      const file = path.join(dir, 'pending-restores.json');
      const codes = await Promise.all(['a', 'b', 'c', 'd'].map((tag) => run([file, tag, '15'])));
      assert.deepEqual(codes, [0, 0, 0, 0]);
      const ids = (await new FilePendingStore(file).load()).map((p) => p.id).sort();
      const expected = ['a', 'b', 'c', 'd'].flatMap((t) => Array.from({ length: 15 }, (_, i) => `${t}-${i}`)).sort();
      assert.deepEqual(ids, expected);
      assert.equal(existsSync(`${file}.lock`), false, 'the lock is released');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('withFileLock', () => {
  it('takes over a lock whose owner process is dead', async () => {
    const dir = tempDir();
    try {
      const file = path.join(dir, 'state.json');
      writeFileSync(`${file}.lock`, JSON.stringify({ host: os.hostname(), pid: 2 ** 22 + 12345, time: Date.now(), token: 'dead' }));
      const started = Date.now();
      assert.equal(await withFileLock(file, async () => 'ran', { waitMs: 5000 }), 'ran');
      assert.ok(Date.now() - started < 2000);
      assert.equal(existsSync(`${file}.lock`), false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('takes over a lock whose owner is a zombie, without waiting for the stale age', async () => {
    const dir = tempDir();
    const zombie = await makeZombie();
    try {
      const file = path.join(dir, 'state.json');
      writeFileSync(`${file}.lock`, JSON.stringify({ host: os.hostname(), pid: zombie.pid, time: Date.now(), token: 'zombie' }));
      const started = Date.now();
      assert.equal(await withFileLock(file, async () => 'ran', { waitMs: 3000 }), 'ran');
      assert.ok(Date.now() - started < 2000);
    } finally {
      await zombie.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('takes over a lock older than the stale age, whatever its owner', async () => {
    const dir = tempDir();
    try {
      const file = path.join(dir, 'state.json');
      writeFileSync(`${file}.lock`, JSON.stringify({ host: 'another-host', pid: 1, time: Date.now() - 60_000, token: 'old' }));
      assert.equal(await withFileLock(file, async () => 'ran', { waitMs: 5000 }), 'ran');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('waits for a live owner and then fails with a clear message', async () => {
    const dir = tempDir();
    try {
      const file = path.join(dir, 'state.json');
      const lock = JSON.stringify({ host: os.hostname(), pid: process.pid, time: Date.now(), token: 'live' });
      writeFileSync(`${file}.lock`, lock);
      await assert.rejects(withFileLock(file, async () => 'ran', { waitMs: 300 }), /state\.json is locked by process \d+ on .*delete .*state\.json\.lock/);
      assert.equal(readFileSync(`${file}.lock`, 'utf8'), lock, "another's live lock is left alone");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('serialises updates within one process too', async () => {
    const dir = tempDir();
    try {
      const store = { stateId: 'aws|b|p/' };
      await Promise.all(Array.from({ length: 20 }, (_, i) => recordBackup(dir, store, `sources-${i}`, { id: `id-${i}`, fingerprint: `f${i}` })));
      assert.equal((await recordsOf(dir, store)).length, 20);
      assert.deepEqual(await lastBackup(dir, store, 'sources-7'), { id: 'id-7', fingerprint: 'f7' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
