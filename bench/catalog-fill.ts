/**
 * Bench entry point: fills a bucket with COUNT snapshots quickly, for timing `list`. One real
 * backup of a tiny folder goes through the engine; the other snapshots are copies of it under new
 * ids and times (its archive's bytes, a manifest and a catalog summary each, encrypted like a
 * backup's), written 8 at a time. Usage: node dist/bench-catalog.js COUNT BUCKET ENDPOINT DIR
 * (passphrase from GLACIER_BACKUP_PASSPHRASE; DIR is the tiny folder to back up), under the default prefix.
 */
import '../src/cli/heap';
import { readManifest, writeManifest } from '../src/core/catalog/catalog';
import { writeSummary } from '../src/core/catalog/summary';
import { backup, newArchiveId } from '../src/core/jobs/backup';
import { keys } from '../src/core/model/keys';
import { openStore } from '../src/core/jobs/openStore';
import { mapLimit } from '../src/core/util/mapLimit';

async function main(): Promise<void> {
  const [count, bucket, endpoint, dir] = [Number(process.argv[2]), process.argv[3]!, process.argv[4]!, process.argv[5]!];
  const passphrase = process.env.GLACIER_BACKUP_PASSPHRASE ?? 'bench';
  const enc = { mode: 'passphrase' as const, passphrase };
  const store = openStore({ kind: 's3', bucket, prefix: 'glacier-backup/', storageClass: 'DEEP_ARCHIVE', endpoint, forcePathStyle: true, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  const first = await backup({ store, paths: [dir], encryption: enc, compression: 'off', force: true });
  const template = await readManifest(store, first.id, { passphrase });
  // The archive is in Deep Archive: its bytes are read back from the ciphertext the backup sent, so a
  // STANDARD copy of the template is put first and read.
  const standard = openStore({ kind: 's3', bucket, prefix: 'template/', storageClass: 'STANDARD', endpoint, forcePathStyle: true, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  const copy = await backup({ store: standard, paths: [dir], encryption: enc, compression: 'off', force: true });
  const opened = await standard.open(keys.archive(copy.id));
  const parts: Uint8Array[] = [];
  for await (const p of opened.body) parts.push(p);
  const archive = Buffer.concat(parts);
  const start = Date.parse('2024-01-01T00:00:00Z');
  await mapLimit(
    Array.from({ length: count - 1 }, (_, i) => i),
    8,
    async (i) => {
      const created = new Date(start + i * 86_400_000);
      const id = newArchiveId(created);
      await store.put({ key: keys.archive(id), body: (async function* () { yield archive; })(), tier: 'archive', sizeBound: archive.byteLength, what: 'archive' });
      const m = { ...template, id, created: created.toISOString(), label: `day ${i + 2}`, archive: { ...template.archive, key: store.objectKey(keys.archive(id)), size: archive.byteLength } };
      await writeSummary(store, m, enc);
      await writeManifest(store, m, enc);
    },
  );
  process.stdout.write(`${count} snapshots\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
