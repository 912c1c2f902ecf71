// The Manager's log: the formatted debug lines of forwarded messages (held as their parts, made into
// text later and in bulk) keep their time and their place among the other lines, reach the file without
// further traffic, and are never lost at close; a line after close is dropped, not written after the end.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { lineSafe } from '../../src/log/line-safe.js';
import { logRepr } from '../../src/network/manager/forwarding-log-lines.js';
import { type LineFormat, LOG_FILE_FLUSH_MS, ManagerLog } from '../../src/network/manager/log.js';
import { pythonRepr } from '../../src/network/protocol/messages.js';
import { recorder } from '../support/log-recorder.js';

const homes: string[] = [];
afterEach(() => {
  for (const home of homes.splice(0)) rmSync(home, { recursive: true, force: true });
});

function logFile(): string {
  const home = mkdtempSync(join(tmpdir(), 'farcall-manager-log-'));
  homes.push(home);
  return join(home, 'manager.log');
}

function linesOf(file: string): string[] {
  try {
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => line.length > 0);
  } catch {
    return [];
  }
}

const forwarded: LineFormat<string, number, undefined, undefined, undefined> = (name, n) =>
  `forwarded ${name} #${n}`;

// A defer hook as the Manager's: tasks wait until the test says the chunk's writes are out.
function chunkHook(log: ManagerLog): { tasks: (() => void)[]; endChunk: () => void } {
  const tasks: (() => void)[] = [];
  log.deferWith((task) => tasks.push(task));
  return {
    tasks,
    endChunk: () => {
      for (const task of tasks.splice(0)) task();
    },
  };
}

describe('formatted debug lines (debugFormat)', () => {
  it('reach the file with no further activity, one flush interval or so later', async () => {
    const file = logFile();
    const log = new ManagerLog({ file, fileLevel: 'debug', level: 'warning' });
    const hook = chunkHook(log);
    log.debugFormat(forwarded, 'a', 1, undefined, undefined, undefined);
    hook.endChunk();
    const deadline = Date.now() + 5000;
    while (linesOf(file).length === 0 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, LOG_FILE_FLUSH_MS));
    expect(linesOf(file)).toEqual([expect.stringMatching(/ DEBUG {3}forwarded a #1$/)]);
    await log.close();
  });

  it('keep their place among other lines and the time they were logged, not the time they were written', async () => {
    const file = logFile();
    const log = new ManagerLog({ file, fileLevel: 'debug', level: 'silent' });
    const hook = chunkHook(log);
    log.debugFormat(forwarded, 'first', 1, undefined, undefined, undefined);
    const loggedBy = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 30));
    log.info('in between');
    log.debugFormat(forwarded, 'last', 2, undefined, undefined, undefined);
    hook.endChunk();
    await log.close();
    const lines = linesOf(file);
    expect(lines.map((line) => line.slice(25))).toEqual([
      'DEBUG   forwarded first #1',
      'INFO    in between',
      'DEBUG   forwarded last #2',
    ]);
    expect(Date.parse(lines[0].slice(0, 24))).toBeLessThanOrEqual(loggedBy);
    expect(Date.parse(lines[1].slice(0, 24))).toBeGreaterThanOrEqual(loggedBy + 25);
  });

  it('are all written at close, and a line logged after close is dropped without an error', async () => {
    const file = logFile();
    const log = new ManagerLog({ file, fileLevel: 'debug', level: 'silent' });
    chunkHook(log); // never ends its chunk: only close() writes the lines
    for (let n = 0; n < 1000; n++) log.debugFormat(forwarded, 'm', n, undefined, undefined, undefined);
    await log.close();
    expect(() => {
      log.debugFormat(forwarded, 'late', 0, undefined, undefined, undefined);
      log.warning('late warning');
    }).not.toThrow();
    await new Promise((resolve) => setTimeout(resolve, LOG_FILE_FLUSH_MS * 2));
    const lines = linesOf(file);
    expect(lines).toHaveLength(1000);
    expect(lines.every((line, n) => line.endsWith(`forwarded m #${n}`))).toBe(true);
  });

  it('are made into text after the chunk once hundreds are held (memory stays bounded)', async () => {
    const file = logFile();
    const log = new ManagerLog({ file, fileLevel: 'debug', level: 'silent' });
    const hook = chunkHook(log);
    for (let n = 0; n < 300; n++) log.debugFormat(forwarded, 'm', n, undefined, undefined, undefined);
    expect(hook.tasks).toHaveLength(0); // few enough: they wait for the file's next write
    for (let n = 300; n < 5000; n++) log.debugFormat(forwarded, 'm', n, undefined, undefined, undefined);
    expect(hook.tasks).toHaveLength(1); // many: made into text once the chunk's writes are out
    hook.endChunk();
    await log.close();
    expect(linesOf(file)).toHaveLength(5000);
  });

  it('go to a logger option at once (through the chunk hook), and its text is the format of the parts', async () => {
    const { logger, records } = recorder();
    const log = new ManagerLog({ level: 'silent', logger });
    const hook = chunkHook(log);
    log.debugFormat(forwarded, 'x', 7, undefined, undefined, undefined);
    expect(hook.tasks).toHaveLength(1);
    hook.endChunk();
    expect(records).toEqual(['debug farcall:network forwarded x #7']);
    await log.close();
  });

  it('survive a logger that logs again while held lines are written, and drains that follow one another', async () => {
    // The held lines live in two arrays that take turns (no regrowth per drain); a drain that starts
    // inside another (a logger option that logs into the same ManagerLog, with a hook that runs at once)
    // must neither lose nor repeat a line, nor write into the array being read.
    const file = logFile();
    const seen: string[] = [];
    let echoes = 0;
    let budget = 10; // echoes allowed so far: 10 under the chunk hook, then one per line with a hook that runs at once
    let log: ManagerLog | undefined;
    const logger = {
      debug: (line: string) => {
        const message = line.replace(/^farcall:network /, '');
        seen.push(message);
        if (echoes < budget && message.startsWith('forwarded m')) {
          echoes++;
          log?.debugFormat(forwarded, 'echo', echoes, undefined, undefined, undefined);
        }
      },
      info: () => {},
      warn: () => {},
      error: () => {},
    };
    log = new ManagerLog({ file, fileLevel: 'debug', level: 'silent', logger });
    const hook = chunkHook(log);
    for (let round = 0; round < 3; round++) {
      for (let n = 0; n < 20; n++)
        log.debugFormat(forwarded, 'm', round * 20 + n, undefined, undefined, undefined);
      hook.endChunk();
    }
    // From here on, the hook runs a drain at once: a logged line starts a drain inside the one running.
    log.deferWith((task) => task());
    budget = 30;
    for (let n = 60; n < 80; n++) log.debugFormat(forwarded, 'm', n, undefined, undefined, undefined);
    await log.close();
    const expected = [
      ...Array.from({ length: 80 }, (_, n) => `forwarded m #${n}`),
      ...Array.from({ length: 30 }, (_, n) => `forwarded echo #${n + 1}`),
    ].sort();
    expect([...seen].sort()).toEqual(expected);
    expect(
      linesOf(file)
        .map((line) => line.slice(33))
        .sort(),
    ).toEqual(expected);
  });

  it('cost nothing when debug is off', async () => {
    const file = logFile();
    const log = new ManagerLog({ file, fileLevel: 'info', level: 'silent' });
    const hook = chunkHook(log);
    let made = 0;
    log.debugFormat(
      () => {
        made++;
        return 'never';
      },
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    );
    hook.endChunk();
    await log.close();
    expect(made).toBe(0);
    expect(linesOf(file)).toEqual([]);
  });
});

describe("a line's time stamp", () => {
  it('is the ISO time of the moment logged, across millisecond, second, day and year boundaries', async () => {
    const file = logFile();
    const log = new ManagerLog({ file, fileLevel: 'debug', level: 'silent' });
    const times = [
      Date.UTC(2026, 11, 1, 19, 22, 13, 999),
      Date.UTC(2026, 11, 1, 19, 22, 14, 0),
      Date.UTC(2026, 11, 1, 19, 22, 14, 7),
      Date.UTC(2026, 11, 1, 19, 22, 14, 7),
      Date.UTC(2026, 11, 31, 23, 59, 59, 999),
      Date.UTC(2027, 0, 1, 0, 0, 0, 0),
      Date.UTC(2026, 11, 1, 19, 22, 13, 42), // earlier again: a clock set back
    ];
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      times.forEach((time, n) => {
        vi.setSystemTime(time);
        log.info(`line ${n}`);
      });
    } finally {
      vi.useRealTimers();
    }
    await log.close();
    expect(linesOf(file)).toEqual(
      times.map((time, n) => `${new Date(time).toISOString()} INFO    line ${n}`),
    );
  });
});

describe('lineSafe', () => {
  it('escapes exactly the \\p{Cc} characters as \\xNN, for any text', () => {
    const control = fc.integer({ min: 0, max: 0x9f }).map((c) => String.fromCharCode(c));
    const text = fc.oneof(
      fc.string({ unit: 'binary' }),
      fc
        .array(fc.oneof(control, fc.string({ maxLength: 3 })), { maxLength: 12 })
        .map((parts) => parts.join('')),
    );
    const byDefinition = (value: string) =>
      value.replace(/\p{Cc}/gu, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
    fc.assert(
      fc.property(text, (value) => {
        expect(lineSafe(value)).toBe(byDefinition(value));
      }),
      { numRuns: 3000 },
    );
  });
});

describe('logRepr', () => {
  it("is Python's repr with control characters escaped, for any text (fast path and full path agree)", () => {
    const tricky = fc.constantFrom("'", '"', '\\', '\n', '\r', '\t', '\u0000', '\u007f', '\u0085', 'é', '😀');
    const text = fc.oneof(
      fc.string({ unit: 'grapheme' }),
      fc.string({ unit: 'binary' }),
      fc
        .array(fc.oneof(tricky, fc.string({ maxLength: 3 })), { maxLength: 12 })
        .map((parts) => parts.join('')),
    );
    fc.assert(
      fc.property(text, (value) => {
        const shown = logRepr(value);
        expect(shown).toBe(lineSafe(pythonRepr(value)));
        expect(/\p{Cc}/u.test(shown)).toBe(false);
      }),
      { numRuns: 3000 },
    );
  });
});
