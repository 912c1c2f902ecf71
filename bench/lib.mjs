// Shared helpers for the benchmarks under bench/. Every benchmark reports its figures with `report()`:
// one JSON line per figure on stdout, prefixed with `BENCH `, which bench/run.mjs collects into a table.
// A figure is always shown beside the floor measured in the same run, because these machines are noisy.

/** High-resolution now, in microseconds. */
export function nowUs() {
  return Number(process.hrtime.bigint()) / 1000;
}

/** The median of a list of numbers. */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * Times `fn` `iterations` times (after `warmup` untimed calls) and returns the per-call durations in µs.
 * @param {() => Promise<unknown>} fn
 */
export async function timeEach(fn, iterations, warmup = Math.min(200, iterations)) {
  for (let i = 0; i < warmup; i++) await fn();
  const samples = new Array(iterations);
  for (let i = 0; i < iterations; i++) {
    const t0 = nowUs();
    await fn();
    samples[i] = nowUs() - t0;
  }
  return samples;
}

/**
 * Reports one figure. `better` says which direction is good: 'lower' for times (ratio = value / floor),
 * 'higher' for throughputs (ratio = value / floor, a fraction of the floor).
 * @param {{ bench: string, metric: string, unit: string, value: number, floor?: number, floorLabel?: string,
 *           target?: string, better?: 'lower'|'higher', pass?: boolean }} figure
 */
export function report(figure) {
  const ratio = figure.floor ? figure.value / figure.floor : undefined;
  process.stdout.write(`BENCH ${JSON.stringify({ ...figure, ratio })}\n`);
}
