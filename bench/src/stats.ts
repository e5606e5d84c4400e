/** Small helpers shared by the benchmarks: percentiles and the `figure` line format. */

/** The q-quantile (0..1) of the samples, nearest-rank. */
export function quantile(samples: number[], q: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] as number;
}

/** Prints one figure in the form of shared/BENCHMARKS.md: `figure <name> <value> <unit>`. */
export function figure(name: string, value: number, unit: string): void {
  const shown = Number.isInteger(value) ? String(value) : value.toFixed(value < 10 ? 2 : 1);
  process.stdout.write(`figure ${name} ${shown} ${unit}\n`);
}

/** `--quick` asks for a short smoke run. */
export function isQuick(argv = process.argv): boolean {
  return argv.includes('--quick');
}

/** Milliseconds taken by `fn`. */
export async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}
