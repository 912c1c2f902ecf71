import { describe, expect, it } from 'vitest';
import { LOGIN_LIMITS, LoginThrottle } from '../../src/network/manager/login-throttle.js';

function clocked() {
  let now = 1_000_000;
  const throttle = new LoginThrottle({}, () => now);
  return { throttle, advance: (ms: number) => (now += ms) };
}

describe('LoginThrottle', () => {
  it('locks an address out after 5 failures for 1 s, doubling up to 60 s, and forgets after 15 min', () => {
    const { throttle, advance } = clocked();
    for (let i = 0; i < LOGIN_LIMITS.sourceFreeFailures; i++) throttle.failed('10.0.0.1');
    expect(throttle.sourceLockedFor('10.0.0.1')).toBe(0);
    const locks: number[] = [];
    for (let i = 0; i < 10; i++) {
      throttle.failed('10.0.0.1');
      locks.push(throttle.sourceLockedFor('10.0.0.1'));
    }
    expect(locks).toEqual([1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000, 60_000, 60_000]);
    expect(throttle.sourceLockedFor('10.0.0.2')).toBe(0);
    advance(60_000);
    expect(throttle.sourceLockedFor('10.0.0.1')).toBe(0);
    advance(15 * 60_000);
    throttle.failed('10.0.0.1');
    expect(throttle.sourceLockedFor('10.0.0.1')).toBe(0);
  });

  it('locks an account only against the addresses that failed on it, at most 30 s', () => {
    const { throttle } = clocked();
    for (let i = 0; i < 40; i++) throttle.failed(`10.0.1.${i}`, 'admin');
    expect(throttle.accountLockedFor('admin', '10.0.1.3')).toBe(30_000);
    expect(throttle.accountLockedFor('admin', '10.0.9.9')).toBe(0);
    expect(throttle.accountLockedFor('bob', '10.0.1.3')).toBe(0);
  });

  it('a success forgets the address, not the account', () => {
    const { throttle } = clocked();
    for (let i = 0; i < 12; i++) throttle.failed('10.0.0.1', 'admin');
    throttle.succeeded('10.0.0.1');
    expect(throttle.sourceLockedFor('10.0.0.1')).toBe(0);
    expect(throttle.accountLockedFor('admin', '10.0.0.1')).toBeGreaterThan(0);
  });

  it('runs one check at a time per address, and checks of other addresses beside them', async () => {
    const throttle = new LoginThrottle();
    const order: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const first = throttle.oneAtATime('a', async () => {
      order.push('a1 start');
      await gate;
      order.push('a1 end');
    });
    const second = throttle.oneAtATime('a', async () => {
      order.push('a2');
    });
    await throttle.oneAtATime('b', async () => {
      order.push('b');
    });
    release();
    await Promise.all([first, second]);
    expect(order).toEqual(['a1 start', 'b', 'a1 end', 'a2']);
  });

  it('remembers at most maxEntries addresses', () => {
    const throttle = new LoginThrottle({ maxEntries: 100, sourceFreeFailures: 0 });
    for (let i = 0; i < 1000; i++) throttle.failed(`10.1.${i >> 8}.${i & 255}`);
    expect(throttle.sourceLockedFor('10.1.0.0')).toBe(0);
    expect(throttle.sourceLockedFor(`10.1.3.231`)).toBeGreaterThan(0);
  });
});
