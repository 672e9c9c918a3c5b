/**
 * The names a restore gives archive paths on this system's file system, when the archive was made
 * on another: pure rules over names and an explicit platform, tested on any system.
 *
 * - Windows cannot hold `< > : " | ? *`, control characters, a name ending in a dot or space, or
 *   the device names CON, PRN, AUX, NUL, COM0-9, LPT0-9 (also with an extension: `nul.txt`). Such
 *   a name is percent-encoded: each character it cannot hold becomes `%XX` (its byte in hex,
 *   upper-case), as do every `%` of that name, the last character of a trailing run of dots and
 *   spaces, and the first letter of a device name (`a:b` → `a%3Ab`, `CON.txt` → `%43ON.txt`,
 *   `x.` → `x%2E`). Bytes that are not UTF-8 (rawNames.ts) are encoded the same way, on Windows
 *   and on macOS, which keep names as Unicode. Decoding the `%XX` of a mapped name gives back the
 *   archive name's bytes exactly (decodeLocalName). A name that needs nothing keeps every `%`.
 * - Windows and macOS compare names without regard to case, macOS also to Unicode normalisation
 *   (NFC `é` and NFD `e` + U+0301 are one name). Two names of one folder that would be one file
 *   there keep the first in archive order as it is; the next is suffixed `~2` (then `~3`…)
 *   before its extension: `A.txt`, `a.txt` → `A.txt`, `a~2.txt`.
 * - Elsewhere (Linux) names are used exactly as they are.
 *
 * Guarantees: every archive path gets one local path, the same each time it is asked for, and
 * distinct archive paths get distinct local paths (after case folding and normalisation where the
 * system does them); a folder's mapping carries to everything inside it. Each renaming is
 * reported once, by the call that made it.
 */
import { fromBytes, isWellFormed, toBytes } from '../model/rawNames';

export type NameSystem = 'windows' | 'mac' | 'posix';

export function nameSystem(platform: NodeJS.Platform): NameSystem {
  return platform === 'win32' ? 'windows' : platform === 'darwin' ? 'mac' : 'posix';
}

const deviceName = /^(CON|PRN|AUX|NUL|COM[0-9\u00b9\u00b2\u00b3]|LPT[0-9\u00b9\u00b2\u00b3])[ ]*(\.|$)/i;
const forbidden = /[<>:"|?*\u0000-\u001f]/;

/** Why Windows cannot hold `name` (one path segment), or undefined. */
export function windowsNameProblem(name: string): string | undefined {
  if (!isWellFormed(name)) return 'it has bytes that are not UTF-8';
  const bad = forbidden.exec(name);
  if (bad) {
    const c = bad[0];
    return c < ' ' ? `it has the control character U+${c.charCodeAt(0).toString(16).padStart(4, '0').toUpperCase()}` : `it has the character ${c}`;
  }
  if (/[. ]$/.test(name)) return 'it ends in a dot or space';
  if (deviceName.test(name)) return 'it is a Windows device name';
  return undefined;
}

/** `name` as Windows can hold it (see above); `name` itself when it needs nothing. */
export function windowsSafeName(name: string): string {
  if (windowsNameProblem(name) === undefined) return name;
  const chars = Array.from(name);
  const encodeAt = new Set<number>();
  chars.forEach((c, i) => {
    if (c === '%' || forbidden.test(c) || isLoneByte(c)) encodeAt.add(i);
  });
  if (deviceName.test(name)) encodeAt.add(0);
  if (/[. ]$/.test(name)) encodeAt.add(chars.length - 1);
  return chars.map((c, i) => (encodeAt.has(i) ? percent(c) : c)).join('');
}

/** `name` as macOS can hold it: only bytes that are not UTF-8 (and then every `%`) are encoded. */
export function macSafeName(name: string): string {
  if (isWellFormed(name)) return name;
  return Array.from(name)
    .map((c) => (c === '%' || isLoneByte(c) ? percent(c) : c))
    .join('');
}

/** The archive name a mapped name stands for: each `%XX` back to its byte. Only for names that were mapped. */
export function decodeLocalName(local: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < local.length; ) {
    const m = /^%([0-9A-F]{2})/.exec(local.slice(i, i + 3));
    if (m) {
      bytes.push(parseInt(m[1]!, 16));
      i += 3;
      continue;
    }
    const c = String.fromCodePoint(local.codePointAt(i)!);
    bytes.push(...toBytes(c));
    i += c.length;
  }
  return fromBytes(Uint8Array.from(bytes));
}

/** The key under which the system finds a name: names with equal keys are one file there. */
export function foldName(name: string, system: NameSystem): string {
  if (system === 'posix') return name;
  return (system === 'mac' ? name.normalize('NFD') : name).toLowerCase();
}

function isLoneByte(c: string): boolean {
  const code = c.charCodeAt(0);
  return c.length === 1 && code >= 0xdc80 && code <= 0xdcff;
}

function percent(c: string): string {
  return [...toBytes(c)].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');
}

/** `a.txt` → `a~2.txt`; `.profile` and `README` take the suffix at the end. */
function suffixed(name: string, n: number): string {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? `${name.slice(0, dot)}~${n}${name.slice(dot)}` : `${name}~${n}`;
}

export interface Renaming {
  /** The archive path (as rawNames.ts carries it), '/'-separated. */
  path: string;
  /** Where it is restored, relative to the restore folder, '/'-separated. */
  localPath: string;
  reason: string;
}

/** Maps archive paths to local paths for one restore (one staging folder). */
export class LocalNamer {
  readonly system: NameSystem;
  /** Archive path → local path, for every path mapped so far (posix: none kept). */
  private readonly local = new Map<string, string>();
  /** Local folder path → folded names used in it → the archive path that holds each. */
  private readonly used = new Map<string, Map<string, string>>();

  constructor(platform: NodeJS.Platform) {
    this.system = nameSystem(platform);
  }

  /**
   * The local segments of an archive path given as its segments, and the renamings this call
   * made (of the path itself or of folders on its way seen for the first time).
   */
  place(segments: readonly string[]): { local: readonly string[]; renamed: Renaming[] } {
    if (this.system === 'posix') return { local: segments, renamed: [] };
    const renamed: Renaming[] = [];
    const local: string[] = [];
    let archivePath = '';
    let localParent = '';
    for (const segment of segments) {
      archivePath = archivePath ? `${archivePath}/${segment}` : segment;
      let localPath = this.local.get(archivePath);
      if (localPath === undefined) {
        const { name, reason } = this.pick(segment, archivePath, localParent);
        localPath = localParent ? `${localParent}/${name}` : name;
        this.local.set(archivePath, localPath);
        if (reason) renamed.push({ path: archivePath, localPath, reason });
      }
      local.push(localPath.slice(localParent ? localParent.length + 1 : 0));
      localParent = localPath;
    }
    return { local, renamed };
  }

  private pick(segment: string, archivePath: string, localParent: string): { name: string; reason?: string } {
    const reasons: string[] = [];
    let name = segment;
    if (this.system === 'windows') {
      const problem = windowsNameProblem(segment);
      if (problem) {
        name = windowsSafeName(segment);
        reasons.push(`Windows cannot hold this name (${problem})`);
      }
    } else {
      name = macSafeName(segment);
      if (name !== segment) reasons.push('macOS cannot hold this name (it has bytes that are not UTF-8)');
    }
    let names = this.used.get(localParent);
    if (!names) this.used.set(localParent, (names = new Map()));
    const first = names.get(foldName(name, this.system));
    if (first !== undefined) {
      let n = 2;
      while (names.has(foldName(suffixed(name, n), this.system))) n++;
      name = suffixed(name, n);
      const what = this.system === 'mac' ? 'case or Unicode normalisation' : 'case';
      reasons.push(`it differs from "${first.slice(first.lastIndexOf('/') + 1)}" only in ${what}, which this system does not tell apart`);
    }
    names.set(foldName(name, this.system), archivePath);
    return reasons.length ? { name, reason: reasons.join('; ') } : { name };
  }
}
