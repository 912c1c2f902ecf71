import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
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

  it('expires a key added after the last one was deleted (the kept timer re-arms for it)', async () => {
    const expired: number[] = [];
    const started = performance.now();
    let at = 0;
    const timer = new DeadlineTimer<number>((key) => {
      expired.push(key);
      at = performance.now() - started;
    });
    timer.add(1, 20);
    timer.delete(1);
    timer.add(2, 60);
    await sleep(150);
    expect(expired).toEqual([2]);
    expect(at).toBeGreaterThanOrEqual(59);
  });

  // In a child process: whether a timer keeps a process alive is only seen when the process exits.
  const runChild = (body: string) => {
    const module = new URL('../../dist/internal/deadline-timer.js', import.meta.url).href;
    const script = `import { DeadlineTimer } from '${module}';\n${body}`;
    return spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 15_000,
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
    });
  };

  it('keeps the process alive while a deadline is pending, also after it was idle', () => {
    const run = runChild(
      "const t = new DeadlineTimer((k) => console.log('expired', k));\n" +
        't.add(1, 100); t.delete(1); t.add(2, 200);',
    );
    expect(run.stdout.trim()).toBe('expired 2');
  });

  it('does not keep the process alive once every deadline is deleted', () => {
    const run = runChild(
      "const t = new DeadlineTimer(() => console.log('expired'));\n" +
        "t.add(1, 600_000); t.delete(1); console.log('done');",
    );
    // Exits at once (not after 10 minutes, nor killed by the 15 s limit) and never expires anything.
    expect(run.signal).toBeNull();
    expect(run.stdout.trim()).toBe('done');
  });
});
