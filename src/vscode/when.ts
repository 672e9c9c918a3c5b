/**
 * Times as a person reads them in the Archives view and in messages: relative ("3 h ago",
 * "yesterday") where a glance is enough, the absolute local date where it matters (tooltips,
 * expiry). Local time, since that is the clock the user lives by; pure and unit-tested (tests
 * build their dates in local time too, so the machine's zone does not matter).
 */

const minute = 60_000;
const hour = 60 * minute;
const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

function startOfDay(d: Date): number {
  return new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
}

/** "2026-11-23 14:05", local time. */
export function localDate(d: Date): string {
  if (Number.isNaN(d.getTime())) return 'an unknown date';
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** "just now", "5 min ago", "3 h ago", "yesterday", "4 days ago", "23 Nov", "23 Nov 2025". */
export function relativeTime(d: Date, now = new Date()): string {
  const ago = now.getTime() - d.getTime();
  if (Number.isNaN(ago)) return 'an unknown date';
  if (ago < minute) return 'just now';
  if (ago < hour) return `${Math.floor(ago / minute)} min ago`;
  const days = Math.round((startOfDay(now) - startOfDay(d)) / (24 * hour));
  if (ago < 6 * hour || days === 0) return `${Math.floor(ago / hour)} h ago`;
  if (days === 1) return 'yesterday';
  if (days < 7) return `${days} days ago`;
  return `${d.getDate()} ${months[d.getMonth()]}${d.getFullYear() === now.getFullYear() ? '' : ` ${d.getFullYear()}`}`;
}

/** A span ahead, rounded up as a person would say it: "40 min", "11 h", "3 days". */
export function timeSpan(ms: number): string {
  if (ms < hour) return `${Math.max(1, Math.ceil(ms / minute))} min`;
  if (ms < 48 * hour) return `${Math.ceil(ms / hour)} h`;
  return `${Math.floor(ms / (24 * hour))} days`;
}

/** "1 file", "4 files": counts in messages. */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
}
