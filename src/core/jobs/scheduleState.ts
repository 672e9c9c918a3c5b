/**
 * The shared record of scheduled runs, one per folder, in `scheduled-runs.json` of a state folder
 * that every window of one VS Code shares (its global storage). Each window's scheduler reads it to
 * know what is due and shows what it says (last success, failure, a missing secret).
 *
 * Guarantees: every change is a read-modify-write under the engine's lock file (fileLock.ts), so
 * of several windows (processes) that find the same folder due at the same moment exactly one
 * claims the run; the others see its claim and wait a full period. A claim whose owner is gone
 * (its process died on this host, or it is older than `staleRunMs` on another) no longer blocks.
 * The file is local state, not trusted blindly: fields of the wrong type read as absent.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { withFileLock } from '../fileLock';
import { writeFileAtomic } from '../util/atomicWrite';
import { processAlive } from '../util/processAlive';

export interface FolderRun {
  /** When the last run began. */
  lastAttempt?: number;
  /** Failures in a row since the last success. */
  failures?: number;
  /** The process running it now. */
  running?: { host: string; pid: number; since: number };
  lastSuccess?: { time: number; id: string; created: boolean };
  lastFailure?: { time: number; message: string };
  /** Why it cannot run unattended (a secret is missing): set without a claim, cleared by the next claim. */
  blocked?: { reason: string; since: number };
}

/** How a claimed run ended: done, failed, yielded to a manual job (due again at once), or cancelled by the user (due a period later). */
export type Outcome = { ok: true; id: string; created: boolean } | { ok: false; message: string } | { yielded: true } | { cancelled: true };

export const runsFile = 'scheduled-runs.json';
/** A claim from another host older than this is taken to be dead (a backup that long is still possible, and only delays one run). */
export const staleRunMs = 12 * 60 * 60_000;

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const str = (v: unknown, max = 2000): string | undefined => (typeof v === 'string' ? v.slice(0, max) : undefined);

function clean(raw: unknown): FolderRun {
  const r = (raw && typeof raw === 'object' ? raw : {}) as Record<string, Record<string, unknown> | undefined>;
  const run: FolderRun = {};
  const lastAttempt = num(r.lastAttempt);
  if (lastAttempt !== undefined) run.lastAttempt = lastAttempt;
  const failures = num(r.failures);
  if (failures !== undefined && failures > 0) run.failures = Math.floor(failures);
  const g = r.running;
  if (g && str(g.host) !== undefined && num(g.pid) !== undefined && num(g.since) !== undefined) run.running = { host: g.host as string, pid: g.pid as number, since: g.since as number };
  const s = r.lastSuccess;
  if (s && num(s.time) !== undefined && str(s.id) !== undefined) run.lastSuccess = { time: s.time as number, id: str(s.id, 100)!, created: s.created === true };
  const f = r.lastFailure;
  if (f && num(f.time) !== undefined && str(f.message) !== undefined) run.lastFailure = { time: f.time as number, message: str(f.message)! };
  const b = r.blocked;
  if (b && str(b.reason) !== undefined && num(b.since) !== undefined) run.blocked = { reason: str(b.reason)!, since: b.since as number };
  return run;
}

/** Every folder's record; a missing or unreadable file is an empty record. */
export async function readRuns(dir: string): Promise<Record<string, FolderRun>> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await fs.readFile(path.join(dir, runsFile), 'utf8'));
  } catch {
    return {};
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return {};
  return Object.fromEntries(Object.entries(parsed as Record<string, unknown>).map(([k, v]) => [k, clean(v)]));
}

async function update<T>(dir: string, key: string, change: (run: FolderRun) => T): Promise<T> {
  const file = path.join(dir, runsFile);
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  return withFileLock(file, async () => {
    const runs = await readRuns(dir);
    const run = runs[key] ?? {};
    const result = change(run);
    runs[key] = run;
    await writeFileAtomic(file, JSON.stringify(runs));
    return result;
  });
}

/** Whether a recorded claim still stands: its process lives (this host), or it is recent (another host). */
export function claimAlive(running: FolderRun['running'], now: number): boolean {
  if (!running) return false;
  if (running.host === os.hostname()) return processAlive(running.pid);
  return now - running.since < staleRunMs;
}

/**
 * Claims the run of `key` if `due` says so and no live process holds it: records its start and
 * this process as its owner. True when this process should run it now.
 */
export async function claimRun(dir: string, key: string, now: number, due: (run: FolderRun) => boolean): Promise<boolean> {
  return update(dir, key, (run) => {
    if (claimAlive(run.running, now) || !due(run)) return false;
    run.lastAttempt = now;
    run.running = { host: os.hostname(), pid: process.pid, since: now };
    delete run.blocked;
    return true;
  });
}

/**
 * Records how a claimed run ended. A yielded run (suspended for a manual backup) gives its claim
 * back and is due again at once; its upload is resumed by the next run.
 */
export async function finishRun(dir: string, key: string, outcome: Outcome, now: number): Promise<void> {
  await update(dir, key, (run) => {
    if (run.running?.pid === process.pid && run.running.host === os.hostname()) delete run.running;
    if ('yielded' in outcome) {
      delete run.lastAttempt;
    } else if ('cancelled' in outcome) {
      // The claim's start stands: the next run comes a period later.
    } else if (outcome.ok) {
      run.lastSuccess = { time: now, id: outcome.id, created: outcome.created };
      delete run.failures;
      delete run.lastFailure;
    } else {
      run.failures = (run.failures ?? 0) + 1;
      run.lastFailure = { time: now, message: outcome.message };
    }
  });
}

/** Records why the folder cannot run unattended; true when this is news (a different reason, or none before), to be said once. */
export async function blockRun(dir: string, key: string, reason: string, now: number): Promise<boolean> {
  return update(dir, key, (run) => {
    if (run.blocked?.reason === reason) return false;
    run.blocked = { reason, since: now };
    return true;
  });
}

/** Clears a block once what was missing is there. */
export async function unblockRun(dir: string, key: string): Promise<void> {
  await update(dir, key, (run) => {
    delete run.blocked;
  });
}
