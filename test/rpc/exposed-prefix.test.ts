// RPyC's exposed_ prefix over a real connection: prefixed data fields, and the mapping under allowAll.
import { describe, expect, test } from 'vitest';
import { AccessDeniedError } from '../../src/errors.js';
import { getValue } from '../../src/rpc/proxy.js';
import { serverAndClient } from './helpers.js';

class Service {
  exposed_rate = 44.1;
  exposed_channels = [1, 2];
  secret = 'hidden';
  _private = 'private';
  exposed_distance(a: number, b: number): number {
    return Math.abs(a - b);
  }
  plain(): string {
    return 'plain';
  }
}

type Untyped = Record<string, (...args: unknown[]) => Promise<unknown>> &
  Record<string, PromiseLike<unknown>>;

describe('exposedPrefix', () => {
  test('a prefixed data field reads by its short name without allowPublicAttrs', async () => {
    const { client } = await serverAndClient({ s: new Service() }, { policy: { exposedPrefix: 'exposed_' } });
    const s = client.get('s') as unknown as Untyped;
    expect(await s.rate).toBe(44.1);
    expect(await getValue((s as unknown as { channels: unknown }).channels)).toEqual([1, 2]);
    expect(await s.distance(2, 7)).toBe(5);
    await expect(s.secret).rejects.toThrow(/looked up as 'exposed_secret'/);
    await expect(s.plain()).rejects.toThrow(/looked up as 'exposed_plain'/);
  });

  test('allowAll keeps the mapping, and falls back to the plain name', async () => {
    const { client } = await serverAndClient(
      { s: new Service() },
      { policy: { exposedPrefix: 'exposed_', allowAll: true } },
    );
    const s = client.get('s') as unknown as Untyped;
    expect(await s.distance(2, 7)).toBe(5);
    expect(await s.rate).toBe(44.1);
    expect(await s.exposed_rate).toBe(44.1);
    expect(await s.plain()).toBe('plain');
    expect(await s.secret).toBe('hidden');
    expect(await s._private).toBe('private');
    await expect(s.constructor).rejects.toBeInstanceOf(AccessDeniedError);
  });
});
