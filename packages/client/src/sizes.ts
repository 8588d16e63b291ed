// Sizes in words, one way for everything Hush shows: the SDK's errors and the terminal client.

const UNITS = ['KiB', 'MiB', 'GiB', 'TiB'];

/** 512 -> "512 B", 1536 -> "1.5 KiB", 10485760 -> "10 MiB" (a whole number of the unit shows no decimal). */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  const shown = value.toFixed(1);
  return `${shown.endsWith('.0') ? shown.slice(0, -2) : shown} ${UNITS[unit]}`;
}

/** An exact count: 1 -> "1 byte", 3 -> "3 bytes". */
export function byteCount(bytes: number): string {
  return `${bytes} ${bytes === 1 ? 'byte' : 'bytes'}`;
}
