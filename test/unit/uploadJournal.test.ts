import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { claimJournal, interruptedUploads, parseJournal, removeJournal, writeJournal, type UploadJournal } from '../../src/core/catalog/uploadJournal';
import { sourcesKey } from '../../src/core/catalog/manifest';
import { tempDir } from '../helpers/tree';
import { makeZombie } from '../helpers/zombie';
import { storeId } from '../../src/core/config';

const store = { stateId: storeId({ bucket: 'b', prefix: 'p/' }) };
const sources = sourcesKey(os.hostname(), [{ path: '/home/me/project' }]);

function journal(id: string): Omit<UploadJournal, 'owner' | 'store' | 'version'> {
  return {
    sources,
    fingerprint: 'f'.repeat(64),
    id,
    key: `p/archives/${id}.tar.gpg`,
    uploadId: 'upload-1',
    partSize: 8 << 20,
    started: '2026-11-23T10:00:00.000Z',
    encryption: { mode: 'passphrase', recipients: [] },
    seipd: { algorithm: 'aes256', prefix: 'AAAA', keyPackets: 'AAAA', sessionKeyCheck: 'c'.repeat(64) },
  };
}

function fileOf(dir: string): string {
  const [name] = readdirSync(path.join(dir, 'uploads')).filter((n) => n.endsWith('.json'));
  return path.join(dir, 'uploads', name!);
}

describe('upload journal', () => {
  it('is written owner-only, and claimed only once its process is gone', async () => {
    const dir = tempDir();
    await writeJournal(dir, store, journal('a'));
    assert.equal(statSync(fileOf(dir)).mode & 0o777, 0o600);
    // Our own journal (say, a run of this process that failed to clean up) can be claimed.
    assert.equal((await claimJournal(dir, store, sources)) !== 'busy', true);

    // Owned by a live process (a backup in another window): left alone, and not offered.
    const sleeper = spawn('sleep', ['30']);
    try {
      const file = fileOf(dir);
      const owned = JSON.parse(readFileSync(file, 'utf8')) as UploadJournal;
      writeFileSync(file, JSON.stringify({ ...owned, owner: { host: os.hostname(), pid: sleeper.pid } }));
      assert.equal(await claimJournal(dir, store, sources), 'busy');
      assert.deepEqual(await interruptedUploads(dir, store), []);
    } finally {
      sleeper.kill();
      await new Promise((r) => sleeper.once('exit', r));
    }
    // Its process is gone: offered (with the paths it backs up) and claimable.
    const offered = await interruptedUploads(dir, store);
    assert.deepEqual(offered.map((o) => [o.journal.id, o.paths]), [['a', ['/home/me/project']]]);
    assert.deepEqual(await interruptedUploads(dir, { stateId: storeId({ bucket: 'b', prefix: 'other/' }) }), [], 'another store sees nothing');
    const claimed = await claimJournal(dir, store, sources);
    assert.ok(claimed !== 'busy' && claimed?.owner.pid === process.pid);

    // Removing names the upload: a journal replaced by another run's is not removed.
    await removeJournal(dir, store, sources, 'someone-else');
    assert.equal(readdirSync(path.join(dir, 'uploads')).filter((n) => n.endsWith('.json')).length, 1);
    await removeJournal(dir, store, sources, 'a');
    assert.equal(await claimJournal(dir, store, sources), undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it('hands over a journal whose owner is a zombie (exited, not yet reaped by its parent)', async () => {
    const dir = tempDir();
    const zombie = await makeZombie();
    try {
      assert.match(readFileSync(`/proc/${zombie.pid}/stat`, 'latin1'), /\) Z /, 'the owner is a zombie');
      await writeJournal(dir, store, journal('z'));
      const file = fileOf(dir);
      const owned = JSON.parse(readFileSync(file, 'utf8')) as UploadJournal;
      writeFileSync(file, JSON.stringify({ ...owned, owner: { host: os.hostname(), pid: zombie.pid } }));
      assert.deepEqual((await interruptedUploads(dir, store)).map((o) => o.journal.id), ['z']);
      const claimed = await claimJournal(dir, store, sources);
      assert.ok(claimed !== 'busy' && claimed?.id === 'z');
    } finally {
      await zombie.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('treats a damaged or foreign-shaped journal as absent', async () => {
    const good = { version: 1, store: 'x', owner: { host: 'h', pid: 1 }, ...journal('a') };
    assert.ok(parseJournal(good));
    // The compression setting: absent in journals written before compression (their uploads were not compressed).
    for (const compression of ['auto', 'max', 'off']) assert.ok(parseJournal({ ...good, compression }));
    for (const bad of [
      { ...good, compression: 'zstd' },
      null,
      'text',
      { ...good, version: 2 },
      { ...good, partSize: -1 },
      { ...good, seipd: { ...good.seipd, algorithm: 'twofish' } },
      { ...good, seipd: { ...good.seipd, keyPackets: 'not base64!' } },
      { ...good, encryption: { mode: 'none', recipients: [] } },
      { ...good, owner: undefined },
    ]) {
      assert.equal(parseJournal(bad), undefined, JSON.stringify(bad));
    }
    const dir = tempDir();
    await writeJournal(dir, store, journal('a'));
    writeFileSync(fileOf(dir), '{ torn');
    assert.equal(await claimJournal(dir, store, sources), undefined);
    rmSync(dir, { recursive: true, force: true });
  });
});
