// Our Service against a scripted Manager that plays the Manager's side of the msl-network captures:
// the Service must answer with the lines the Python Service wrote (modulo host names, ports, language,
// os; a farcall Service advertises its own methods and adds a stack trace to errors it raises).
import { afterEach, describe, expect, it } from 'vitest';
import { kwargs, splitKwargs } from '../../src/network/peers/call-arguments.js';
import { Service } from '../../src/network/peers/service.js';
import { parseJson, stringifyJson } from '../../src/network/protocol/json.js';
import { readCapture, ScriptedManager } from './scripted-peer.js';

class ValueError extends Error {
  override name = 'ValueError';
}

class Echo extends Service {
  echo(...all: unknown[]) {
    return splitKwargs(all);
  }
}

class Notifier extends Service {
  constructor() {
    super({ maxClients: 2 });
  }
  fail(): never {
    throw new ValueError('intentional failure');
  }
  ping(n = 1) {
    this.emitNotification('hello', kwargs({ n }));
    return true;
  }
  shutdownService() {
    return 'bye';
  }
}

// Identity attributes and error stack traces legitimately differ from Python's; everything else must not.
function withoutLanguageSpecifics(line: string): string {
  const value = parseJson(line) as Record<string, unknown>;
  if (value && typeof value === 'object') {
    delete value.traceback;
    const result = value.result as Record<string, unknown> | null;
    if (result && typeof result === 'object' && !Array.isArray(result)) delete result.attributes;
  }
  return stringifyJson(value);
}
const sameModuloLanguage = (expected: string, actual: string) =>
  withoutLanguageSpecifics(expected) === withoutLanguageSpecifics(actual);

let peer: ScriptedManager | undefined;
const services: Service[] = [];
afterEach(async () => {
  for (const s of services.splice(0)) await s.disconnect();
  await peer?.close();
  peer = undefined;
});

async function play(capture: string, conn: string, service: Service, options: Record<string, unknown> = {}) {
  peer = new ScriptedManager(readCapture(capture, conn), sameModuloLanguage);
  await peer.listen();
  services.push(service);
  await service.start({ host: '127.0.0.1', port: peer.port, disableTls: true, ...options });
  await peer.done;
  return peer;
}

describe('Service replaying capture A', () => {
  it('Echo answers echo, refuses private and unknown attributes, with the Python error texts', async () => {
    const echo = new Echo();
    const manager = await play('A', 'c1', echo);
    expect(manager.mismatches).toEqual([]);
    const identity = JSON.parse(manager.received[0]).result;
    expect(identity).toMatchObject({
      type: 'service',
      name: 'Echo',
      max_clients: -1,
      attributes: { echo: '(*all)' },
    });
    expect(identity.language).toMatch(/^Node\.js \d/);
    await echo.closed;
    expect(echo.isRunning).toBe(false);
  });

  it('Notifier emits a notification before its reply, fails with a traceback, and leaves after shutdown_service', async () => {
    const notifier = new Notifier();
    const manager = await play('A', 'c2', notifier);
    expect(manager.mismatches).toEqual([]);
    const identity = JSON.parse(manager.received[0]).result;
    expect(identity.attributes).toEqual({ fail: '()', ping: '(n=1)', shutdown_service: '()' });
    expect(identity.max_clients).toBe(2);
    const failure = manager.received.map((l) => JSON.parse(l)).find((m) => m.error === true);
    expect(failure.message).toBe('ValueError: intentional failure');
    expect(failure.traceback[0]).toBe('ValueError: intentional failure');
    expect(failure.traceback.length).toBeGreaterThan(1);
    await notifier.closed;
  });
});

describe('Service replaying capture C (manager password, terminal requests)', () => {
  it('answers the Manager password and requests with uid "" from a terminal', async () => {
    const manager = await play('C', 'c1', new Echo(), { passwordManager: 'abc 123' });
    expect(manager.mismatches).toEqual([]);
    expect(manager.received[0]).toBe(
      '{"error": false, "requester": "Manager[vm:18757]", "result": "abc 123", "uid": ""}',
    );
  });
});

describe('Service replaying capture E (NaN, Infinity)', () => {
  it('echoes NaN and Infinity as Python writes them', async () => {
    const manager = await play('E', 'c1', new Echo({ maxClients: 1 }));
    expect(manager.mismatches).toEqual([]);
    expect(manager.received).toContain(
      '{"error": false, "requester": "Q[vm:36822]", "result": [[NaN, Infinity], {}], "uid": "5c3284a0-8bcb-4a9e-b0d8-d17d0552946d"}',
    );
  });
});
