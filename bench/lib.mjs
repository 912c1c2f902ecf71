// Shared helpers for the benchmarks under bench/. Every benchmark reports its figures with `report()`:
// one JSON line per figure on stdout, prefixed with `BENCH `, which bench/run.mjs collects into a table.
// A figure is always shown beside the floor measured in the same run, because these machines are noisy.

import { readdirSync, readFileSync } from 'node:fs';

/** High-resolution now, in microseconds. */
export function nowUs() {
  return Number(process.hrtime.bigint()) / 1000;
}

/**
 * CPU time a process has used so far, all its threads, in µs (Linux: the nanosecond counters of
 * /proc/<pid>/task/<tid>/schedstat; a thread that has ended is no longer counted, so measure across a
 * span in which the process's threads stay). `undefined` where /proc is missing.
 * @param {number} pid
 */
export function cpuTimeUs(pid) {
  let tasks;
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return undefined;
  }
  let ns = 0;
  for (const tid of tasks) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return ns / 1000;
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

/**
 * Samples several cases in alternating blocks: every case runs `blockSize` calls in a row, then the next
 * case, for `blocks` rounds (the order reversed every other round), so each case's after-effects (garbage,
 * cold caches, a noisy neighbour) land on its own block rather than on the other case's next call. Returns,
 * per case, the median of its block medians (µs) and all its block medians.
 * @param {Record<string, () => Promise<unknown>>} cases
 */
export async function alternatingBlocks(cases, { blocks = 25, blockSize = 200 } = {}) {
  const names = Object.keys(cases);
  const blockMedians = Object.fromEntries(names.map((name) => [name, []]));
  const samples = new Array(blockSize);
  for (let block = 0; block < blocks; block++) {
    const order = block % 2 === 0 ? names : [...names].reverse();
    for (const name of order) {
      const call = cases[name];
      for (let i = 0; i < blockSize; i++) {
        const t0 = nowUs();
        await call();
        samples[i] = nowUs() - t0;
      }
      blockMedians[name].push(median(samples));
    }
  }
  return Object.fromEntries(
    names.map((name) => [name, { median: median(blockMedians[name]), blockMedians: blockMedians[name] }]),
  );
}
