import { describe, expect, it } from 'vitest';
import { DeadlineTimer } from '../../src/internal/deadline-timer.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('DeadlineTimer', () => {
  it('expires each key at its own deadline, never before', async () => {
    const expired: [string, number][] = [];
    const started = performance.now();
    const timer = new DeadlineTimer<string>((key) => expired.push([key, performance.now() - started]));
    timer.add('late', 120);
    timer.add('early', 40);
    timer.add('middle', 80);
    await sleep(200);
    expect(expired.map(([key]) => key)).toEqual(['early', 'middle', 'late']);
    for (const [key, at] of expired) {
      const due = { early: 40, middle: 80, late: 120 }[key] ?? 0;
      expect(at).toBeGreaterThanOrEqual(due - 1);
    }
    expect(timer.size).toBe(0);
  });

  it('does not expire a key deleted before its deadline', async () => {
    const expired: number[] = [];
    const timer = new DeadlineTimer<number>((key) => expired.push(key));
    timer.add(1, 30);
    timer.add(2, 30);
    timer.delete(1);
    await sleep(80);
    expect(expired).toEqual([2]);
  });

  it('ignores a non-finite timeout and clears everything on clear()', async () => {
    const expired: number[] = [];
    const timer = new DeadlineTimer<number>((key) => expired.push(key));
    timer.add(1, Number.POSITIVE_INFINITY);
    timer.add(2, 20);
    timer.clear();
    await sleep(60);
    expect(expired).toEqual([]);
    expect(timer.size).toBe(0);
  });
});
