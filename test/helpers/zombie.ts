/** A zombie process for tests: a python3 parent forks a child that exits at once and is never reaped. */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface Zombie {
  /** The exited, unreaped child: still in the process table, state Z. */
  pid: number;
  /** Ends the parent (init then reaps the zombie). */
  stop(): Promise<void>;
}

const script = 'import os, sys, time\npid = os.fork()\nif pid == 0:\n    os._exit(0)\nprint(pid, flush=True)\ntime.sleep(60)\n';

export async function makeZombie(): Promise<Zombie> {
  const parent = spawn('python3', ['-c', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const pid = await new Promise<number>((resolve, reject) => {
    parent.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    parent.once('error', reject);
  });
  for (let i = 0; i < 200 && !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'latin1')); i++) await new Promise((r) => setTimeout(r, 10));
  return {
    pid,
    async stop() {
      const exited = new Promise((r) => parent.once('exit', r));
      parent.kill();
      await exited;
    },
  };
}
