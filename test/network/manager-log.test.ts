// The Manager's log: the formatted debug lines of forwarded messages (held as their parts, made into
// text later and in bulk) keep their time and their place among the other lines, reach the file without
// further traffic, and are never lost at close; a line after close is dropped, not written after the end.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { lineSafe } from '../../src/log/line-safe.js';
import { logRepr, replyLogLine, requestLogLine } from '../../src/network/manager/forwarding-log-lines.js';
import {
  type EncodedLineParts,
  type LineFormat,
  LOG_FILE_FLUSH_MS,
  ManagerLog,
} from '../../src/network/manager/log.js';
import type { ClientState, ServiceState } from '../../src/network/manager/peer-state.js';
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

  it('keep their order around a held info line (file only)', async () => {
    const file = logFile();
    const log = new ManagerLog({ file, fileLevel: 'debug', level: 'silent' });
    const hook = chunkHook(log);
    log.debugFormat(forwarded, 'a', 1, undefined, undefined, undefined);
    log.info('an info line');
    log.debugFormat(forwarded, 'b', 2, undefined, undefined, undefined);
    expect(hook.tasks).toHaveLength(1); // the info line waits for the chunk's end
    hook.endChunk();
    log.debugFormat(forwarded, 'c', 3, undefined, undefined, undefined);
    await log.close();
    expect(linesOf(file).map((line) => line.slice(33))).toEqual([
      'forwarded a #1',
      'an info line',
      'forwarded b #2',
      'forwarded c #3',
    ]);
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

describe("the router's request and reply lines", () => {
  // What the lines say, written plainly (the formats cache the text around the uid).
  const requestText = (
    service: string,
    attribute: unknown,
    uid: unknown,
    bytes: number | undefined,
    client: string,
  ) =>
    `request ${service}.${lineSafe(String(attribute))} (uid ${logRepr(String(uid ?? ''))}` +
    `${bytes === undefined ? '' : `, ${bytes} bytes`}) from ${client}`;
  const replyText = (service: string, client: string, uid: string, bytes: number, error: boolean) =>
    `${error ? 'error reply' : 'reply'} from ${service} to ${client} (uid ${logRepr(uid)}, ${bytes} bytes)`;

  it('say the same as plain templates, as text and as encoded parts, whatever changes from line to line', () => {
    const name = fc.oneof(
      fc.constantFrom('Echo', "'Echo'", 'Client[vm:1]', 'é\n'),
      fc.string({ maxLength: 6 }),
    );
    const uid = fc.oneof(
      fc.string({
        unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)),
        maxLength: 14,
      }),
      fc.string({ unit: 'binary', maxLength: 8 }),
    );
    const line = fc.oneof(
      fc.record({
        kind: fc.constant('request' as const),
        service: name,
        attribute: fc.oneof(name, fc.constant(5), fc.constant(undefined)),
        uid: fc.oneof(uid, fc.constant(7), fc.constant(undefined)),
        bytes: fc.option(fc.constantFrom(0, 109, 110, 12345), { nil: undefined }),
        client: name,
      }),
      fc.record({
        kind: fc.constant('reply' as const),
        service: name,
        client: name,
        uid,
        bytes: fc.constantFrom(0, 88, 90),
        error: fc.boolean(),
      }),
    );
    const out: EncodedLineParts = { head: new Uint8Array(0), middle: '', tail: new Uint8Array(0) };
    const bytesOf = (parts: EncodedLineParts) =>
      Buffer.concat([parts.head, Buffer.from(parts.middle, 'utf8'), parts.tail]).toString('utf8');
    fc.assert(
      fc.property(fc.array(line, { minLength: 1, maxLength: 30 }), (lines) => {
        for (const l of lines) {
          if (l.kind === 'request') {
            const client = { logName: l.client } as ClientState;
            const expected = requestText(l.service, l.attribute, l.uid, l.bytes, l.client);
            expect(requestLogLine(l.service, l.attribute, l.uid, l.bytes, client)).toBe(expected);
            if (requestLogLine.parts?.(out, l.service, l.attribute, l.uid, l.bytes, client))
              if (/^[\x20-\x7e]*$/.test(out.middle) && !/['"\\]/.test(out.middle))
                expect(bytesOf(out)).toBe(expected);
          } else {
            const service = { logName: l.service } as ServiceState;
            const client = { logName: l.client } as ClientState;
            const expected = replyText(l.service, l.client, l.uid, l.bytes, l.error);
            expect(replyLogLine(service, client, l.uid, l.bytes, l.error)).toBe(expected);
            if (replyLogLine.parts?.(out, service, client, l.uid, l.bytes, l.error))
              if (/^[\x20-\x7e]*$/.test(out.middle) && !/['"\\]/.test(out.middle))
                expect(bytesOf(out)).toBe(expected);
          }
        }
      }),
      { numRuns: 1000 },
    );
  });

  it("build the first line's text even when its names are empty (fast-check seed 996695658)", async () => {
    // The cache's state before any line must match no line: a fresh copy of the module, first line first.
    vi.resetModules();
    const fresh = await import('../../src/network/manager/forwarding-log-lines.js');
    const empty = { logName: '' };
    expect(fresh.replyLogLine(empty as ServiceState, empty as ClientState, '', 88, false)).toBe(
      replyText('', '', '', 88, false),
    );
    vi.resetModules();
    const again = await import('../../src/network/manager/forwarding-log-lines.js');
    const out: EncodedLineParts = { head: new Uint8Array(0), middle: '', tail: new Uint8Array(0) };
    expect(again.replyLogLine.parts?.(out, empty as ServiceState, empty as ClientState, 'u', 88, false)).toBe(
      true,
    );
    expect(Buffer.concat([out.head, Buffer.from(out.middle), out.tail]).toString()).toBe(
      replyText('', '', 'u', 88, false),
    );
  });

  it('never take the cached text of an attribute that was not a string (fast-check seed -1498704710)', () => {
    const client = { logName: 'a%' } as ClientState;
    requestLogLine('Client[vm:1]', undefined, 'u1', undefined, client);
    expect(requestLogLine('Client[vm:1]', '', 'u2', undefined, client)).toBe(
      "request Client[vm:1]. (uid 'u2') from a%",
    );
  });

  it('reach the file as their text, uids that need escapes included', async () => {
    const file = logFile();
    const log = new ManagerLog({ file, fileLevel: 'debug', level: 'silent' });
    chunkHook(log);
    const client = { logName: 'Client[vm:1]' } as ClientState;
    const service = { logName: "'Echo'" } as ServiceState;
    const uids = ['a1', "it's", 'tab\there', 'é', 'x'.repeat(3000)];
    const expected: string[] = [];
    for (let n = 0; n < 2000; n++) {
      const uid = uids[n % uids.length];
      log.debugFormat(requestLogLine, "'Echo'", 'echo', uid, 100 + (n % 3), client);
      expected.push(requestText("'Echo'", 'echo', uid, 100 + (n % 3), 'Client[vm:1]'));
      log.debugFormat(replyLogLine, service, client, uid, 90, n % 7 === 0);
      expected.push(replyText("'Echo'", 'Client[vm:1]', uid, 90, n % 7 === 0));
    }
    await log.close();
    expect(linesOf(file).map((line) => line.slice(33))).toEqual(expected);
  });
});
