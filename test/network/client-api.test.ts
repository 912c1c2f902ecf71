// The smaller parts of the Client API, against a real Manager.
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { AbortError, ConnectionTimeoutError } from '../../src/errors.js';
import type { Logger } from '../../src/log/logger.js';
import { callOptions } from '../../src/network/peers/call-arguments.js';
import { connect, filterClientConnectKwargs } from '../../src/network/peers/client.js';
import { Service } from '../../src/network/peers/service.js';
import { type Stage, stage } from './e2e-setup.js';

class Echo extends Service {
  echo(...args: unknown[]) {
    return args;
  }
}

// Answers `hold()` only when the test calls release(): no timing in the test.
class Gate extends Service {
  #waiting: Array<() => void> = [];
  hold(): Promise<string> {
    return new Promise((resolve) => this.#waiting.push(() => resolve('released')));
  }
  echo(...args: unknown[]) {
    return args;
  }
  get waiting(): number {
    return this.#waiting.length;
  }
  release(): void {
    for (const go of this.#waiting.splice(0)) go();
  }
}

let current: Stage | undefined;
afterEach(async () => {
  await current?.close();
  current = undefined;
});

describe('filterClientConnectKwargs', () => {
  it("keeps connect()'s options and maps the Manager's authPassword to passwordManager", () => {
    expect(
      filterClientConnectKwargs({ port: 1, host: 'h', authPassword: 'pw', logLevel: 'info', database: 'x' }),
    ).toEqual({
      port: 1,
      host: 'h',
      passwordManager: 'pw',
    });
  });
});

describe('connect()', () => {
  it('gives up with ConnectionTimeoutError when the Manager never speaks, and honours an AbortSignal', async () => {
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const address = silent.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    try {
      const timedOut = await connect({ host: '127.0.0.1', port, disableTls: true, timeout: 300 }).catch(
        (e: unknown) => e,
      );
      expect(timedOut).toBeInstanceOf(ConnectionTimeoutError);
      expect((timedOut as Error).message).toContain('within 300 ms');
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 100);
      const aborted = await connect({
        host: '127.0.0.1',
        port,
        disableTls: true,
        signal: controller.signal,
      }).catch((e: unknown) => e);
      expect(aborted).toBeInstanceOf(AbortError);
    } finally {
      silent.close();
    }
  });
});

describe('Client', () => {
  it('describes the network as text with identities({ asString: true })', async () => {
    current = await stage();
    await current.start(new Echo());
    const client = await current.connect({ name: 'Viewer' });
    const text = await client.identities({ asString: true, indent: 4 });
    expect(text).toContain(`Manager: ${client.managerName}`);
    expect(text).toMatch(/Clients \[1\]:\n {4}Viewer\[/);
    expect(text).toMatch(/Services \[1\]:\n {4}Echo\n {8}address: /);
    expect(text).toContain('            echo(*args)');
  });

  it('spawns a second connection with the same options', async () => {
    current = await stage();
    const client = await current.connect({ name: 'First' });
    const second = await client.spawn('Second');
    const names = Object.keys((await client.identities()).clients);
    expect(names.some((n) => n.startsWith('Second['))).toBe(true);
    await second.disconnect();
  });

  it('disconnects at the end of an `await using` block', async () => {
    current = await stage();
    let kept: Awaited<ReturnType<typeof connect>> | undefined;
    {
      await using client = await connect(current.reach);
      kept = client;
      expect(client.isConnected()).toBe(true);
    }
    expect(kept.isConnected()).toBe(false);
  });

  it('types a link after the Service class (checked by tsc), while any name still reaches the Service', async () => {
    current = await stage();
    await current.start(new Echo());
    const client = await current.connect();
    const typed = await client.link<Echo>('Echo');
    const reply: unknown[] = await typed.echo(1, 'a');
    expect(reply).toEqual([1, 'a']);
    // @ts-expect-error: Echo has no method 'nope', so the typed link has none either
    await expect(typed.nope()).rejects.toThrow("AttributeError: 'Echo' object has no attribute 'nope'");
    const untyped = await client.link('Echo');
    await expect(untyped.anything()).rejects.toThrow(/AttributeError/);
  });

  it("rejects a call whose signal aborts with the signal's reason, and that call alone", async () => {
    current = await stage();
    const gate = await current.start(new Gate());
    const client = await current.connect();
    const link = await client.link('Gate');
    const controller = new AbortController();
    const aborted = link.hold(callOptions({ signal: controller.signal }));
    const other = link.hold();
    while (gate.waiting < 2) await link.echo('sync'); // both requests have reached the Service
    const reason = new Error('the user pressed stop');
    controller.abort(reason);
    await expect(aborted).rejects.toBe(reason);
    gate.release(); // the aborted call's reply arrives late and is dropped
    await expect(other).resolves.toBe('released');
    await expect(link.echo(1)).resolves.toEqual([1]);
    // Aborted before it is sent: rejected at once; aborted after its reply: nothing happens.
    await expect(link.echo(2, callOptions({ signal: AbortSignal.abort(reason) }))).rejects.toBe(reason);
    const late = new AbortController();
    await expect(link.echo(3, callOptions({ signal: late.signal }))).resolves.toEqual([3]);
    late.abort(new Error('too late'));
    await expect(link.echo(4)).resolves.toEqual([4]);
  });

  it('sends uids made of a random prefix per connection and a counter, unique on the connection', async () => {
    current = await stage();
    await current.start(new Echo());
    const uidsOf = async (): Promise<string[]> => {
      const lines: string[] = [];
      const logger: Logger = { debug: (line) => lines.push(line), info() {}, warn() {}, error() {} };
      const client = await current?.connect({ logger });
      const link = await client?.link('Echo');
      await Promise.all(Array.from({ length: 50 }, (_, i) => link?.echo(i)));
      return lines.flatMap(
        (line) => /^farcall:network request \S+ \(uid ([^,]+),.* sent to/.exec(line)?.[1] ?? [],
      );
    };
    const first = await uidsOf();
    const second = await uidsOf();
    expect(first).toHaveLength(51); // link + 50 calls
    for (const uid of [...first, ...second]) expect(uid).toMatch(/^[0-9a-f]{8}[0-9a-z]+$/);
    expect(new Set(first).size).toBe(first.length);
    expect(first[1]).toBe(`${first[0].slice(0, 8)}1`);
    expect(first[0].slice(0, 8)).not.toBe(second[0].slice(0, 8));
  });

  it('unlinks, after which the link refuses calls', async () => {
    current = await stage();
    await current.start(new Echo());
    const client = await current.connect();
    const link = await client.link('Echo');
    await client.unlink(link);
    expect(link.isLinked).toBe(false);
    await expect(link.echo(1)).rejects.toThrow(/unlinked/);
    await expect((await client.link('Echo')).echo(2)).resolves.toEqual([2]);
  });
});
