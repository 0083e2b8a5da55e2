/** Runs `fn` repeatedly for about `ms` milliseconds (after a warm-up) and gives operations per second. */
export function opsPerSecond(fn: () => number, ms = 1000): number {
  const warmEnd = performance.now() + Math.min(300, ms / 3);
  while (performance.now() < warmEnd) fn();
  let ops = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    ops += fn();
    now = performance.now();
  }
  return ops / ((now - start) / 1000);
}

export function fmt(n: number, digits = 0): string {
  return n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

export function ratio(a: number, b: number): string {
  return (a / b).toFixed(2);
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
