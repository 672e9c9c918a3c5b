/**
 * The listing job (core/jobs/listing.ts) against moto, as `list` and VS Code's Archives view use
 * it: every id with its Glacier state and summary, orphans as problems, cached summaries not read
 * again, and no key meaning no summaries rather than a failure. (summaries.test.ts counts the
 * requests.)
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { StoreConfig } from '../../src/core/config';
import { keys } from '../../src/core/model/keys';
import { backup, newArchiveId } from '../../src/core/jobs/backup';
import { listArchivesWithState, type ListedArchive } from '../../src/core/jobs/listing';
import type { ArchiveStore } from '../../src/core/store/archiveStore';
import { openStore } from '../../src/core/jobs/openStore';
import { useMoto, type Moto } from '../helpers/moto';

const bucket = 'listing-tests';
const passphrase = 'listing passphrase';
let moto: Moto;
let work: string;

useMoto(bucket, (m, w) => {
  moto = m;
  work = w;
});

function store(storageClass: StoreConfig['storageClass']): ArchiveStore {
  return openStore({ kind: 's3', bucket, prefix: 'p/', endpoint: moto.endpoint, forcePathStyle: true, storageClass, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
}

async function backUp(name: string, storageClass: StoreConfig['storageClass']): Promise<string> {
  const dir = path.join(work, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'a.txt'), `${name}\n`);
  const s = store(storageClass);
  const res = await backup({ store: s, paths: [dir], label: name, encryption: { mode: 'passphrase', passphrase }, force: true });
  return res.id;
}

async function put(key: string, body: string): Promise<void> {
  await moto.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
}

describe('listArchivesWithState', () => {
  let deep: string;
  let standard: string;
  let noArchive: string;
  let noManifest: string;

  it('lists every id with its state and summary, and orphans as problems', async () => {
    deep = await backUp('deep', 'DEEP_ARCHIVE');
    standard = await backUp('standard', 'STANDARD');
    noArchive = newArchiveId(new Date('2026-01-01T00:00:00Z'));
    noManifest = newArchiveId(new Date('2026-01-02T00:00:00Z'));
    await put(`p/${keys.manifest(noArchive)}`, 'not a manifest');
    await put(`p/${keys.archive(noManifest)}`, 'not an archive');

    const s = store('STANDARD');
    const phases: string[] = [];
    let asked = 0;
    const { archives, needsKey } = await listArchivesWithState({
      store: s,
      decryption: async () => {
        asked++;
        return { passphrase };
      },
      onPhase: (phase) => void phases.push(phase),
    });
    assert.equal(needsKey, false);
    assert.equal(asked, 1, 'the key is asked for once');
    assert.deepEqual(phases, ['listed', 'summaries']);
    const byId = new Map(archives.map((a) => [a.id, a]));
    assert.deepEqual(new Set(byId.keys()), new Set([deep, standard, noArchive, noManifest]));
    assert.equal(byId.get(deep)!.state?.state, 'archived');
    assert.equal(byId.get(deep)!.summary?.label, 'deep');
    assert.equal(byId.get(deep)!.summary?.fileCount, 1);
    assert.equal(byId.get(standard)!.state?.state, 'available');
    assert.equal(byId.get(standard)!.summary?.label, 'standard');
    assert.equal(byId.get(standard)!.problem, undefined);
    assert.deepEqual(byId.get(noArchive)!.problem, { kind: 'manifest-without-archive', message: 'manifest without archive' });
    assert.equal(byId.get(noArchive)!.state, undefined);
    assert.equal(byId.get(noManifest)!.problem?.kind, 'archive-without-manifest');
    assert.equal(byId.get(noManifest)!.state?.state, 'available');
  });

  it('reads no summary the local cache has, and says when no key was at hand', async () => {
    const s = store('STANDARD');
    const cacheDir = path.join(work, 'listing-state');
    const first = await listArchivesWithState({ store: s, decryption: async () => ({ passphrase }), cacheDir });
    assert.equal(first.needsKey, false);

    let asked = 0;
    const again = await listArchivesWithState({
      store: s,
      decryption: async () => {
        asked++;
        return undefined;
      },
      cacheDir,
    });
    const label = (list: ListedArchive[], id: string): string | undefined => list.find((a) => a.id === id)?.summary?.label;
    assert.equal(label(again.archives, deep), 'deep', 'from the cache');
    // The orphan manifest is still unread (it never made a summary): the key is asked for, and missing.
    assert.equal(asked, 1);
    assert.equal(again.needsKey, true);

    const noKey = await listArchivesWithState({ store: s, decryption: async () => undefined });
    assert.equal(noKey.needsKey, true);
    assert.equal(label(noKey.archives, standard), undefined);
    assert.equal(noKey.archives.find((a) => a.id === deep)!.state?.state, 'archived', 'states do not need the key');
  });
});
