// for await over remote iterables and async generators, with flow control and release on break.
import { Readable } from 'node:stream';
import { describe, expect, test } from 'vitest';
import { AccessDeniedError, RemoteError } from '../../src/errors.js';
import { DEFAULT_ITERATION_WINDOW } from '../../src/rpc/iteration-session.js';
import { serverAndClient, until } from './helpers.js';

class Point {
  constructor(readonly x: number) {}
  double(): number {
    return this.x * 2;
  }
}

class Source {
  produced = 0;
  finallyRan = false;
  async *items(count: number): AsyncGenerator<number> {
    for (let i = 0; i < count; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      yield i;
    }
  }
  *endless(): Generator<number> {
    try {
      for (let i = 0; ; i++) {
        this.produced++;
        yield i;
      }
    } finally {
      this.finallyRan = true;
    }
  }
  *points(): Generator<Point> {
    yield new Point(1);
    yield new Point(2);
  }
  async *failing(): AsyncGenerator<number> {
    yield 1;
    throw new RangeError('sensor unplugged');
  }
  range(): Iterable<number> {
    return new Range(3);
  }
  stream(): NodeJS.ReadableStream {
    return Readable.from(['a', 'b']);
  }
}

class Range {
  constructor(readonly n: number) {}
  *[Symbol.iterator](): Generator<number> {
    for (let i = 0; i < this.n; i++) yield i * 10;
  }
}

async function source() {
  const target = new Source();
  const { client, server } = await serverAndClient({ source: target });
  return { target, remote: client.get<Source>('source'), server };
}

describe('remote async iteration', () => {
  test('for await over a remote async generator yields its items in order', async () => {
    const { remote } = await source();
    const seen: number[] = [];
    for await (const x of remote.items(40)) seen.push(x);
    expect(seen).toEqual(Array.from({ length: 40 }, (_, i) => i));
  });

  test('a remote iterable class instance is iterated where it lives', async () => {
    const { remote } = await source();
    const seen: number[] = [];
    for await (const x of remote.range()) seen.push(x);
    expect(seen).toEqual([0, 10, 20]);
    const proxy = await remote.range();
    const again: number[] = [];
    for await (const x of proxy) again.push(x as number);
    expect(again).toEqual([0, 10, 20]);
  });

  test('the owner runs at most a window ahead of the consumer', async () => {
    const { remote, target } = await source();
    for await (const x of remote.endless()) {
      expect(x).toBe(0);
      // the consumer holds the loop: give the owner every chance to run away
      await new Promise((resolve) => setTimeout(resolve, 200));
      break;
    }
    // one batch delivered (at most a window) and at most a window pulled after it
    expect(target.produced).toBeGreaterThan(1);
    expect(target.produced).toBeLessThanOrEqual(2 * DEFAULT_ITERATION_WINDOW + 1);
  });

  test("break runs the generator's return() on the owner before the loop ends", async () => {
    const { remote, target } = await source();
    let count = 0;
    for await (const _ of remote.endless()) if (++count === 3) break;
    expect(target.finallyRan).toBe(true);
  });

  test('class instances yielded arrive as proxies', async () => {
    const { remote } = await source();
    const doubled: number[] = [];
    for await (const point of remote.points()) doubled.push(await point.double());
    expect(doubled).toEqual([2, 4]);
  });

  test('an error thrown by the generator rejects the loop after the items before it', async () => {
    const { remote } = await source();
    const seen: number[] = [];
    const error = await (async () => {
      for await (const x of remote.failing()) seen.push(x);
    })().catch((e: unknown) => e);
    expect(seen).toEqual([1]);
    expect(error).toBeInstanceOf(RemoteError);
    expect((error as RemoteError).remoteName).toBe('RangeError');
  });

  test("a built-in's iterator (a stream) needs allowBuiltinMethods", async () => {
    const { remote } = await source();
    const error = await (async () => {
      for await (const _ of remote.stream() as unknown as AsyncIterable<unknown>) {
      }
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AccessDeniedError);
  });

  test('a client that leaves mid-iteration stops the generator on the owner', async () => {
    const { remote, target, server } = await source();
    const iterator = remote.endless()[Symbol.asyncIterator]();
    await iterator.next();
    const [connection] = server.connections;
    await connection.close();
    await until(() => target.finallyRan);
    expect(target.finallyRan).toBe(true);
  });
});
