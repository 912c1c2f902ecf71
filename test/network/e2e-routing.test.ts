// Client → Manager → Service over real sockets, with TLS off and on.
import { afterEach, describe, expect, it } from 'vitest';
import { MSLNetworkError, ResponseTimeoutError } from '../../src/errors.js';
import { callOptions, kwargs, splitKwargs } from '../../src/network/peers/call-arguments.js';
import { Service } from '../../src/network/peers/service.js';
import { type Stage, stage } from './e2e-setup.js';

class Echo extends Service {
  echo(...all: unknown[]) {
    return splitKwargs(all);
  }
  async sleep(ms: number, tag: string) {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return tag;
  }
  fail(text: string): never {
    throw new RangeError(text);
  }
  _hidden() {
    return 'secret';
  }
  #reallyHidden() {
    return 'secret';
  }
  touch() {
    return this.#reallyHidden().length;
  }
}

let current: Stage | undefined;
afterEach(async () => {
  await current?.close();
  current = undefined;
});

for (const tls of [false, true]) {
  describe(`Client → Manager → Service (TLS ${tls ? 'on' : 'off'})`, () => {
    it('calls a method with args and kwargs, NaN and Infinity included', async () => {
      current = await stage({ tls });
      await current.start(new Echo());
      const client = await current.connect({ name: 'Tester' });
      expect(client.tlsEnabled).toBe(tls);
      const echo = await client.link<Echo>('Echo');
      expect(await echo.echo(1, 'two', kwargs({ x: 3.5 }))).toEqual([[1, 'two'], { x: 3.5 }]);
      const [args] = await echo.echo(Number.NaN, Number.NEGATIVE_INFINITY);
      expect(args[0]).toBeNaN();
      expect(args[1]).toBe(Number.NEGATIVE_INFINITY);
      expect(echo.serviceAttributes).toEqual({
        echo: '(*all)',
        fail: '(text)',
        sleep: '(ms, tag)',
        touch: '()',
      });
      expect(echo.serviceLanguage).toMatch(/^Node\.js/);
    });

    it('keeps 2000 concurrent requests apart: every reply reaches its own request', async () => {
      current = await stage({ tls });
      await current.start(new Echo());
      const client = await current.connect();
      const echo = await client.link<Echo>('Echo');
      const replies = await Promise.all(Array.from({ length: 2000 }, (_, i) => echo.echo(i)));
      replies.forEach((reply, i) => {
        expect(reply).toEqual([[i], {}]);
      });
    });

    it('runs async methods concurrently: replies go out as they complete', async () => {
      current = await stage({ tls });
      await current.start(new Echo());
      const client = await current.connect();
      const echo = await client.link<Echo>('Echo');
      const order: string[] = [];
      const started = Date.now();
      await Promise.all([
        echo.sleep(300, 'slow').then((v) => order.push(v)),
        echo.sleep(10, 'fast').then((v) => order.push(v)),
      ]);
      expect(order).toEqual(['fast', 'slow']);
      expect(Date.now() - started).toBeLessThan(600);
    });
  });
}

describe('errors from a Service', () => {
  it('rejects with MSLNetworkError carrying "Name: text" and the remote traceback', async () => {
    current = await stage();
    await current.start(new Echo());
    const client = await current.connect();
    const echo = await client.link<Echo>('Echo');
    const error = (await echo.fail('out of range').catch((e: unknown) => e)) as MSLNetworkError;
    expect(error).toBeInstanceOf(MSLNetworkError);
    expect(error.message).toBe('RangeError: out of range');
    expect(error.traceback.join('\n')).toContain('fail');
  });

  it('refuses _private, #private, constructor and Object.prototype members', async () => {
    current = await stage();
    await current.start(new Echo());
    const client = await current.connect();
    const echo = await client.link('Echo');
    await expect(echo._hidden()).rejects.toThrow('PermissionError: Cannot request a private attribute');
    for (const name of [
      '#reallyHidden',
      'reallyHidden',
      'constructor',
      'toString',
      '__proto__',
      'hasOwnProperty',
      'start',
      'emitNotification',
      'disconnect',
    ]) {
      await expect(echo.request(name)).rejects.toThrow(/AttributeError|PermissionError/);
    }
    expect(await echo.touch()).toBe(6);
  });

  it('answers with a method replaced or shadowed while it runs (a method is found once, then checked)', async () => {
    current = await stage();
    class Swappable extends Service {
      read() {
        return 'class';
      }
    }
    const service = await current.start(new Swappable());
    const client = await current.connect();
    const link = await client.link('Swappable');
    expect(await link.read()).toBe('class');
    expect(await link.read()).toBe('class');
    // An own member in its place, then removed again.
    Object.defineProperty(service, 'read', { value: () => 'own', configurable: true });
    expect(await link.read()).toBe('own');
    delete (service as { read?: unknown }).read;
    expect(await link.read()).toBe('class');
    // The class's method replaced.
    Swappable.prototype.read = () => 'replaced';
    expect(await link.read()).toBe('replaced');
    // A private name stays refused however often it is asked for.
    await expect(link.request('_read')).rejects.toThrow('PermissionError');
    await expect(link.request('_read')).rejects.toThrow('PermissionError');
  });

  it('times out a slow call with ResponseTimeoutError and stays usable', async () => {
    current = await stage();
    await current.start(new Echo());
    const client = await current.connect();
    const echo = await client.link<Echo>('Echo');
    const error = await echo.sleep(500, 'late', callOptions({ timeout: 50 })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ResponseTimeoutError);
    expect((error as ResponseTimeoutError).timeoutMs).toBe(50);
    expect(await echo.echo('still here')).toEqual([['still here'], {}]);
  });

  it('expires a short deadline sent after long ones on time, and answers the long ones', async () => {
    current = await stage();
    await current.start(new Echo());
    const client = await current.connect();
    const echo = await client.link<Echo>('Echo');
    // The one timer of the table is armed for the long deadlines first and must re-arm for the short one.
    const long = [
      echo.sleep(400, 'a', callOptions({ timeout: 20_000 })),
      echo.sleep(400, 'b', callOptions({ timeout: 20_000 })),
    ];
    const short = echo.sleep(5_000, 'late', callOptions({ timeout: 100 })).catch((e: unknown) => e);
    const error = await short;
    expect(error).toBeInstanceOf(ResponseTimeoutError);
    expect(await Promise.all(long)).toEqual(['a', 'b']);
  });

  it('gathers a burst written in one tick, a line over 1 MiB and non-ASCII text included, in order', async () => {
    current = await stage();
    await current.start(new Echo());
    const client = await current.connect();
    const echo = await client.link<Echo>('Echo');
    const big = 'é'.repeat(600_000); // 1.2 MB as UTF-8, over the 1 MiB a tick gathers
    const sent = Array.from({ length: 500 }, (_, i) => (i === 250 ? big : `ünï ${i} ☃`));
    const replies = await Promise.all(sent.map((text) => echo.echo(text)));
    expect(replies.map((reply) => reply[0][0])).toEqual(sent);
  });
});
