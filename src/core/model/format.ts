/** How numbers are shown to users, the same in the CLI, VS Code and the engine's messages. */

/** Bytes in binary units with one decimal: "512 B", "1.5 KiB", "16.0 MiB". */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}
