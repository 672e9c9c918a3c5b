/**
 * Whether a process of this host is still running, for the owners recorded in lock files and
 * upload journals.
 *
 * Guarantees: false only when the process is provably gone: no such pid (ESRCH), or on Linux a
 * zombie (state Z or X in /proc/<pid>/stat): it has exited and only waits for its parent to
 * collect its status, so it will never touch what it owned. A process of another user (EPERM)
 * counts as alive.
 */
import { readFileSync } from 'node:fs';

export function processAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  return !exited(pid);
}

function exited(pid: number): boolean {
  if (process.platform !== 'linux') return false;
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return false; // no /proc (or hidden from us): judged by the signal test alone
  }
  // "pid (comm) state …": comm may hold spaces and parentheses, so the state follows the last ')'.
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state === 'Z' || state === 'X';
}
