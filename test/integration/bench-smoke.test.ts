/**
 * A small run of the benchmark (`npm run bench` at 1/200 scale, one run), so that it cannot rot:
 * every task must run to completion for glacier-backup and for the peers installed here.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { tempDir } from '../helpers/tree';

describe('benchmark smoke run', () => {
  it('measures every task and writes the results table', () => {
    const dir = tempDir();
    const out = path.join(dir, 'RESULTS.md');
    const res = spawnSync(process.execPath, [path.resolve(__dirname, '../../bench/run.mjs')], {
      env: { ...process.env, BENCH_SCALE: '0.005', BENCH_RUNS: '1', BENCH_LARGE: '0', BENCH_SHAPED: '200', BENCH_SHAPED_SCALE: '0.005', BENCH_OUT: out },
      encoding: 'utf8',
      timeout: 300_000,
    });
    assert.equal(res.status, 0, res.stderr);
    const table = readFileSync(out, 'utf8');
    const rows = table.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| Task') && !l.startsWith('| ---'));
    const ours = rows.filter((r) => r.split(' | ')[1]!.startsWith('glacier-backup'));
    const shaped = 'full backup → moto over a 200 Mbit/s uplink (0.005 dataset)';
    assert.deepEqual(
      ours.map((r) => r.split(' | ')[0]!.slice(2)),
      ['pack + encrypt → null', 'pack + encrypt → null', 'full backup → moto', 'full backup → moto', shaped, shaped, 'unchanged re-backup', 'restore (download + decrypt + unpack)'],
    );
    const hasRestic = spawnSync('bash', ['-c', 'command -v restic']).status === 0;
    for (const r of ours) {
      assert.doesNotMatch(r, /failed/, r);
      assert.match(r, /\d+\.\d\d s \| \d+\.\d\d s \| \d+ MB \| /);
      // The unchanged re-backup is compared with restic only: no ratio where restic is missing.
      if (hasRestic || !r.startsWith('| unchanged')) assert.match(r, /\d+\.\d\d× wall/, r);
    }
    for (const r of rows) if (hasRestic || !r.includes('restic')) assert.doesNotMatch(r, /failed/, r);
    rmSync(dir, { recursive: true, force: true });
  });
});
