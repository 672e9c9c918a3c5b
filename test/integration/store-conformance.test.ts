/**
 * The guarantees of src/core/store/archiveStore.ts, run as the same cases against every store in
 * test/helpers/storeFactories.ts: what a put makes visible and when, write-once, idempotent
 * delete, listings without unfinished uploads, cancels and failing bodies that leave nothing
 * behind, warm-up semantics, a large object in bounded memory, and racing writers.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { ArchiveStore, PutRequest } from '../../src/core/store/archiveStore';
import { firstPartSize } from '../../src/core/store/partSchedule';
import { GlacierError, Suspend } from '../../src/core/errors';
import { needsRestore } from '../../src/core/model/glacierState';
import { storeFactories } from '../helpers/storeFactories';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const MiB = 1 << 20;

function newId(): string {
  const time = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${time}-${randomBytes(8).toString('hex')}`;
}
const archiveKey = (): string => `archives/${newId()}.tar.gpg`;
const manifestKey = (): string => `catalog/${newId()}.json.gpg`;

/** `data` in pieces of `size`, each yielded after a turn of the event loop (so puts interleave). */
async function* pieces(data: Buffer, size = 256 * 1024): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < data.length; at += size) {
    await new Promise((r) => setImmediate(r));
    yield data.subarray(at, at + size);
  }
}

function request(key: string, data: Buffer, extra: Partial<PutRequest> = {}): PutRequest {
  return { key, body: pieces(data), tier: key.startsWith('catalog/') ? 'catalog' : 'archive', sizeBound: data.length, contentType: 'application/pgp-encrypted', ...extra };
}

/**
 * Makes an archived object readable: asks for a restore. The S3 factories run on moto, which
 * completes a restore at once; a real Glacier would take hours.
 */
async function warmUp(store: ArchiveStore, key: string): Promise<void> {
  if ((await store.head(key))?.glacier.state === 'archived') await store.requestRestore(key, { tier: 'Bulk', days: 1 });
}

/** The object's bytes, in every store (a cold one is warmed up first). */
async function read(store: ArchiveStore, key: string): Promise<Buffer> {
  await warmUp(store, key);
  const opened = await store.open(key);
  const parts: Buffer[] = [];
  for await (const piece of opened.body) parts.push(Buffer.from(piece));
  const data = Buffer.concat(parts);
  assert.equal(data.length, opened.size, 'the size known at open is the size read');
  return data;
}

async function listed(store: ArchiveStore, dir: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of store.list(dir)) keys.push(o.key);
  return keys.sort();
}

function code(expected: string): (err: unknown) => boolean {
  return (err) => {
    assert.ok(err instanceof GlacierError, `a GlacierError, not ${String(err)}`);
    assert.equal(err.code, expected, err.message);
    return true;
  };
}

/**
 * The piece of `endless` at which a put has begun its upload: one part of the store has been read
 * (S3: its first part, 8 MiB; a put of one part is one request, with no upload to cancel, suspend or resume).
 */
const pastOnePart = (store: ArchiveStore): number => Math.ceil(Math.min(store.partSize(0), firstPartSize) / MiB) + 2;

/** A body that yields 1 MiB pieces until `stop` (a cancel, a throw) ends it, up to 64 MiB. */
async function* endless(onPiece: (n: number) => void): AsyncGenerator<Uint8Array> {
  for (let n = 1; n <= 64; n++) {
    await new Promise((r) => setTimeout(r, 2));
    onPiece(n);
    yield randomBytes(MiB);
  }
}

/** Live memory: what the heap and the buffers hold after a full collection. */
function liveBytes(): number {
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

for (const factory of storeFactories) {
  describe(`ArchiveStore conformance: ${factory.name}`, () => {
    before(() => factory.start());
    after(() => factory.stop());

    it('a put is read back byte for byte, with its size known before the first byte', async () => {
      const store = await factory.create();
      const key = archiveKey();
      // More than one part of S3's (8 MiB), so the put makes an upload in every store.
      const data = randomBytes(9 * MiB + 17);
      let started = 0;
      let uploaded = 0;
      const result = await store.put(request(key, data, { onStarted: () => void started++, onUploaded: (n) => (uploaded = n) }));
      assert.equal(result.size, data.length);
      assert.match(result.verified, /^size\+/, 'the stored object was checked');
      assert.equal(started, 1, 'onStarted is called once');
      assert.equal(uploaded, data.length, 'onUploaded ends at the size');
      const head = await store.head(key);
      assert.equal(head?.size, data.length);
      assert.equal(head?.key, key);
      assert.equal(head?.glacier.state, needsRestore(store.archiveClass) ? 'archived' : 'available', 'archived exactly when the archive class needs a restore');
      assert.ok((await read(store, key)).equals(data), 'the same bytes');
      const manifest = manifestKey();
      await store.put(request(manifest, Buffer.from('{"manifest":true}')));
      assert.equal((await read(store, manifest)).toString(), '{"manifest":true}', 'a catalog object is readable at once, in every store');
      assert.deepEqual(await store.openUploads(key), [], 'a finished put leaves no open upload');
    });

    it('a put on an existing key fails with conflict and leaves the old bytes alone', async () => {
      const store = await factory.create();
      const key = manifestKey();
      const first = randomBytes(100_000);
      await store.put(request(key, first));
      await assert.rejects(store.put(request(key, randomBytes(100_000))), code('conflict'));
      await assert.rejects(store.put(request(key, first)), code('conflict'), 'even with the same bytes');
      assert.ok((await read(store, key)).equals(first));
      assert.deepEqual(await store.openUploads(key), []);
      assert.deepEqual(await factory.leftovers(store), []);
    });

    it('replace writes a small object, replaces it whole, lists it once and leaves nothing behind', async () => {
      const store = await factory.create();
      const key = 'freshness/conformance-host.json';
      await store.replace(key, Buffer.from('{"n":1}'), { contentType: 'application/json' });
      assert.equal((await read(store, key)).toString(), '{"n":1}');
      await store.replace(key, Buffer.from('{"n":22}'));
      assert.equal((await read(store, key)).toString(), '{"n":22}', 'the new bytes, not a mix');
      const head = await store.head(key);
      assert.equal(head?.storageClass, 'STANDARD', 'in STANDARD whatever the archive class');
      assert.equal(head?.glacier.state, 'available');
      assert.deepEqual(await listed(store, 'freshness/'), [key], 'once, and no temporary name');
      assert.deepEqual(await factory.leftovers(store), []);
    });

    it('head of a missing key is undefined; open of it fails with not-found before any byte', async () => {
      const store = await factory.create();
      const key = archiveKey();
      assert.equal(await store.head(key), undefined);
      assert.equal(await store.head('catalog/never-written.json.gpg'), undefined);
      await assert.rejects(store.open(key), code('not-found'));
    });

    it('open with an etag reads that version and refuses another one put under the same key', async () => {
      const store = await factory.create();
      const key = manifestKey();
      await store.put(request(key, Buffer.from('first version')));
      const { etag } = (await store.head(key))!;
      assert.ok(etag, 'head reports an etag');
      assert.equal((await store.open(key, { etag })).size, 'first version'.length);
      await store.delete(key);
      await store.put(request(key, Buffer.from('second version, longer')));
      await assert.rejects(store.open(key, { etag }), code('conflict'));
    });

    it('list returns each object under the directory once, and no unfinished upload', async () => {
      const store = await factory.create();
      const archives = [archiveKey(), archiveKey(), archiveKey()];
      const manifest = manifestKey();
      for (const key of archives) await store.put(request(key, randomBytes(1000)));
      await store.put(request(manifest, randomBytes(100)));
      const controller = new AbortController();
      const unfinished = archiveKey();
      const put = store.put({ ...request(unfinished, Buffer.alloc(0)), body: endless((n) => n === pastOnePart(store) && controller.abort(new Suspend())), signal: controller.signal });
      await assert.rejects(put, code('cancelled'));
      assert.equal((await store.openUploads(unfinished)).length, 1, 'a suspended put keeps its upload');

      assert.deepEqual(await listed(store, 'archives/'), [...archives].sort());
      assert.deepEqual(await listed(store, 'catalog/'), [manifest]);
      assert.deepEqual(await listed(store, ''), [...archives, manifest].sort());
      for await (const o of store.list('archives/')) {
        assert.ok(o.size === 1000 && typeof o.storageClass === 'string', `${o.key}: size and storage class`);
      }
      for (const u of await store.openUploads()) await store.abortUpload(u);
    });

    it('delete is idempotent and the key is then gone from head, open and list', async () => {
      const store = await factory.create();
      const key = archiveKey();
      await store.put(request(key, randomBytes(5000)));
      await store.delete(key);
      assert.equal(await store.head(key), undefined);
      await assert.rejects(store.open(key), code('not-found'));
      assert.deepEqual(await listed(store, 'archives/'), []);
      await store.delete(key);
      await store.delete(archiveKey());
    });

    it('a cancelled put leaves nothing visible, and no leftover but an open upload that abortUpload removes', async () => {
      const store = await factory.create();
      const key = archiveKey();
      const controller = new AbortController();
      let started: string | undefined;
      const put = store.put({ ...request(key, Buffer.alloc(0)), body: endless((n) => n === pastOnePart(store) && controller.abort()), signal: controller.signal, onStarted: (id) => void (started = id) });
      await assert.rejects(put, code('cancelled'));
      assert.ok(started !== undefined, 'the upload had started');
      assert.equal(await store.head(key), undefined);
      await assert.rejects(store.open(key), code('not-found'));
      assert.deepEqual(await listed(store, ''), []);
      for (const u of await store.openUploads(key)) await store.abortUpload(u);
      assert.deepEqual(await store.openUploads(key), []);
      assert.deepEqual(await factory.leftovers(store), []);
    });

    it('a suspended put keeps its upload: listed, resumable by a later put, removable by abortUpload', async () => {
      const store = await factory.create();
      const key = archiveKey();
      // More than one part of S3's (8 MiB), suspended after the first.
      const data = randomBytes(14 * MiB);
      const controller = new AbortController();
      let uploadId: string | undefined;
      async function* thenStop(): AsyncGenerator<Uint8Array> {
        yield* pieces(data.subarray(0, 13 * MiB), MiB);
        controller.abort(new Suspend());
        await new Promise((r) => setTimeout(r, 10));
        yield data.subarray(13 * MiB);
      }
      const put = store.put({ ...request(key, data), body: thenStop(), signal: controller.signal, onStarted: (id) => void (uploadId = id) });
      await assert.rejects(put, code('cancelled'));
      assert.equal(await store.head(key), undefined, 'nothing visible');
      const uploads = await store.openUploads(key);
      assert.deepEqual(uploads.map((u) => [u.key, u.uploadId]), [[key, uploadId]]);
      assert.deepEqual(await store.openUploads(archiveKey()), [], 'openUploads(key) lists that key only');
      const parts = await store.uploadedParts(uploads[0]!);
      assert.ok(parts instanceof Map, 'an open upload reports its parts (possibly none)');
      // A later put continues it; whatever it reuses, the object is the bytes of this put.
      const result = await store.put(request(key, data, { resume: { uploadId: uploadId!, parts } }));
      assert.equal(result.size, data.length);
      assert.ok((await read(store, key)).equals(data), 'the bytes of this put');
      assert.deepEqual(await store.openUploads(key), [], 'the finished upload is no longer open');
      assert.equal(await store.uploadedParts(uploads[0]!), undefined, 'a finished upload is gone');
      await store.abortUpload(uploads[0]!);
      assert.deepEqual(await factory.leftovers(store), []);
    });

    it('abortUpload of a suspended put removes it, and is idempotent', async () => {
      const store = await factory.create();
      const key = archiveKey();
      const controller = new AbortController();
      await assert.rejects(store.put({ ...request(key, Buffer.alloc(0)), body: endless((n) => n === pastOnePart(store) && controller.abort(new Suspend())), signal: controller.signal }), code('cancelled'));
      const [upload] = await store.openUploads(key);
      assert.ok(upload);
      await store.abortUpload(upload);
      await store.abortUpload(upload);
      assert.deepEqual(await store.openUploads(), []);
      assert.equal(await store.uploadedParts(upload), undefined);
      assert.deepEqual(await factory.leftovers(store), []);
    });

    it('a body that throws mid-put leaves nothing visible and nothing behind', async () => {
      const store = await factory.create();
      const key = archiveKey();
      const body = endless((n) => {
        if (n === 3) throw new Error('the archive could not be read');
      });
      await assert.rejects(store.put({ ...request(key, Buffer.alloc(0)), body }), /the archive could not be read/);
      assert.equal(await store.head(key), undefined);
      assert.deepEqual(await listed(store, ''), []);
      assert.deepEqual(await store.openUploads(key), []);
      assert.deepEqual(await factory.leftovers(store), []);
    });

    it('requestRestore: a warm-up of an archived object, "not-needed" for an available one; not-found for a missing key', async () => {
      const store = await factory.create();
      const key = archiveKey();
      await store.put(request(key, randomBytes(2000)));
      const first = await store.requestRestore(key, { tier: 'Standard', days: 1 });
      assert.equal(first.head.key, key);
      // A cold store may hold archives that need no restore (S3 in STANDARD): they are available.
      if (needsRestore(store.archiveClass)) {
        assert.ok(store.coldStorage, 'an archive class that needs restores makes a cold store');
        assert.ok(['requested', 'already-in-progress', 'extended'].includes(first.outcome), first.outcome);
        const again = await store.requestRestore(key, { tier: 'Standard', days: 1 });
        assert.ok(['already-in-progress', 'extended'].includes(again.outcome), `asked again: ${again.outcome}`);
      } else {
        assert.equal(first.outcome, 'not-needed');
        assert.deepEqual(first.head.glacier, { state: 'available' });
        assert.equal((await store.requestRestore(key, { tier: 'Bulk', days: 7 })).outcome, 'not-needed');
      }
      await assert.rejects(store.requestRestore(archiveKey(), { tier: 'Standard', days: 1 }), code('not-found'));
    });

    it('a 40 MiB object goes in and out as a stream, in bounded memory', async () => {
      const store = await factory.create();
      const key = archiveKey();
      const size = 40 * MiB;
      const sent = createHash('sha256');
      const baseline = liveBytes();
      let peak = 0;
      async function* generated(): AsyncGenerator<Uint8Array> {
        for (let at = 0; at < size; at += MiB) {
          if (at % (4 * MiB) === 0) peak = Math.max(peak, liveBytes() - baseline);
          const piece = randomBytes(MiB);
          sent.update(piece);
          yield piece;
        }
      }
      assert.equal((await store.put({ ...request(key, Buffer.alloc(0)), body: generated(), sizeBound: size })).size, size);
      await warmUp(store, key);
      const opened = await store.open(key);
      assert.equal(opened.size, size);
      const got = createHash('sha256');
      let read = 0;
      for await (const piece of opened.body) {
        if (read % (4 * MiB) < piece.length) peak = Math.max(peak, liveBytes() - baseline);
        got.update(piece);
        read += piece.length;
      }
      assert.equal(read, size);
      assert.equal(got.digest('hex'), sent.digest('hex'));
      assert.ok(peak < factory.memoryMiB * MiB, `peak live memory ${(peak / MiB).toFixed(1)} MiB (bound ${factory.memoryMiB} MiB)`);
    });

    it('two puts of the same key at once: exactly one wins, the other fails with conflict', async () => {
      const store = await factory.create();
      for (let round = 0; round < 5; round++) {
        const key = archiveKey();
        const a = randomBytes(2 * MiB);
        const b = randomBytes(2 * MiB);
        const results = await Promise.allSettled([store.put(request(key, a)), store.put(request(key, b))]);
        const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
        assert.equal(won.length, 1, `round ${round}: exactly one put wins`);
        const lost = results[1 - won[0]!] as PromiseRejectedResult;
        assert.ok(code('conflict')(lost.reason));
        assert.ok((await read(store, key)).equals(won[0] === 0 ? a : b), 'the winner’s bytes');
      }
      assert.deepEqual(await store.openUploads(), []);
      assert.deepEqual(await factory.leftovers(store), []);
    });
  });
}
