/**
 * `glacier-backup list` reads the archives' Glacier states from the LIST where the server can be
 * trusted to report them (store/s3/listedRestore.ts), and HEADs each archive elsewhere. Two moto
 * servers: one patched to report RestoreStatus as AWS does (moto_restore_status.py), one as
 * shipped (which ignores the attribute). A restore proxy in front counts HEADs and listings, makes
 * restores look in progress, and plants malformed dates.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { backup } from '../../src/core/jobs/backup';
import { openStore } from '../../src/core/jobs/openStore';
import { keys } from '../../src/core/model/keys';
import { cliEnv, runCli } from '../helpers/cli';
import { startMoto, type Moto } from '../helpers/moto';
import { startRestoreProxy, type RestoreProxy } from '../helpers/restoreProxy';
import { tempDir } from '../helpers/tree';

const bucket = 'list-states';
const passphrase = 'list states';
const prefix = 'glacier-backup/';

interface Server {
  moto: Moto;
  ids: string[];
  /** The one archive restored (after `restoreOne`). */
  restored: string;
}

interface Row {
  id: string;
  state: string | null;
  expiry?: string;
}

let work: string;
const servers: Moto[] = [];
const proxies: RestoreProxy[] = [];

before(() => {
  work = tempDir();
});
after(async () => {
  for (const p of proxies) await p.close();
  for (const m of servers) await m.stop();
  rmSync(work, { recursive: true, force: true });
});

/** A moto (AWS-like or as shipped) with three snapshots in Deep Archive. */
async function server(name: string, restoreStatus: boolean): Promise<Server> {
  const moto = await startMoto({}, undefined, { restoreStatus });
  servers.push(moto);
  await moto.createBucket(bucket);
  const store = openStore({ kind: 's3', bucket, prefix, endpoint: moto.endpoint, forcePathStyle: true, storageClass: 'DEEP_ARCHIVE', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  const ids: string[] = [];
  for (const n of [1, 2, 3]) {
    const dir = path.join(work, `${name}-${n}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'a.txt'), `${name} ${n}\n`);
    ids.push((await backup({ store, paths: [dir], label: `${name} ${n}`, encryption: { mode: 'passphrase', passphrase }, force: true })).id);
  }
  store.close?.();
  return { moto, ids, restored: ids[1]! };
}

async function restoreOne(s: Server): Promise<void> {
  await s.moto.restore(bucket, `${prefix}${keys.archive(s.restored)}`);
}

async function proxyFor(s: Server, pendingHeads = 0): Promise<RestoreProxy> {
  const p = await startRestoreProxy(s.moto.endpoint, pendingHeads);
  proxies.push(p);
  return p;
}

/** `list --json` through the proxy (a fresh state folder each time: nothing cached between runs); the rows and the archive HEADs it made. */
async function list(p: RestoreProxy, s: Server): Promise<{ rows: Map<string, Row>; heads: number }> {
  const before = headCount(p);
  const run = `run-${Math.random().toString(36).slice(2)}`;
  const res = await runCli(['list', '--json'], cliEnv({ endpoint: p.endpoint, bucket, work: path.join(work, run), passphrase }));
  assert.equal(res.code, 0, res.stderr);
  const rows = (JSON.parse(res.stdout) as Row[]).filter((r) => s.ids.includes(r.id));
  assert.equal(rows.length, s.ids.length, res.stdout);
  return { rows: new Map(rows.map((r) => [r.id, r])), heads: headCount(p) - before };
}

function headCount(p: RestoreProxy): number {
  return [...p.heads].filter(([key]) => key.includes('/archives/')).reduce((n, [, c]) => n + c, 0);
}

/** Every snapshot archived but `s.restored`, which is restored for about a day (moto's restore of 1 day). */
function assertOneRestored(s: Server, rows: Map<string, Row>): void {
  for (const id of s.ids) {
    const row = rows.get(id)!;
    if (id !== s.restored) {
      assert.equal(row.state, 'archived', id);
      continue;
    }
    assert.equal(row.state, 'restored', id);
    const hours = (Date.parse(row.expiry ?? '') - Date.now()) / 3_600_000;
    assert.ok(hours > 12 && hours <= 24.1, `expiry ${row.expiry}`);
  }
}

describe('list on a server that reports RestoreStatus, as AWS does', () => {
  let s: Server;
  before(async () => {
    s = await server('aws', true);
  });

  it('HEADs the archives while no listing showed a RestoreStatus (the server has not proved it reports them)', async () => {
    const p = await proxyFor(s);
    const { rows, heads } = await list(p, s);
    for (const id of s.ids) assert.equal(rows.get(id)!.state, 'archived');
    assert.equal(heads, s.ids.length);
    assert.ok(p.lists.withRestoreStatus > 0, 'the listing asked for RestoreStatus');
  });

  it('with one archive restored, shows every state from the LIST, with zero HEADs on archives', async () => {
    await restoreOne(s);
    const p = await proxyFor(s);
    const { rows, heads } = await list(p, s);
    assertOneRestored(s, rows);
    assert.equal(heads, 0);
  });

  it('shows a restore in progress as restoring, still without HEADs', async () => {
    const p = await proxyFor(s, 1_000);
    const { rows, heads } = await list(p, s);
    for (const id of s.ids) assert.equal(rows.get(id)!.state, id === s.restored ? 'restoring' : 'archived', id);
    assert.equal(heads, 0);
  });

  it('ignores a malformed RestoreExpiryDate: the page is listed again without the attribute, and HEADs give the states', async () => {
    const p = await proxyFor(s);
    p.editListings((xml) => xml.replace(/<RestoreExpiryDate>[^<]*<\/RestoreExpiryDate>/g, '<RestoreExpiryDate>Fri, 99 Never 2026</RestoreExpiryDate>'));
    const { rows, heads } = await list(p, s);
    assertOneRestored(s, rows);
    assert.equal(heads, s.ids.length);
    assert.ok(p.lists.all > p.lists.withRestoreStatus, 'a listing without the attribute followed');
  });

  it('leaves to a HEAD a finished restore without an expiry date', async () => {
    const p = await proxyFor(s);
    p.editListings((xml) => xml.replace(/<RestoreExpiryDate>[^<]*<\/RestoreExpiryDate>/g, ''));
    const { rows, heads } = await list(p, s);
    assertOneRestored(s, rows);
    assert.equal(heads, 1, 'one HEAD, for the archive whose status said too little');
  });
});

describe('list on moto as shipped (no RestoreStatus in listings)', () => {
  it('gets every state right through one HEAD per archive', async () => {
    const s = await server('shipped', false);
    await restoreOne(s);
    const p = await proxyFor(s);
    const { rows, heads } = await list(p, s);
    assertOneRestored(s, rows);
    assert.equal(heads, s.ids.length);
  });
});
