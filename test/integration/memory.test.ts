/**
 * A guard, not a benchmark (bench/ measures memory against its target): the peak RSS of a backup
 * must not grow with the archive. A 512 MiB file is backed up with a bound well above what a
 * bounded pipeline needs (about 200 MB here) and well below what keeping the data would take.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { useMoto, type Moto } from '../helpers/moto';
import { cliEnv, cliPath } from '../helpers/cli';

const bucket = 'memory-tests';
let moto: Moto;
let work: string;

useMoto(bucket, (m, w) => {
  moto = m;
  work = w;
});

describe('memory', () => {
  it('a backup of a 512 MiB file peaks well below the size of the file', () => {
    const source = path.join(work, 'big');
    mkdirSync(source);
    writeFileSync(path.join(source, 'file.bin'), '');
    truncateSync(path.join(source, 'file.bin'), 512 << 20); // sparse: quick to make, read as zeros
    const timing = path.join(work, 'time.txt');
    const env = cliEnv({ endpoint: moto.endpoint, bucket, work, passphrase: 'memory' }, { GLACIER_BACKUP_STORAGE_CLASS: 'STANDARD' });
    const res = spawnSync('/usr/bin/time', ['-f', '%M', '-o', timing, process.execPath, cliPath, 'backup', source, '--quiet'], { env, encoding: 'utf8' });
    assert.equal(res.status, 0, res.stderr);
    const peakMiB = Number(readFileSync(timing, 'utf8').trim().split('\n').pop()) / 1024;
    assert.ok(peakMiB > 20 && peakMiB < 360, `peak RSS ${peakMiB.toFixed(0)} MiB`);
  });
});
