/**
 * Which later snapshots need an archive (core/jobs/dependents.ts), over a real local-folder store
 * with encrypted summaries and manifests: a snapshot whose `needs` skips the archive but names a
 * dependent is deleted along (the closure), the catalog is read only when there is a later
 * snapshot, a wrong passphrase refuses instead of finding nothing, and the dependents go newest
 * first.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { LocalStore } from '../../src/core/store/local/localStore';
import { listArchives, writeManifest } from '../../src/core/catalog/catalog';
import { writeSummary } from '../../src/core/catalog/summary';
import { manifestFormat, type Manifest } from '../../src/core/catalog/manifest';
import { deleteRefusal, deleteWithDependents, dependentsOf } from '../../src/core/jobs/dependents';
import { tempDir } from '../helpers/tree';

const passphrase = 'dependents passphrase';
const enc = { mode: 'passphrase' as const, passphrase };
const id = (n: number): string => `2026010${n}T030405Z-000000000000000${n}`;
const [x, y, z, w] = [id(1), id(2), id(3), id(4)];
let root: string;
let store: LocalStore;

function manifest(own: string, sources: string, chain?: string[], needs?: string[]): Manifest {
  const m: Manifest = {
    format: manifestFormat,
    version: 1,
    id: own,
    created: `2026-01-0${own[7]}T03:04:05.000Z`,
    label: own,
    host: 'laptop',
    sources: [{ path: sources, name: path.basename(sources), type: 'directory' }],
    fingerprint: 'a'.repeat(64),
    archive: { key: `archives/${own}.tar.gpg`, tarSize: 10240, size: 64, sha256: 'b'.repeat(64), storageClass: 'STANDARD' },
    encryption: { mode: 'passphrase', recipients: [] },
    fileCount: 0,
    fileBytes: 0,
    entries: [],
    skipped: [],
    changed: [],
  };
  if (!chain) return m;
  return { ...m, version: 2, chain: { full: chain[0]!, previous: chain.at(-2)!, level: chain.length - 1, archives: chain, renamed: [] }, needs, added: 0, changedFiles: 1, removed: 0, uploadedBytes: 64 };
}

async function* once(bytes: Buffer): AsyncGenerator<Buffer> {
  yield bytes;
}

before(async () => {
  root = tempDir('gb-dependents-');
  mkdirSync(path.join(root, 'store'));
  store = new LocalStore({ root: path.join(root, 'store') });
  // x: a full; y: an increment reading x; z: an increment of the same chain that reads y but not x
  // (its files all changed since x); w: another folder's full.
  const snapshots = [manifest(x, '/data'), manifest(y, '/data', [x, y], [x, y]), manifest(z, '/data', [x, y, z], [y, z]), manifest(w, '/other')];
  for (const m of snapshots) {
    await writeSummary(store, m, enc);
    await writeManifest(store, m, enc);
    await store.put({ key: `archives/${m.id}.tar.gpg`, body: once(Buffer.alloc(64)), tier: 'archive', sizeBound: 64, what: 'archive' });
  }
});

after(() => rmSync(root, { recursive: true, force: true }));

describe('dependentsOf', () => {
  it('names the snapshots that need the archive, and deletes along those that need them', async () => {
    const deps = await dependentsOf(store, x, async () => ({ passphrase }));
    assert.deepEqual(deps.needers.map((d) => d.id), [y]);
    assert.deepEqual(deps.closure.map((d) => d.id), [y, z]);
    assert.equal(deps.later, 3);
    assert.deepEqual(deps.unreadable, []);
    assert.match(deleteRefusal(x, deps)!.message, new RegExp(`^archive ${x} is not deleted: 1 later snapshot \\(${y}\\) of its chain needs it to be restored; delete that one first`));
  });

  it('asks for nothing to open the catalog when no snapshot is later', async () => {
    let asked = false;
    const deps = await dependentsOf(store, w, async () => {
      asked = true;
      return { passphrase };
    });
    assert.equal(asked, false);
    assert.equal(deleteRefusal(w, deps), undefined);
  });

  it('refuses when no later snapshot can be read, rather than finding none', async () => {
    const deps = await dependentsOf(store, x, async () => ({ passphrase: 'wrong' }));
    assert.equal(deps.needers.length, 0);
    const refusal = deleteRefusal(x, deps);
    assert.equal(refusal?.code, 'crypto');
    assert.match(refusal!.message, /whether 3 later snapshots \(.*\) need it is unknown/);
  });

  it('deletes the closure newest first, then the archive; the other folder\'s snapshot stays', async () => {
    const deps = await dependentsOf(store, x, async () => ({ passphrase }));
    assert.deepEqual(await deleteWithDependents({ store, id: x }, deps.closure), [z, y, x]);
    assert.deepEqual((await listArchives(store)).map((i) => i.id), [w]);
  });
});
