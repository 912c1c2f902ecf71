// Remote construction (pyacq's class_proxy, RPyC's root.MyClass('a', 'b')) over a real connection.
import { describe, expect, test } from 'vitest';
import { AccessDeniedError } from '../../src/errors.js';
import { constructible } from '../../src/rpc/exposure.js';
import { isProxy, type Remote } from '../../src/rpc/proxy.js';
import { serverAndClient } from './helpers.js';

class Point {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}
  norm(): number {
    return Math.hypot(this.x, this.y);
  }
}
class Hidden {
  hi(): string {
    return 'hi';
  }
}
const made: Point[] = [];
class Tracked extends Point {
  constructor(x: number, y: number) {
    super(x, y);
    made.push(this);
  }
}

describe('remote construction', () => {
  test('new on a published class returns a proxy of the new instance', async () => {
    const { client } = await serverAndClient({ Point, Tracked });
    const RemotePoint = client.get<typeof Point>('Point');
    const point = await new RemotePoint(3, 4);
    expect(isProxy(point)).toBe(true);
    expect(await point.norm()).toBe(5);
    const tracked = await new (client.get<typeof Tracked>('Tracked'))(6, 8);
    expect(await tracked.norm()).toBe(10);
    expect(made).toHaveLength(1); // constructed once, on the server
  });

  test('a class reached through a member needs constructible()', async () => {
    const lab = { Point: constructible(Point), Hidden };
    const { client } = await serverAndClient({ lab }, { policy: { allowPublicAttrs: true } });
    const remote = client.get<typeof lab>('lab');
    expect(await (await new remote.Point(5, 12)).norm()).toBe(13);
    const error = await Promise.resolve()
      .then(() => new remote.Hidden())
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AccessDeniedError);
    expect((error as Error).message).toMatch(/constructible\(\)/);
  });

  test('built-in constructors and code evaluators are never constructed', async () => {
    const { client } = await serverAndClient({
      Map,
      Function,
      Buffer,
      lab: { F: constructible(Function as never) },
    });
    for (const name of ['Map', 'Function', 'Buffer']) {
      const Remote = client.get(name) as unknown as new () => Promise<unknown>;
      await expect(new Remote()).rejects.toBeInstanceOf(AccessDeniedError);
    }
    const lab = client.get('lab') as unknown as { F: new (code: string) => Promise<Remote> };
    await expect(new lab.F('return process')).rejects.toBeInstanceOf(AccessDeniedError);
  });

  test('a method or an object is not a class', async () => {
    const { client } = await serverAndClient({ p: new Point(1, 1), Point });
    const p = client.get('p') as unknown as new () => Promise<unknown> & { norm: new () => Promise<unknown> };
    await expect(new p()).rejects.toThrow(/not a class/);
  });
});
