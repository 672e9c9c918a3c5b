/**
 * Restores that take time: a proxy makes moto report `ongoing-request="true"` for the first HEADs;
 * the tracker reports restoring, then ready, without ever checking an archive twice per interval;
 * `glacier-backup wait` polls until ready.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { useMoto, type Moto } from '../helpers/moto';
import { startRestoreProxy, type RestoreProxy } from '../helpers/restoreProxy';
import { cliEnv, runCli } from '../helpers/cli';
import { openStore } from '../../src/core/jobs/openStore';
import { FilePendingStore, MemoryPendingStore, RestoreTracker, type TrackerEvent } from '../../src/core/jobs/restoreTracker';
import { requestRestore } from '../../src/core/jobs/restoreRequest';
import { normalisePrefix, type StoreConfig } from '../../src/core/config';
import { S3Store } from '../../src/core/store/s3/s3Store';

const bucket = 'pending-tests';
let moto: Moto;
let work: string;

function env(endpoint: string): NodeJS.ProcessEnv {
  return cliEnv({ endpoint, bucket, work, passphrase: 'pw' });
}

async function backupOne(name: string): Promise<string> {
  const dir = path.join(work, name);
  mkdirSync(dir);
  writeFileSync(path.join(dir, 'f.txt'), name);
  const res = await runCli(['backup', dir], env(moto.endpoint));
  assert.equal(res.code, 0, res.stderr);
  return res.stdout.trim();
}

useMoto(bucket, (m, w) => {
  moto = m;
  work = w;
});

describe('the restore tracker', () => {
  let proxy: RestoreProxy;
  before(async () => {
    proxy = await startRestoreProxy(moto.endpoint, 5); // 3 HEADs by the two requests, 2 by the tracker
  });
  after(async () => proxy.close());

  it('reports restoring, then ready once, with at most one check per interval', async () => {
    const id = await backupOne('tracked');
    const store: StoreConfig = { bucket, prefix: normalisePrefix(undefined), storageClass: 'DEEP_ARCHIVE', endpoint: proxy.endpoint, forcePathStyle: true, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
    const s3 = openStore({ kind: 's3', ...store });
    let clock = 1_000_000;
    const tracker = new RestoreTracker({ store: s3, pending: new MemoryPendingStore(), interval: 1000, now: () => clock });
    const req = await requestRestore(s3, id, { tier: 'Bulk', days: 2 });
    assert.equal(req.outcome, 'requested');
    assert.equal(req.status.glacier.state, 'restoring', 'the proxy shows the restore as pending');
    const again = await requestRestore(s3, id, { tier: 'Bulk', days: 2 });
    assert.equal(again.outcome, 'already-in-progress', 'a second request while pending counts as success');
    await tracker.add(id, { tier: 'Bulk', days: 2 });
    const key = `/${bucket}/glacier-backup/archives/${id}.tar.gpg`;
    const headsBefore = proxy.heads.get(key) ?? 0;

    const seen: TrackerEvent['type'][] = [];
    for (let i = 0; i < 40 && !seen.includes('ready'); i++) {
      // Many calls within one interval make one request at most.
      for (let j = 0; j < 3; j++) for (const e of await tracker.checkDue()) seen.push(e.type);
      clock += 1000;
    }
    assert.deepEqual(seen, ['restoring', 'restoring', 'ready']);
    assert.ok((proxy.heads.get(key) ?? 0) - headsBefore <= 3, `HEADs: ${proxy.heads.get(key)}`);
    const [pending] = await tracker.pending();
    assert.equal(pending?.state, 'ready');
    assert.ok(pending?.expiry && Date.parse(pending.expiry) > Date.now());
    assert.deepEqual(await tracker.checkDue(), [], 'ready is reported once');
    s3.close?.();
  });

  it('survives a restart: the file store keeps pending restores', async () => {
    const file = path.join(work, 'pending.json');
    const store: StoreConfig = { bucket, prefix: 'glacier-backup/', storageClass: 'DEEP_ARCHIVE', endpoint: moto.endpoint };
    const a = new RestoreTracker({ store: new S3Store(moto.client, store), pending: new FilePendingStore(file) });
    await a.add('20260101T000000Z-00000000000000aa', { tier: 'Standard', days: 1 });
    const b = new RestoreTracker({ store: new S3Store(moto.client, store), pending: new FilePendingStore(file) });
    assert.deepEqual((await b.pending()).map((p) => [p.id, p.tier, p.state]), [['20260101T000000Z-00000000000000aa', 'Standard', 'restoring']]);
    const events = await b.checkDue();
    assert.equal(events[0]?.type, 'failed', 'an archive that does not exist fails');
    assert.match((events[0] as { message: string }).message, /does not exist/);
    assert.deepEqual(await b.pending(), []);
  });
});

describe('glacier-backup wait', () => {
  it('polls through the pending state until the archive is restored', async () => {
    const proxy = await startRestoreProxy(moto.endpoint, 4);
    try {
      const id = await backupOne('waited');
      const restore = await runCli(['restore', id, '--tier', 'Bulk'], env(proxy.endpoint));
      assert.equal(restore.code, 0, restore.stderr);
      assert.match(restore.stderr, /within 48 hours/);
      const res = await runCli(['wait', id, '--interval', '0.1'], env(proxy.endpoint));
      assert.equal(res.code, 0, res.stderr);
      assert.equal(res.stdout.trim(), 'restored');
      assert.match(res.stderr, /still being restored/);
      assert.match(res.stderr, new RegExp(`archive ${id} is ready until \\d{4}-`));
    } finally {
      await proxy.close();
    }
  });

  it('refuses to wait for an archive nobody asked to restore', async () => {
    const id = await backupOne('never-restored');
    const res = await runCli(['wait', id, '--interval', '0.1'], env(moto.endpoint));
    assert.equal(res.code, 2);
    assert.match(res.stderr, /no restore of .* was requested/);
  });
});
