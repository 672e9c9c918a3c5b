/**
 * Exclude globs. A pattern with a "/" matches the whole archive path ("proj/build/**");
 * one without matches any path component's base name ("*.log", ".DS_Store").
 */
import picomatch from 'picomatch';

export function compileExcludes(patterns: readonly string[]): (archivePath: string) => boolean {
  const cleaned = patterns.map((p) => p.trim()).filter((p) => p !== '');
  if (cleaned.length === 0) return () => false;
  const matchers = cleaned.map((p) => picomatch(p, { dot: true, basename: !p.includes('/') }));
  return (archivePath) => matchers.some((m) => m(archivePath));
}
