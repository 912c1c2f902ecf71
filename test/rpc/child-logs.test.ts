// Structured logs across processes (pyacq's log server): a ProcessSpawner child's childLogger() records reach
// the parent's onLog as records, from the child's first line on, bounded in size and rate. Real children.
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { ProcessStartError } from '../../src/errors.js';
import { MAX_LOG_RECORD_BYTES } from '../../src/rpc/child-log.js';
import type { UntypedRemote } from '../../src/rpc/proxy.js';
import { ProcessSpawner, type ProcessSpawnerOptions } from '../../src/rpc/spawner.js';
import type { ChildLogRecord } from '../../src/rpc/spawner-logs.js';
import { onCleanup } from './helpers.js';

const fixture = fileURLToPath(new URL('./fixtures/spawner-logger.mjs', import.meta.url));

async function spawnLogger(options: Partial<ProcessSpawnerOptions> = {}) {
  const records: ChildLogRecord[] = [];
  /** When each record reached onLog (this process's clock). */
  const arrivals: number[] = [];
  const child = await ProcessSpawner.spawn({
    module: fixture,
    name: 'logger',
    stdout: null,
    stderr: null,
    onLog: (record) => {
      records.push(record);
      arrivals.push(performance.now());
    },
    ...options,
  });
  onCleanup(() => child.kill().then(() => undefined));
  return { child, records, arrivals, logs: child.get('logs') as UntypedRemote };
}

/** Polls `condition` every 10 ms, at most 10 s (records cross a pipe; a loaded machine is slow). */
async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
}

function collector(): PassThrough & { text(): string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  return Object.assign(stream, { text: () => text });
}

describe('child logs reach the parent as records', () => {
  test('records logged while the module loads, before the connection is up, arrive with pid, name and time', async () => {
    const before = Date.now();
    const { child, records } = await spawnLogger({ args: ['a1'] });
    await until(() => records.length >= 2);
    const after = Date.now();
    expect(records.slice(0, 2)).toMatchObject([
      { level: 'info', source: 'loader', message: 'module loading', fields: { step: 1 } },
      { level: 'warn', source: 'logger', message: 'setup runs', fields: { args: ['a1'] } },
    ]);
    for (const record of records) {
      expect(record.pid).toBe(child.pid);
      expect(record.name).toBe('logger');
      expect(record.time).toBeGreaterThanOrEqual(before - 1000);
      expect(record.time).toBeLessThanOrEqual(after + 1000);
    }
  });

  test('every level, fields as JSON values, a bigint as a string, a cycle as a note', async () => {
    const { records, logs } = await spawnLogger();
    await until(() => records.length >= 2);
    for (const level of ['debug', 'info', 'warn', 'error']) await logs.log(level, `at ${level}`, { level });
    await logs.odd();
    await until(() => records.length >= 8);
    expect(records.slice(2, 6).map((r) => [r.level, r.source, r.message, r.fields])).toEqual(
      ['debug', 'info', 'warn', 'error'].map((level) => [level, 'remote', `at ${level}`, { level }]),
    );
    expect(records[6]).toMatchObject({ message: 'a bigint', fields: { n: '10', nested: { list: [1, 2] } } });
    expect(records[7].message).toBe('a cycle');
    expect(records[7].fields).toEqual({ unserializable: expect.stringMatching(/circular/i) });
  });

  test('what the child logs while it stops has reached onLog when stop() resolves', async () => {
    const { child, records } = await spawnLogger();
    expect(await child.stop()).toEqual({ code: 0, signal: null });
    expect(records.at(-1)).toMatchObject({ source: 'loader', message: 'cleanup runs' });
  });

  test('without onLog, records are printed on stderr with the child name', async () => {
    const stderr = collector();
    const child = await ProcessSpawner.spawn({ module: fixture, name: 'quiet', stdout: null, stderr });
    onCleanup(() => child.kill().then(() => undefined));
    await until(() => stderr.text().includes('setup runs'));
    expect(stderr.text()).toContain('[quiet] info loader: module loading {"step":1}\n');
    expect(stderr.text()).toContain('[quiet] warn quiet: setup runs {"args":[]}\n');
  });

  test('a child that fails in setup: what it logged before reaches onLog, and spawn rejects', async () => {
    const records: ChildLogRecord[] = [];
    const error = await ProcessSpawner.spawn({
      module: fixture,
      args: ['throw'],
      stdout: null,
      stderr: null,
      onLog: (record) => records.push(record),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProcessStartError);
    await until(() => records.some((r) => r.message === 'about to fail'));
    expect(records.map((r) => r.message)).toEqual(['module loading', 'setup runs', 'about to fail']);
    expect(records[2].level).toBe('error');
  });

  test('an onLog that throws is reported on stderr and the next records still come', async () => {
    const stderr = collector();
    const seen: string[] = [];
    const child = await ProcessSpawner.spawn({
      module: fixture,
      stdout: null,
      stderr,
      onLog: (record) => {
        seen.push(record.message);
        if (record.message === 'module loading') throw new Error('the handler broke');
      },
    });
    onCleanup(() => child.kill().then(() => undefined));
    await until(() => seen.length >= 2);
    expect(seen).toEqual(['module loading', 'setup runs']);
    expect(stderr.text()).toContain('onLog threw on a log record: the handler broke');
  });
});

describe('child logs are bounded', () => {
  test('a flooding child drops beyond its queue, counts exactly what it dropped, and keeps serving', async () => {
    const { records, logs } = await spawnLogger();
    const count = 5000;
    expect(await logs.flood(count, 8000)).toBe(count);
    expect(await logs.add(1, 2)).toBe(3); // the child still answers
    await until(() => records.some((r) => r.source === 'farcall'));
    const flood = () => records.filter((r) => r.fields !== undefined && typeof r.fields.i === 'number');
    const note = records.find((r) => r.source === 'farcall') as ChildLogRecord;
    expect(note.level).toBe('warn');
    expect(note.message).toMatch(/dropped in the child/);
    const dropped = note.fields?.dropped as number;
    expect(dropped).toBeGreaterThan(0);
    // Every record not dropped arrives, in order: what the child counted plus what came is what it logged.
    await until(() => flood().length + dropped >= count);
    expect(flood().length + dropped).toBe(count);
    const indices = flood().map((r) => r.fields?.i as number);
    expect(indices).toEqual([...indices].sort((a, b) => a - b));
    // The queue holds at most 1 MiB: about 130 records of 8 kB, plus what the pipe held.
    expect(flood().length).toBeLessThan(count / 2);
  });

  test('the parent takes at most maxLogRate records a second; the rest wait, none is lost', async () => {
    const { records, arrivals, logs } = await spawnLogger({ maxLogRate: 50 });
    await logs.burst(150);
    for (let i = 0; i < 1000 && records.length < 152; i++) await new Promise((r) => setTimeout(r, 10));
    expect(records.slice(2).map((record) => record.fields?.i)).toEqual([...Array(150).keys()]);
    // 152 records at 50 a second after a burst of 50: two seconds at least from the first to the last.
    // (A lower bound: a loaded machine only makes it longer.)
    expect(arrivals[151] - arrivals[0]).toBeGreaterThanOrEqual(1900);
  });

  test('a __proto__ key in the fields a child sends is left out', async () => {
    const { records, logs } = await spawnLogger();
    await logs.raw('{"level":"info","message":"sneaky","fields":{"a":1,"__proto__":{"polluted":true}}}\n');
    await until(() => records.some((r) => r.message === 'sneaky'));
    const fields = records.find((r) => r.message === 'sneaky')?.fields as Record<string, unknown>;
    expect(Object.keys(fields)).toEqual(['a']);
    expect(Object.hasOwn(fields, '__proto__')).toBe(false);
    expect(Object.assign({}, fields).polluted).toBeUndefined();
  });

  test(`a record longer than ${MAX_LOG_RECORD_BYTES} bytes is cut, and says so`, async () => {
    const { records, logs } = await spawnLogger();
    await logs.big(100_000);
    await until(() => records.some((r) => r.truncated));
    const cut = records.find((r) => r.truncated) as ChildLogRecord;
    expect(cut.message.startsWith('yyyy')).toBe(true);
    expect(cut.message.length).toBeLessThan(MAX_LOG_RECORD_BYTES);
    expect(cut.fields).toBeUndefined();
  });

  test('lines on the log pipe that are not records are dropped and reported; the next records come', async () => {
    const { records, logs } = await spawnLogger();
    await until(() => records.length >= 2);
    await logs.raw('not json\n');
    await logs.raw('[1,2,3]\n');
    await logs.raw(`${'z'.repeat(MAX_LOG_RECORD_BYTES + 100)}`);
    await logs.raw('still the long line\n');
    await logs.log('info', 'after the garbage');
    await until(() => records.some((r) => r.message === 'after the garbage'));
    const notes = records.filter((r) => r.source === 'farcall');
    expect(notes.reduce((sum, note) => sum + (note.fields?.rejected as number), 0)).toBe(3);
    for (const note of notes) expect(note.message).toMatch(/not a log record/);
    expect(records.filter((r) => r.source !== 'farcall').map((r) => r.message)).toEqual([
      'module loading',
      'setup runs',
      'after the garbage',
    ]);
  });
});
