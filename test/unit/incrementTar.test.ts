import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { tempDir } from '../helpers/tree';
import { walk } from '../../src/core/pack/walk';
import { planSnapshot } from '../../src/core/pack/incremental/plan';
import { writeArchive } from '../../src/core/pack/incremental/archiveWriter';
import { incrementTar } from '../../src/core/jobs/increment';
import { tarChunkSize } from '../../src/core/pack/tarWriter';

describe('incrementTar', () => {
  it('refills the chunks the encryptor hands back, and yields the same tar as the reference writer', async () => {
    const root = tempDir();
    mkdirSync(path.join(root, 'src'));
    for (let i = 0; i < 6; i++) writeFileSync(path.join(root, 'src', `f${i}`), randomBytes(700_000 + i));
    const { entries } = await walk([path.join(root, 'src')]);
    const plan = planSnapshot(entries);
    const timeMs = Date.parse('2026-01-01T00:00:00Z');
    const expected = Buffer.concat(Array.from(writeArchive(entries, plan, { id: 'X', timeMs }), (piece) => Buffer.from(piece)));

    const tar = incrementTar(entries, plan, { id: 'X', timeMs });
    const copies: Buffer[] = [];
    const buffers = new Set<ArrayBufferLike>();
    for await (const chunk of tar.stream) {
      copies.push(Buffer.from(chunk));
      buffers.add(chunk.buffer);
      tar.recycle(chunk);
    }
    await tar.report;
    assert.ok(copies.length >= 4, `${copies.length} chunks`);
    assert.ok(copies.slice(0, -1).every((c) => c.length === tarChunkSize));
    assert.ok(buffers.size < copies.length, `${buffers.size} buffers for ${copies.length} chunks: none was reused`);
    assert.ok(Buffer.concat(copies).equals(expected));
  });
});
